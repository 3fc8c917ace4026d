//! Round trips, corruption and retention of tbseg's own checkpoints.

#[path = "common/error_chain.rs"]
mod error_chain;
use error_chain::error_chain;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use tbseg::checkpoint::{
    data_path, index_path, latest_checkpoint, BundleReader, BundleWriter, CheckpointError,
    CheckpointState, DType, Saver, TensorData, STALE_TEMP_AGE,
};

fn every_dtype() -> BTreeMap<String, TensorData> {
    let mut tensors = BTreeMap::new();
    let mut add = |name: &str, tensor| {
        tensors.insert(name.to_owned(), tensor);
    };
    add(
        "f32",
        TensorData::from_f32(
            [2, 3],
            &[0.0, -1.5, 2.25, f32::MAX, f32::MIN_POSITIVE, -0.0],
        )
        .unwrap(),
    );
    add(
        "f64",
        TensorData::from_f64([3], &[std::f64::consts::PI, -1e300, 5e-324]).unwrap(),
    );
    add(
        "i32",
        TensorData::from_i32([2, 2], &[i32::MIN, -1, 0, i32::MAX]).unwrap(),
    );
    add(
        "i64",
        TensorData::from_i64([2], &[i64::MIN, i64::MAX]).unwrap(),
    );
    add(
        "u8",
        TensorData::from_u8([1, 4], &[0, 1, 128, 255]).unwrap(),
    );
    add("bool", TensorData::from_bool([2], &[false, true]).unwrap());
    add("global_step", TensorData::scalar_i64(1234));
    add("empty", TensorData::from_f32([0, 5], &[]).unwrap());
    add("scalar_f32", TensorData::scalar_f32(0.1));
    add("nested/name with spaces/ü", TensorData::scalar_bool(true));
    tensors
}

fn save_one(dir: &Path, tensors: &BTreeMap<String, TensorData>) -> PathBuf {
    let mut writer = BundleWriter::create(dir.join("ckpt-1")).unwrap();
    // Insertion order differs from key order on purpose.
    for (name, tensor) in tensors.iter().rev() {
        writer.add(name, tensor).unwrap();
    }
    writer.finish().unwrap()
}

#[test]
fn every_dtype_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let tensors = every_dtype();
    let prefix = save_one(dir.path(), &tensors);
    let reader = BundleReader::open(&prefix).unwrap();
    let names: Vec<_> = reader.names().map(str::to_owned).collect();
    assert_eq!(
        names,
        tensors.keys().cloned().collect::<Vec<_>>(),
        "bytewise key order"
    );
    for (name, tensor) in &tensors {
        assert_eq!(&reader.get(name).unwrap(), tensor, "{name}");
    }
    assert_eq!(reader.unsupported().count(), 0);
    // Data are in add order, back to back, without padding.
    let data_len = fs::metadata(data_path(&prefix, 0, 1)).unwrap().len();
    let total: usize = tensors.values().map(|t| t.bytes().len()).sum();
    assert_eq!(data_len, total as u64);
    assert_eq!(
        reader.info("u8").unwrap().offset,
        0,
        "the last key was added first"
    );
    assert!(reader.info("bool").unwrap().offset > 0);
    // Only the final files remain.
    let mut files: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    files.sort();
    assert_eq!(files, ["ckpt-1.data-00000-of-00001", "ckpt-1.index"]);
}

#[test]
fn many_tensors_span_several_index_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let tensors: BTreeMap<String, TensorData> = (0..6000)
        .map(|i| {
            (
                format!("layer_{i:05}/a/rather/long/variable/name/kernel"),
                TensorData::scalar_i32(i),
            )
        })
        .collect();
    let prefix = save_one(dir.path(), &tensors);
    assert!(fs::metadata(index_path(&prefix)).unwrap().len() > 300 * 1024);
    let reader = BundleReader::open(&prefix).unwrap();
    assert_eq!(reader.entries().len(), 6000);
    assert_eq!(
        reader
            .get("layer_04321/a/rather/long/variable/name/kernel")
            .unwrap()
            .to_i32()
            .unwrap(),
        [4321]
    );
}

