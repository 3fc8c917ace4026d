//! Replays the fuzz corpora (`fuzz/corpus/<target>/`) and every input that
//! once crashed a fuzz target (`tests/data/fuzz/<target>/`) through the same
//! calls the cargo-fuzz targets make, so the normal test suite catches a
//! regression without nightly or libFuzzer. The Sunnybrook target needs
//! tbseg-lab: its inputs are replayed by `lab/tests/sunnybrook_fuzz_inputs.rs`.

mod common;

use std::path::{Path, PathBuf};

use tbseg::checkpoint::table::read_table;
use tbseg::checkpoint::{data_path, index_path, BundleReader};
use tbseg::example::{Example, ExampleReader};
use tbseg::reader::{EventFileReader, Run};
use tbseg::record::RecordReader;

/// Every input kept for `target`: its corpus and its past crashes.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = common::test_data("..").join("..");
    let dirs = [
        root.join("fuzz/corpus").join(target),
        common::test_data("fuzz").join(target),
    ];
    let mut found = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            found.push((path, bytes));
        }
    }
    found.sort();
    found
}

/// Runs `harness` on every input of `target`; the seeds alone make this
/// non-empty, so a moved corpus fails loudly instead of testing nothing.
fn replay(target: &str, mut harness: impl FnMut(&[u8])) {
    let inputs = inputs(target);
    assert!(!inputs.is_empty(), "no inputs for fuzz target {target}");
    for (path, bytes) in inputs {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| harness(&bytes)));
        assert!(result.is_ok(), "{target}: {} panicked", path.display());
    }
}

#[test]
fn record_reader_inputs() {
    replay("record_reader", |data| {
        for hint in [None, Some(data.len() as u64)] {
            let mut reader = RecordReader::new(data);
            if let Some(len) = hint {
                reader = reader.with_input_len(len);
            }
            for record in reader.records().flatten() {
                assert!(record.offset < data.len() as u64);
            }
        }
    });
}

#[test]
fn event_reader_inputs() {
    replay("event_reader", |data| {
        let mut run = Run::default();
        let _ = EventFileReader::new(data).for_each(|event| run.add_event(&event));
        // Every typed decoder on whatever decoded.
        for (tag, series) in &run.tags {
            series.decoded().for_each(drop);
            let _ = run.meshes(tag.trim_end_matches("_VERTEX"));
        }
        let _ = (run.hparams(), run.custom_scalars(), run.graph());
    });
}

#[test]
fn example_inputs() {
    fn touch(example: &Example) {
        let keys: Vec<String> = example.keys().map(str::to_owned).collect();
        for key in &keys {
            let _ = example.kind(key);
            let _ = example.bytes(key);
            let _ = example.int64(key);
            let _ = example.float(key);
            let _ = example.single_bytes(key);
            let _ = example.single_int64(key);
            let _ = example.single_float(key);
        }
    }
    replay("example", |data| {
        if let Ok(example) = Example::decode(data) {
            touch(&example);
        }
        for example in ExampleReader::new(data).flatten() {
            touch(&example);
        }
    });
}

#[test]
fn checkpoint_table_inputs() {
    replay("checkpoint_table", |data| {
        let _ = read_table(data);
    });
}

#[test]
fn checkpoint_bundle_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("model.ckpt-1");
    replay("checkpoint_bundle", |data| bundle(&prefix, data));
}

/// The `checkpoint_bundle` target: two length bytes, the index, the data.
fn bundle(prefix: &Path, data: &[u8]) {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let index_len = usize::from(u16::from_le_bytes(*len)).min(rest.len());
    let (index, shard) = rest.split_at(index_len);
    std::fs::write(index_path(prefix), index).unwrap();
    std::fs::write(data_path(prefix, 0, 1), shard).unwrap();
    let Ok(reader) = BundleReader::open(prefix) else {
        return;
    };
    let names: Vec<String> = reader.names().map(str::to_owned).collect();
    for name in &names {
        assert!(
            reader.info(name).is_some(),
            "{name} is listed but not found"
        );
        if let Ok(tensor) = reader.get(name) {
            let _ = tensor.to_f32();
            let _ = tensor.to_scalar_i64();
        }
        let _ = reader.get_strings(name);
    }
}
