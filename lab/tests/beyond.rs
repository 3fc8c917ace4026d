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

/// Whether `dir` holds a checkpoint (`tbseg train` saves one after step 0).
fn has_checkpoint(dir: &Path) -> bool {
    dir.join("checkpoint").is_file()
}

#[test]
fn sigterm_stops_a_sweep_whose_trials_resume_on_the_same_command() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    stdout_of(
        here,
        &[
            "data", "synth", "--out", "data", "--train", "4", "--val", "2",
        ],
    );
    // Trial 000 trains 20 epochs (79 steps, seconds); trial 001 one epoch.
    let sweep = [
        "sweep",
        "--logdir",
        "sweeps",
        "--threads",
        "1",
        "--",
        "--data_dir",
        "data",
        "--model",
        "cnn-dice",
        "--num_epochs",
        "20,1",
    ];
    let child = Command::new(env!("CARGO_BIN_EXE_tbseg"))
        .args(sweep)
        .current_dir(here)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let first = here.join("sweeps/000-num_epochs=20");
    let started = std::time::Instant::now();
    // Once the step-0 checkpoint exists, a signal makes the trial save
    // another at the step it has reached.
    while !has_checkpoint(&first) {
        assert!(started.elapsed().as_secs() < 120, "trial 000 never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("run the same command again"), "{stderr}");
    // The signal reached the trial, which saved a checkpoint and stopped.
    let log = std::fs::read_to_string(first.join("train.log")).unwrap();
    assert!(log.contains("stopped by signal 15"), "{log}");
    assert!(!first.join("sweep_result.txt").exists());
    assert!(
        !here.join("sweeps/001-num_epochs=1").exists(),
        "a trial started after the signal"
    );

    let again = stdout_of(here, &sweep);
    assert!(again.contains("2 trial(s) to train"), "{again}");
    let log = std::fs::read_to_string(first.join("train.log")).unwrap();
    assert!(log.contains("resuming from"), "{log}");
    assert!(
        log.contains("OUTPUT: Done training for 20 epochs, 79 steps."),
        "{log}"
    );
    for trial in ["000-num_epochs=20", "001-num_epochs=1"] {
        assert!(here
            .join("sweeps")
            .join(trial)
            .join("sweep_result.txt")
            .is_file());
    }
    let third = stdout_of(here, &sweep);
    assert!(third.contains("0 trial(s) to train"), "{third}");
}

#[test]
fn hard_synthetic_data_is_a_style_of_data_synth_with_a_checked_difficulty() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path();
    let out = stdout_of(
        here,
        &[
            "data", "synth", "--style", "hard", "--out", "hard", "--train", "3", "--val", "2",
        ],
    );
    assert!(out.contains("3 train + 2 val hard slices"), "{out}");
    assert!(here.join("hard/train_images.tfrecords").is_file());
    // The default is the calibrated level, 2.5.
    for (folder, difficulty) in [("hard-2.5", "2.5"), ("hard-1", "1")] {
        stdout_of(
            here,
            &[
                "data",
                "synth",
                "--style",
                "hard",
                "--out",
                folder,
                "--train",
                "3",
                "--val",
                "2",
                "--difficulty",
                difficulty,
            ],
        );
    }
    let bytes =
        |folder: &str| std::fs::read(here.join(folder).join("train_images.tfrecords")).unwrap();
    assert_eq!(bytes("hard"), bytes("hard-2.5"));
    assert_ne!(bytes("hard"), bytes("hard-1"));
    for (args, needle) in [
        (
            &["--style", "hard", "--difficulty", "-1"][..],
            "--difficulty",
        ),
        (
            &["--style", "hard", "--difficulty", "NaN"][..],
            "--difficulty",
        ),
        (&["--difficulty", "2"][..], "only --style hard"),
        (&["--difficulty", "2.5"][..], "only --style hard"),
        (&["--style", "noisy"][..], "noisy"),
    ] {
        let mut line = vec!["data", "synth", "--out", "refused"];
        line.extend_from_slice(args);
        let output = tbseg(here, &line);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{line:?} succeeded");
        assert!(stderr.contains(needle), "{line:?}: {stderr}");
        assert!(!here.join("refused").exists(), "{line:?} wrote files");
    }
}