#[test]
fn writer_rejects_duplicates_and_the_empty_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = BundleWriter::create(dir.path().join("x")).unwrap();
    writer.add("a", &TensorData::scalar_f32(1.0)).unwrap();
    let err = writer.add("a", &TensorData::scalar_f32(2.0)).unwrap_err();
    assert!(
        matches!(err, CheckpointError::DuplicateTensor { .. }),
        "{err}"
    );
    assert!(matches!(
        writer.add("", &TensorData::scalar_f32(2.0)),
        Err(CheckpointError::EmptyName { .. })
    ));
    drop(writer);
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        0,
        "an abandoned writer cleans up"
    );
}

#[test]
fn missing_tensor_and_wrong_dtype() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = save_one(dir.path(), &every_dtype());
    let reader = BundleReader::open(&prefix).unwrap();
    let err = reader.get("nope").unwrap_err().to_string();
    assert!(
        err.ends_with("ckpt-1.index: no tensor named \"nope\""),
        "{err}"
    );
    let err = reader.get("f32").unwrap().to_i64().unwrap_err();
    assert_eq!(err.to_string(), "tensor is DT_FLOAT, not DT_INT64");
    let err = BundleReader::open(dir.path().join("absent"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("reading ") && err.contains("absent.index"),
        "{err}"
    );
}

/// Flips one bit at `at` (negative: from the end) of `path`.
fn flip(path: &Path, at: i64) {
    let mut bytes = fs::read(path).unwrap();
    let at = if at < 0 { bytes.len() as i64 + at } else { at } as usize;
    bytes[at] ^= 0x10;
    fs::write(path, bytes).unwrap();
}

fn corrupted_index_error(at: i64) -> String {
    let dir = tempfile::tempdir().unwrap();
    let prefix = save_one(dir.path(), &every_dtype());
    flip(&index_path(&prefix), at);
    error_chain(&BundleReader::open(&prefix).unwrap_err())
}

#[test]
fn flipped_byte_in_the_index_data_block() {
    let err = corrupted_index_error(3);
    assert!(
        err.contains("ckpt-1.index: block checksum mismatch in the block at offset 0"),
        "{err}"
    );
}

#[test]
fn flipped_byte_in_the_footer_magic() {
    let err = corrupted_index_error(-1);
    assert!(
        err.contains("ckpt-1.index: not a checkpoint index (bad magic number): expected 0xdb4775248b80fb57, got 0xcb4775248b80fb57"),
        "{err}"
    );
}

#[test]
fn flipped_byte_in_the_index_block() {
    // The index block's last content byte sits before its 5-byte trailer
    // and the 48-byte footer.
    let err = corrupted_index_error(-(48 + 5 + 1));
    assert!(
        err.contains("ckpt-1.index: block checksum mismatch"),
        "{err}"
    );
    assert!(
        !err.contains("offset 0:"),
        "the index block is not the first: {err}"
    );
}

#[test]
fn flipped_byte_in_the_data_file_names_file_and_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let tensors = every_dtype();
    let prefix = save_one(dir.path(), &tensors);
    let reader = BundleReader::open(&prefix).unwrap();
    let offset = reader.info("i64").unwrap().offset;
    flip(&data_path(&prefix, 0, 1), offset as i64 + 3);
    let err = reader.get("i64").unwrap_err();
    assert!(matches!(err, CheckpointError::TensorChecksum { .. }));
    let err = err.to_string();
    assert!(
        err.contains(
            "ckpt-1.data-00000-of-00001: tensor \"i64\" checksum mismatch: the index says 0x"
        ),
        "{err}"
    );
    // The other tensors are still fine.
    assert_eq!(reader.get("f32").unwrap(), tensors["f32"]);
}

