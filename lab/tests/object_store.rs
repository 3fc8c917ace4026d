//! `tbseg train`, `--resume` and `eval` with the data and the run on a real
//! S3 server (s3s-fs on 127.0.0.1, installed by scripts/setup-s3.sh): the
//! resumed run continues from the checkpoint on the store, and the events
//! on the store hold one curve with no step twice.
#![cfg(all(feature = "trainer", feature = "object-store"))]

#[path = "../../tests/common/s3_server.rs"]
#[allow(dead_code)] // the restart helpers serve the library's tests
mod s3_server;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use s3_server::{S3Server, ACCESS_KEY, SECRET_KEY};
use tbseg::checkpoint::{read_global_step, BundleReader};
use tbseg::reader::Logdir;
use tbseg_lab::data::{synth, write_lab_file, TRAIN_FILE, VAL_FILE};

/// Runs the `tbseg` binary in `dir` with the S3 settings of `server`.
fn tbseg(dir: &Path, server: &S3Server, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_tbseg"))
        .args(args)
        .current_dir(dir)
        .env("AWS_ENDPOINT", &server.endpoint)
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_REGION", "us-east-1")
        .output()
        .expect("run tbseg");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?}: {stderr}");
    assert!(!stderr.contains(SECRET_KEY), "the secret leaked: {stderr}");
    output
}

#[test]
fn train_resume_and_eval_on_s3() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let store = root.join("store");
    let server = S3Server::start(&store, &["data", "runs"]);
    // s3s-fs keeps each bucket as a folder: the data files put there are
    // the objects `s3://data/lab/...`.
    let data = store.join("data").join("lab");
    std::fs::create_dir_all(&data).unwrap();
    write_lab_file(data.join(TRAIN_FILE), synth::generate(7, 4, 0)).unwrap();
    write_lab_file(
        data.join(VAL_FILE),
        synth::generate(7, 2, synth::VAL_FIRST_INDEX),
    )
    .unwrap();

    let train = |epochs: &str, resume: bool| {
        let mut args = vec![
            "train",
            "--model",
            "cnn-dice",
            "--device",
            "cpu",
            "--threads",
            "2",
            "--data_dir",
            "s3://data/lab",
            "--checkpoint_dir",
            "s3://runs/cnn-dice",
            "--num_epochs",
            epochs,
            "--summary_every",
            "1",
        ];
        if resume {
            args.push("--resume");
        }
        tbseg(root, &server, &args)
    };
    let first = train("1", false);
    let out = String::from_utf8_lossy(&first.stdout).into_owned();
    // "Done training for 1 epochs, N steps." (each step's summary pass
    // takes an image of its own at --summary_every 1).
    let steps: i64 = out
        .split("Done training for 1 epochs, ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(steps >= 1, "{out}");
    let run = store.join("runs").join("cnn-dice");
    let latest = |run: &Path| {
        let reader = BundleReader::open(run.join(state_latest(run))).unwrap();
        read_global_step(&reader).unwrap()
    };
    assert_eq!(latest(&run), steps);

    let resumed = train("2", true);
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(stderr.contains("resuming from"), "{stderr}");
    assert_eq!(
        latest(&run),
        2 * steps,
        "the resumed run continued from its checkpoint"
    );
    assert!(
        !std::fs::read_dir(&run).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("tmp")),
        "no staging object is left on the store"
    );

    // The events on the store: one loss curve, each step once, in order.
    let logdir = Logdir::scan(store.join("runs")).unwrap();
    let loss = logdir.runs["cnn-dice"]
        .scalars("2cnn_cross_entropy_mean")
        .expect("a loss curve");
    let mut seen = BTreeMap::new();
    for (step, _) in loss {
        *seen.entry(step).or_insert(0) += 1;
    }
    assert!(
        seen.values().all(|&n| n == 1),
        "a step shown twice: {seen:?}"
    );
    assert_eq!(
        seen.keys().copied().collect::<Vec<_>>(),
        (0..2 * steps).collect::<Vec<_>>()
    );

    let out = tbseg(
        root,
        &server,
        &[
            "eval",
            "--model",
            "cnn-dice",
            "--device",
            "cpu",
            "--data_dir",
            "s3://data/lab",
            "--checkpoint_dir",
            "s3://runs/cnn-dice",
        ],
    );
    let out = String::from_utf8_lossy(&out.stdout);
    assert!(out.contains(": Dice metric = "), "{out}");
}

/// The checkpoint prefix the `checkpoint` state file names as the latest
/// (TensorFlow's `model_checkpoint_path`), relative to the run.
fn state_latest(run: &Path) -> String {
    let state = std::fs::read_to_string(run.join("checkpoint")).unwrap();
    let line = state
        .lines()
        .find(|l| l.starts_with("model_checkpoint_path:"))
        .unwrap_or_else(|| panic!("no latest checkpoint in {state}"));
    let path = line.split('"').nth(1).expect("a quoted path");
    path.rsplit('/').next().unwrap().to_string()
}
