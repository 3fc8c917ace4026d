//! Checkpoint durability: a failed save leaves the previous checkpoint
//! usable and nothing incomplete under a final name; two savers in one
//! directory never lose each other's state-file entries; TensorFlow's
//! absolute paths in the state file name the same checkpoints as relative
//! ones; error chains print the operating system's error once.

#[path = "common/error_chain.rs"]
mod error_chain;
use error_chain::error_chain;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use tbseg::checkpoint::{
    latest_checkpoint, read_global_step, BundleReader, CheckpointState, Saver, TensorData,
};

fn tensors(step: i64) -> BTreeMap<String, TensorData> {
    let mut tensors = BTreeMap::new();
    tensors.insert("global_step".to_owned(), TensorData::scalar_i64(step));
    let w: Vec<f32> = (0..64).map(|i| (step * 100 + i) as f32).collect();
    tensors.insert("w".to_owned(), TensorData::from_f32([8, 8], &w).unwrap());
    tensors
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_failed_index_rename_leaves_no_orphaned_data_and_the_old_checkpoint_loads() {
    let dir = tempfile::tempdir().unwrap();
    let saver = Saver::new(dir.path()).max_to_keep(5);
    saver.save(1, &tensors(1)).unwrap();
    // A non-empty directory where the new index must go: renaming the
    // index fails after the data file has been moved into place.
    let blocker = dir.path().join("model.ckpt-2.index");
    fs::create_dir(&blocker).unwrap();
    fs::write(blocker.join("x"), b"").unwrap();
    let err = saver.save(2, &tensors(2)).unwrap_err();
    let message = error_chain(&err);
    assert!(
        message.starts_with(&format!("renaming to {}: ", blocker.display())),
        "{message}"
    );
    assert_eq!(message.matches("os error").count(), 1, "{message}");
    assert_eq!(
        file_names(dir.path()),
        [
            "checkpoint",
            "model.ckpt-1.data-00000-of-00001",
            "model.ckpt-1.index",
            "model.ckpt-2.index",
        ]
    );
    let latest = latest_checkpoint(dir.path()).unwrap().unwrap();
    assert_eq!(latest, dir.path().join("model.ckpt-1"));
    let reader = BundleReader::open(&latest).unwrap();
    assert_eq!(read_global_step(&reader).unwrap(), 1);
    assert_eq!(reader.get("w").unwrap().to_f32().unwrap()[63], 163.0);
}

#[test]
fn two_savers_in_one_directory_keep_every_entry() {
    let dir = tempfile::tempdir().unwrap();
    let per_thread = 15;
    let threads: Vec<_> = (0..2)
        .map(|parity| {
            let dir = dir.path().to_owned();
            std::thread::spawn(move || {
                // max_to_keep(0) keeps every checkpoint, so every save must
                // stay listed.
                let saver = Saver::new(&dir).max_to_keep(0);
                for i in 0..per_thread {
                    let step = 2 * i + parity;
                    saver.save(step, &tensors(step)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let state = CheckpointState::read(dir.path()).unwrap().unwrap();
    let mut listed = state.all_model_checkpoint_paths.clone();
    listed.sort();
    let mut want: Vec<String> = (0..2 * per_thread)
        .map(|s| format!("model.ckpt-{s}"))
        .collect();
    want.sort();
    assert_eq!(listed, want);
    for name in &listed {
        let reader = BundleReader::open(dir.path().join(name)).unwrap();
        let step: i64 = name.trim_start_matches("model.ckpt-").parse().unwrap();
        assert_eq!(read_global_step(&reader).unwrap(), step);
    }
}

#[test]
fn absolute_paths_written_by_tensorflow_name_the_same_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("run");
    fs::create_dir(&real).unwrap();
    let saver = Saver::new(&real).max_to_keep(2);
    saver.save(1, &tensors(1)).unwrap();
    saver.save(2, &tensors(2)).unwrap();
    // TensorFlow, given an absolute directory, lists absolute paths; here
    // through a different spelling of the same directory.
    let absolute = |step: i64| {
        let path = fs::canonicalize(&real)
            .unwrap()
            .join(format!("model.ckpt-{step}"));
        path.to_string_lossy().into_owned()
    };
    CheckpointState {
        model_checkpoint_path: absolute(2),
        all_model_checkpoint_paths: vec![absolute(1), absolute(2)],
        all_model_checkpoint_timestamps: Vec::new(),
        last_preserved_timestamp: None,
    }
    .write(&real)
    .unwrap();

    // The saver reaches the directory by another path.
    let saver = Saver::new(dir.path().join("run/../run")).max_to_keep(2);
    // Re-saving step 2 replaces its entry instead of listing it twice.
    saver.save(2, &tensors(2)).unwrap();
    let state = CheckpointState::read(&real).unwrap().unwrap();
    assert_eq!(
        state.all_model_checkpoint_paths,
        [absolute(1), "model.ckpt-2".to_owned()]
    );
    // Step 3 pushes out step 1, listed absolutely, and deletes its files.
    saver.save(3, &tensors(3)).unwrap();
    let state = CheckpointState::read(&real).unwrap().unwrap();
    assert_eq!(
        state.all_model_checkpoint_paths,
        ["model.ckpt-2", "model.ckpt-3"]
    );
    assert!(!real.join("model.ckpt-1.index").exists());
    assert!(!real.join("model.ckpt-1.data-00000-of-00001").exists());
}

#[test]
fn error_messages_name_the_file_and_print_the_os_error_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = BundleReader::open(&missing).unwrap_err();
    assert_eq!(
        error_chain(&err),
        format!(
            "reading {}: No such file or directory (os error 2)",
            dir.path().join("nope.index").display()
        )
    );
    assert_eq!(
        err.to_string(),
        format!("reading {}", dir.path().join("nope.index").display())
    );

    // A corrupt index: the table's error is the cause, named once.
    let saver = Saver::new(dir.path());
    let prefix = saver.save(1, &tensors(1)).unwrap();
    let index = dir.path().join("model.ckpt-1.index");
    let mut bytes = fs::read(&index).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::write(&index, &bytes).unwrap();
    let err = BundleReader::open(&prefix).unwrap_err();
    let message = error_chain(&err);
    assert!(
        message.starts_with(&format!("{}: ", index.display())),
        "{message}"
    );
    assert_eq!(
        message.matches(&index.display().to_string()).count(),
        1,
        "{message}"
    );

    // A directory that cannot take the checkpoint: a file in the way.
    let blocked = dir.path().join("file");
    fs::write(&blocked, b"").unwrap();
    let err = Saver::new(blocked.join("sub"))
        .save(1, &tensors(1))
        .unwrap_err();
    let message = error_chain(&err);
    assert_eq!(message.matches("os error").count(), 1, "{message}");
    assert!(
        message.contains(&blocked.join("sub").display().to_string()),
        "{message}"
    );
}

/// Appends one block with its trailer (no compression, masked CRC) and
/// returns its handle.
fn push_block(table: &mut Vec<u8>, contents: &[u8]) -> tbseg::checkpoint::table::BlockHandle {
    use tbseg::checkpoint::table::{block_crc, BlockHandle};
    let handle = BlockHandle {
        offset: table.len() as u64,
        size: contents.len() as u64,
    };
    table.extend_from_slice(contents);
    table.push(0);
    table.extend_from_slice(&block_crc(contents, 0).0.to_le_bytes());
    handle
}

#[test]
fn an_index_with_keys_out_of_order_is_refused_not_a_panic() {
    use tbseg::checkpoint::table::{encode_footer, read_table, BlockBuilder};
    let dir = tempfile::tempdir().unwrap();
    let mut tensors = tensors(1);
    tensors.insert("zz".to_owned(), TensorData::scalar_i64(9));
    let prefix = Saver::new(dir.path()).save(1, &tensors).unwrap();
    let index = dir.path().join("model.ckpt-1.index");
    let mut entries = read_table(&fs::read(&index).unwrap()).unwrap();
    // "", "global_step", "w", "zz": move "zz" before "w".
    entries.swap(2, 3);
    let mut data = BlockBuilder::new(16);
    for (key, value) in &entries {
        data.add(key, value);
    }
    let mut table = Vec::new();
    let data_handle = push_block(&mut table, &data.finish());
    let metaindex = push_block(&mut table, &BlockBuilder::new(1).finish());
    let mut index_block = BlockBuilder::new(1);
    let mut handle = Vec::new();
    data_handle.encode_to(&mut handle);
    index_block.add(b"\xff", &handle);
    let index_handle = push_block(&mut table, &index_block.finish());
    table.extend_from_slice(&encode_footer(metaindex, index_handle));
    fs::write(&index, &table).unwrap();

    let err = BundleReader::open(&prefix).unwrap_err();
    assert_eq!(
        error_chain(&err),
        format!(
            "{}: keys are not in strictly increasing order (\"zz\" before \"w\")",
            index.display()
        )
    );
}