#[test]
fn truncated_files() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = save_one(dir.path(), &every_dtype());
    let reader = BundleReader::open(&prefix).unwrap();

    let data = data_path(&prefix, 0, 1);
    let len = fs::metadata(&data).unwrap().len();
    fs::File::options()
        .write(true)
        .open(&data)
        .unwrap()
        .set_len(len - 1)
        .unwrap();
    // Tensors are laid out in add order (reverse key order): "bool" is last.
    let last = reader
        .entries()
        .iter()
        .max_by_key(|info| info.offset + info.size)
        .unwrap()
        .name
        .clone();
    let err = reader.get(&last).unwrap_err().to_string();
    assert!(
        err.contains("ckpt-1.data-00000-of-00001: tensor")
            && err.contains(&format!("runs past the end of the {}-byte file", len - 1)),
        "{err}"
    );

    let index = index_path(&prefix);
    let bytes = fs::read(&index).unwrap();
    fs::write(&index, &bytes[..bytes.len() - 10]).unwrap();
    let err = error_chain(&BundleReader::open(&prefix).unwrap_err());
    assert!(err.contains("bad magic number"), "{err}");
    fs::write(&index, &bytes[..30]).unwrap();
    let err = error_chain(&BundleReader::open(&prefix).unwrap_err());
    assert!(
        err.contains("30 bytes is shorter than the 48-byte footer"),
        "{err}"
    );
}

fn step_tensors(step: i64) -> BTreeMap<String, TensorData> {
    let mut tensors = BTreeMap::new();
    tensors.insert("global_step".to_owned(), TensorData::scalar_i64(step));
    tensors.insert(
        "w".to_owned(),
        TensorData::from_f32([2], &[step as f32, -(step as f32)]).unwrap(),
    );
    tensors
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn saver_keeps_the_newest_five() {
    let dir = tempfile::tempdir().unwrap();
    let saver = Saver::new(dir.path());
    assert_eq!(latest_checkpoint(dir.path()).unwrap(), None);
    for step in 1..=7 {
        let prefix = saver.save(step * 10, &step_tensors(step * 10)).unwrap();
        assert_eq!(prefix, dir.path().join(format!("model.ckpt-{}", step * 10)));
    }
    let state = CheckpointState::read(dir.path()).unwrap().unwrap();
    assert_eq!(state.model_checkpoint_path, "model.ckpt-70");
    assert_eq!(
        state.all_model_checkpoint_paths,
        [
            "model.ckpt-30",
            "model.ckpt-40",
            "model.ckpt-50",
            "model.ckpt-60",
            "model.ckpt-70"
        ]
    );
    assert_eq!(state.all_model_checkpoint_timestamps.len(), 5);
    let mut expected = vec!["checkpoint".to_owned()];
    for step in [30, 40, 50, 60, 70] {
        expected.push(format!("model.ckpt-{step}.data-00000-of-00001"));
        expected.push(format!("model.ckpt-{step}.index"));
    }
    expected.sort();
    assert_eq!(file_names(dir.path()), expected);

    let latest = latest_checkpoint(dir.path()).unwrap().unwrap();
    assert_eq!(latest, dir.path().join("model.ckpt-70"));
    let reader = BundleReader::open(&latest).unwrap();
    assert_eq!(reader.get("w").unwrap().to_f32().unwrap(), [70.0, -70.0]);

    // A second saver (a resumed run) continues the same list.
    Saver::new(dir.path())
        .max_to_keep(2)
        .save(80, &step_tensors(80))
        .unwrap();
    let state = CheckpointState::read(dir.path()).unwrap().unwrap();
    assert_eq!(
        state.all_model_checkpoint_paths,
        ["model.ckpt-70", "model.ckpt-80"]
    );
    assert_eq!(file_names(dir.path()).len(), 5);
}

#[test]
fn saver_options_and_resaving_a_step() {
    let dir = tempfile::tempdir().unwrap();
    let saver = Saver::new(dir.path().join("sub"))
        .prefix("ckpt")
        .max_to_keep(0);
    for step in [1, 2, 10, 2] {
        saver.save(step, &step_tensors(step * 100)).unwrap();
    }
    let state = CheckpointState::read(&dir.path().join("sub"))
        .unwrap()
        .unwrap();
    // Re-saving step 2 moves it to the end; nothing is deleted with 0.
    assert_eq!(
        state.all_model_checkpoint_paths,
        ["ckpt-1", "ckpt-10", "ckpt-2"]
    );
    let latest = latest_checkpoint(dir.path().join("sub")).unwrap().unwrap();
    let reader = BundleReader::open(latest).unwrap();
    assert_eq!(
        reader.get("global_step").unwrap().to_scalar_i64().unwrap(),
        200
    );
    // `ckpt-1` must not have deleted `ckpt-10` or vice versa.
    assert_eq!(file_names(&dir.path().join("sub")).len(), 7);
}

#[test]
fn saver_accepts_any_name_tensor_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let tensor = TensorData::from_u8([3], &[1, 2, 3]).unwrap();
    let prefix = Saver::new(dir.path())
        .save(5, [("bytes", tensor.clone())])
        .unwrap();
    let got = BundleReader::open(prefix).unwrap().get("bytes").unwrap();
    assert_eq!((got.dtype(), got), (DType::U8, tensor));
}

