//! Beyond the lab, through the `tbseg` command: validation during training
//! with the best checkpoint picked by `eval` and `predict`, and the flags
//! of `train` and `sweep` that must be refused before anything is written.
#![cfg(feature = "trainer")]

use std::path::Path;
use std::process::{Command, Output};

fn tbseg(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tbseg"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run tbseg")
}

fn stdout_of(dir: &Path, args: &[&str]) -> String {
    let output = tbseg(dir, args);
    assert!(
        output.status.success(),
        "{args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn assert_refused(dir: &Path, args: &[&str], needle: &str) {
    let output = tbseg(dir, args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{args:?} succeeded");
    assert!(
        stderr.contains(needle),
        "{args:?}: stderr lacks {needle:?}:\n{stderr}"
    );
    for folder in ["logs", "sweeps"] {
        assert!(!dir.join(folder).exists(), "{args:?} left {folder}/ behind");
    }
}

#[test]
fn unet_validates_while_training_and_eval_and_predict_pick_the_best() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    stdout_of(
        here,
        &[
            "data", "synth", "--out", "data", "--train", "3", "--val", "2",
        ],
    );
    let train = stdout_of(
        here,
        &[
            "train",
            "--model",
            "unet",
            "--num_epochs",
            "1",
            "--eval_every",
            "1",
            "--optimizer",
            "adam",
            "--learning_rate",
            "0.001",
            "--loss",
            "dice",
            "--augment",
            "--threads",
            "1",
            "--device",
            "cpu",
        ],
    );
    // 3 images, 1 epoch: 2 steps (the lab's summary batch takes one).
    // Validation runs after step 1, which is also the last update, so the
    // end of training does not score the same model again.
    let steps: Vec<&str> = train
        .lines()
        .filter(|l| l.contains(": validation Dice metric = "))
        .map(|l| l.split(':').nth(1).unwrap_or("").trim())
        .collect();
    assert_eq!(steps, ["Step 1"], "{train}");
    assert!(
        train.contains("OUTPUT: best validation Dice metric = "),
        "{train}"
    );
    let best_dir = here.join("logs/unet/best");
    assert!(best_dir.join("checkpoint").is_file());
    assert!(best_dir.join("best_metric.txt").is_file());

    let eval = stdout_of(
        here,
        &["eval", "--model", "unet", "--best", "--threads", "1"],
    );
    assert!(eval.contains(": Dice metric = "), "{eval}");
    assert!(eval.contains("per-image Dice: mean "), "{eval}");
    assert!(eval.contains("logs/unet/best/model.ckpt-"), "{eval}");
    let latest = stdout_of(
        here,
        &[
            "eval",
            "--model",
            "unet",
            "--checkpoint",
            "logs/unet/model.ckpt-2",
        ],
    );
    assert!(latest.contains("(logs/unet/model.ckpt-2)"), "{latest}");

    stdout_of(
        here,
        &[
            "predict",
            "--model",
            "unet",
            "--checkpoint",
            "best",
            "--input",
            "data/val_images.tfrecords",
            "--out",
            "masks",
        ],
    );
    assert!(here.join("masks/0001_mask.png").is_file());
    let output = tbseg(
        here,
        &[
            "eval",
            "--model",
            "unet",
            "--best",
            "--checkpoint_dir",
            "logs/none",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("--eval_every"),
        "{stderr}"
    );
}

#[test]
fn bad_flags_are_refused_by_name_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    assert_refused(here, &["train", "--patience", "3"], "--patience");
    assert_refused(here, &["train", "--loss", "focal"], "focal");
    assert_refused(
        here,
        &["sweep", "--model", "unet", "--checkpoint_dir", "x"],
        "--checkpoint_dir",
    );
    assert_refused(here, &["sweep", "--no_such_flag", "1,2"], "--no_such_flag");
    assert_refused(
        here,
        &["sweep", "--learning_rate", "0.1,-1"],
        "--learning_rate",
    );
    assert_refused(
        here,
        &["sweep", "--workers", "0", "--num_epochs", "1"],
        "--workers",
    );
}
