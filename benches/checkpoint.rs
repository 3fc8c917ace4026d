//! Save and load throughput of a checkpoint the size of the lab's `simple`
//! model: `Hidden1/W_fc` [65536, 512] + `Final/W_fc2` [512, 131072] f32,
//! about 100.7 M parameters, 403 MB.
//!
//! `cargo bench --no-default-features --bench checkpoint` prints a table;
//! `scripts/bench_checkpoint.sh` puts a `dd` figure for the same disk
//! beside it. The directory is `$TBSEG_BENCH_DIR` (default: the system temp
//! dir); the disk under it is what is measured.
//!
//! - save: `Saver::save` end to end (data written, CRC, fsync of data,
//!   index and directory, renames, state file).
//! - load: `BundleReader::open` + `get` of both tensors (read + CRC check),
//!   straight after the save, so the data come from the page cache.
//! - load+to_f32: the same plus the conversion to `Vec<f32>`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tbseg::checkpoint::{latest_checkpoint, BundleReader, Saver, TensorData, GLOBAL_STEP};

/// The lab's `simple` model's two weights: the benchmark's 400 MB.
const HIDDEN1_W_FC: &str = "Hidden1/W_fc";
const FINAL_W_FC2: &str = "Final/W_fc2";

const ITERATIONS: usize = 5;

fn pattern(n: usize, seed: u32) -> Vec<f32> {
    (0..n as u32)
        .map(|i| ((i.wrapping_mul(2_654_435_761) ^ seed) >> 8) as f32 * 1e-7)
        .collect()
}

fn main() {
    let base = std::env::var_os("TBSEG_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::Builder::new()
        .prefix("tbseg-ckpt-bench")
        .tempdir_in(&base)
        .expect("temp dir");
    let mut tensors = BTreeMap::new();
    tensors.insert(
        HIDDEN1_W_FC.to_owned(),
        TensorData::from_f32([65536, 512], &pattern(65536 * 512, 1)).unwrap(),
    );
    tensors.insert(
        FINAL_W_FC2.to_owned(),
        TensorData::from_f32([512, 131072], &pattern(512 * 131072, 2)).unwrap(),
    );
    tensors.insert(GLOBAL_STEP.to_owned(), TensorData::scalar_i64(0));
    let bytes: usize = tensors.values().map(|t| t.bytes().len()).sum();
    let saver = Saver::new(dir.path()).max_to_keep(1);

    let mut save = Vec::new();
    let mut load = Vec::new();
    let mut load_f32 = Vec::new();
    for step in 0..ITERATIONS as i64 {
        let start = Instant::now();
        saver.save(step, &tensors).expect("save");
        save.push(start.elapsed());

        let prefix = latest_checkpoint(dir.path()).unwrap().expect("saved");
        let start = Instant::now();
        let reader = BundleReader::open(&prefix).unwrap();
        let hidden = reader.get(HIDDEN1_W_FC).unwrap();
        let last = reader.get(FINAL_W_FC2).unwrap();
        load.push(start.elapsed());
        assert_eq!(&hidden, &tensors[HIDDEN1_W_FC]);
        drop((hidden, last));

        let start = Instant::now();
        let reader = BundleReader::open(&prefix).unwrap();
        let hidden = reader.get(HIDDEN1_W_FC).unwrap().to_f32().unwrap();
        let last = reader.get(FINAL_W_FC2).unwrap().to_f32().unwrap();
        load_f32.push(start.elapsed());
        assert_eq!(hidden.len() + last.len(), bytes / 4 - 2);
    }

    println!(
        "checkpoint of {:.1} MB ({} iterations, dir {})",
        bytes as f64 / 1e6,
        ITERATIONS,
        base.display()
    );
    println!(
        "{:<14} {:>10} {:>10} {:>10}",
        "operation", "best s", "median s", "best GB/s"
    );
    for (name, times) in [
        ("save (fsync)", save),
        ("load", load),
        ("load+to_f32", load_f32),
    ] {
        let mut times: Vec<Duration> = times;
        times.sort();
        let best = times[0].as_secs_f64();
        let median = times[times.len() / 2].as_secs_f64();
        println!(
            "{name:<14} {best:>10.3} {median:>10.3} {:>10.2}",
            bytes as f64 / best / 1e9
        );
    }
}
