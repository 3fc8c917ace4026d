//! A whole checkpoint (`.index` plus one data shard) read with
//! `BundleReader`: the input's first two bytes give the index's length, the
//! rest is the data file. Every tensor is read back as numbers or strings.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tbseg::checkpoint::{data_path, index_path, BundleReader};

/// A per-process directory in memory-backed storage where possible.
fn prefix() -> &'static PathBuf {
    static PREFIX: OnceLock<PathBuf> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let shm = PathBuf::from("/dev/shm");
        let base = if shm.is_dir() { shm } else { std::env::temp_dir() };
        let dir = base.join(format!("tbseg-fuzz-bundle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("fuzz scratch directory");
        dir.join("model.ckpt-1")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let index_len = usize::from(u16::from_le_bytes(*len)).min(rest.len());
    let (index, shard) = rest.split_at(index_len);
    let prefix = prefix();
    std::fs::write(index_path(prefix), index).expect("writing the fuzz index");
    std::fs::write(data_path(prefix, 0, 1), shard).expect("writing the fuzz data");
    let Ok(reader) = BundleReader::open(prefix) else {
        return;
    };
    let names: Vec<String> = reader.names().map(str::to_owned).collect();
    for name in &names {
        assert!(reader.info(name).is_some(), "{name} is listed but not found");
        if let Ok(tensor) = reader.get(name) {
            let _ = tensor.to_f32();
            let _ = tensor.to_scalar_i64();
        }
        let _ = reader.get_strings(name);
    }
});
