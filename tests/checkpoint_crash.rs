//! Kills a process in the middle of saving checkpoints, many times, and
//! checks that the checkpoint the state file names always loads with the
//! right values.
//!
//! The child is this same test binary, re-executed with `CHILD_ENV` set and
//! a filter selecting this test: it then saves in an endless loop instead
//! of running the parent side. No extra build is needed.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use rand::Rng;
use tbseg::checkpoint::{
    latest_checkpoint, read_global_step, BundleReader, CheckpointState, Saver, TensorData,
};

const CHILD_ENV: &str = "TBSEG_CHECKPOINT_CRASH_CHILD_DIR";
const TEST_NAME: &str = "checkpoint_survives_sigkill_at_random_moments";
/// Elements of the big tensor: 4 MiB of f32 per checkpoint.
const BIG: usize = 1 << 20;

fn tensors(step: i64) -> BTreeMap<String, TensorData> {
    let big: Vec<f32> = (0..BIG)
        .map(|i| (step * 1_000_003 + i as i64) as f32)
        .collect();
    let mut tensors = BTreeMap::new();
    tensors.insert("global_step".to_owned(), TensorData::scalar_i64(step));
    tensors.insert(
        "big".to_owned(),
        TensorData::from_f32([1024, (BIG / 1024) as u64], &big).unwrap(),
    );
    tensors.insert(
        "small".to_owned(),
        TensorData::from_i32([3], &[step as i32, 1, 2]).unwrap(),
    );
    tensors
}

/// Saves forever, continuing after the newest checkpoint on disk.
fn child(dir: &Path) -> ! {
    let saver = Saver::new(dir).max_to_keep(3);
    let mut step = match latest_checkpoint(dir).unwrap() {
        Some(prefix) => read_global_step(&BundleReader::open(prefix).unwrap()).unwrap() + 1,
        None => 0,
    };
    // Tell the parent the process is up: loading the test binary (which may
    // link libtorch) takes longer than the kill window, so the window
    // starts here.
    println!("ready");
    std::io::stdout().flush().unwrap();
    loop {
        saver.save(step, &tensors(step)).unwrap();
        println!("saved");
        std::io::stdout().flush().unwrap();
        step += 1;
    }
}

/// Every checkpoint the state file lists must be complete and correct.
fn verify(dir: &Path) -> Option<i64> {
    let latest = latest_checkpoint(dir).expect("state file readable")?;
    let state = CheckpointState::read(dir).unwrap().unwrap();
    assert_eq!(
        state.all_model_checkpoint_paths.last(),
        Some(&state.model_checkpoint_path)
    );
    for name in &state.all_model_checkpoint_paths {
        let reader =
            BundleReader::open(dir.join(name)).unwrap_or_else(|err| panic!("{name}: {err}"));
        let step = read_global_step(&reader).unwrap();
        assert_eq!(name, &format!("model.ckpt-{step}"));
        let expected = tensors(step);
        for (tensor_name, tensor) in &expected {
            assert_eq!(
                &reader.get(tensor_name).unwrap(),
                tensor,
                "{name}/{tensor_name}"
            );
        }
    }
    let reader = BundleReader::open(&latest).unwrap();
    Some(read_global_step(&reader).unwrap())
}

#[test]
fn checkpoint_survives_sigkill_at_random_moments() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        child(Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand::rng();
    let started = Instant::now();
    let mut newest = None;
    let mut kills = 0;
    // Bounded by count and by time so a slow disk cannot make the test slow
    // (a busy machine needs the longer budget; an idle one finishes in a
    // few seconds).
    while kills < 40 && started.elapsed() < Duration::from_secs(30) {
        let mut child = Command::new(&exe)
            .args(["--exact", TEST_NAME, "--test-threads", "1", "--nocapture"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // libtest prints its own lines, and "test NAME ... " before the
        // child's "ready" on the same line.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut said = Vec::new();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.ends_with("ready") => break,
                Some(Ok(line)) => said.push(line),
                _ => panic!("the child ended before it was ready: {said:?}"),
            }
        }
        // Every other child first completes a save, so the run makes
        // progress however slow the machine is; the others die anywhere,
        // the first save included.
        if kills % 2 == 1 {
            loop {
                match lines.next() {
                    Some(Ok(line)) if line.ends_with("saved") => break,
                    Some(Ok(_)) => {}
                    _ => panic!("the child ended before its first save"),
                }
            }
        }
        sleep(Duration::from_millis(rng.random_range(5..120)));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "the child only stops when killed");
        kills += 1;
        let step = verify(dir.path());
        assert!(
            step >= newest,
            "the newest checkpoint never goes backwards: {step:?} < {newest:?}"
        );
        newest = step;
    }
    eprintln!("{kills} kills, newest checkpoint at step {newest:?}");
    assert!(kills >= 10, "only {kills} kills in the time budget");
    assert!(
        newest.is_some_and(|step| step >= 3),
        "the children saved too little: {newest:?}"
    );
}