#[test]
fn latest_checkpoint_requires_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = Saver::new(dir.path()).save(1, &step_tensors(1)).unwrap();
    fs::remove_file(index_path(&prefix)).unwrap();
    assert_eq!(latest_checkpoint(dir.path()).unwrap(), None);
    fs::write(
        dir.path().join("checkpoint"),
        "model_checkpoint_path: \"unterminated\n",
    )
    .unwrap();
    assert!(matches!(
        latest_checkpoint(dir.path()),
        Err(CheckpointError::BadState { line: 1, .. })
    ));
}

#[test]
fn saver_deletes_the_stale_temporary_files_of_killed_saves() {
    let dir = tempfile::tempdir().unwrap();
    let long_ago = std::time::SystemTime::now() - STALE_TEMP_AGE - STALE_TEMP_AGE;
    let leftover = |name: &str, modified: std::time::SystemTime| {
        let file = fs::File::create(dir.path().join(name)).unwrap();
        file.set_modified(modified).unwrap();
    };
    let now = std::time::SystemTime::now();
    leftover("model.ckpt-3.index.tempstate42", long_ago);
    leftover("model.ckpt-3.data-00000-of-00001.tempstate7", long_ago);
    leftover("checkpoint.tempstate9", long_ago);
    // Kept: recent (a save that may still be running), or not the saver's.
    leftover("model.ckpt-4.index.tempstate1", now);
    leftover("notes.txt.tempstate5", long_ago);
    leftover("model.ckpt-3.index.bak", long_ago);

    Saver::new(dir.path()).save(5, step_tensors(5)).unwrap();
    assert_eq!(
        file_names(dir.path()),
        [
            "checkpoint",
            "model.ckpt-3.index.bak",
            "model.ckpt-4.index.tempstate1",
            "model.ckpt-5.data-00000-of-00001",
            "model.ckpt-5.index",
            "notes.txt.tempstate5",
        ]
    );
}

#[test]
fn a_saver_owns_every_file_it_writes_and_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let mut tensors = BTreeMap::new();
    tensors.insert("w".to_string(), TensorData::scalar_f32(1.0));
    let saver = Saver::new(dir.path());
    saver.save(1, &tensors).unwrap();
    saver.save(20, &tensors).unwrap();
    let written: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(written.len() >= 5, "{written:?}");
    for name in &written {
        assert!(saver.owns_file_name(name), "{name}");
    }
    // The name a save killed mid-write leaves (`atomic`'s temporary names).
    let killed_save = format!(
        "checkpoint{}4242-00000000deadbeef",
        tbseg::atomic::TEMP_MARKER
    );
    assert!(saver.owns_file_name(&killed_save));
    for other in [
        "checkpoints",
        "checkpoint.txt",
        "model.ckpt",
        "other.ckpt-1.index",
        "events.out.tfevents.1.h",
        "notes.txt",
    ] {
        assert!(!saver.owns_file_name(other), "{other}");
    }
    let custom = Saver::new(dir.path()).prefix("ema");
    assert!(custom.owns_file_name("ema-3.index"));
    assert!(!custom.owns_file_name("model.ckpt-3.index"));
}
