//! The trainer's subcommands on bad input: a clear message, a non-zero
//! exit status, and no checkpoint or event file left behind.
#![cfg(feature = "trainer")]

use std::path::Path;
use std::process::{Command, Output};

use tbseg::record::RecordWriter;
use tbseg_lab::data::{encode_example, write_lab_file, LabSlice, TRAIN_FILE, VAL_FILE};

fn tbseg(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tbseg"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run tbseg")
}

/// Fails with a message containing `needle` and writes nothing under `logs`.
fn assert_fails_cleanly(dir: &Path, args: &[&str], needle: &str) {
    let output = tbseg(dir, args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{args:?} succeeded");
    assert!(
        stderr.contains(needle),
        "{args:?}: stderr lacks {needle:?}:\n{stderr}"
    );
    assert!(!dir.join("logs").exists(), "{args:?} left files in logs/");
}

fn slice(side: usize) -> LabSlice {
    LabSlice {
        image: vec![100; side * side],
        label: vec![0; side * side],
    }
}

#[test]
fn missing_data_dir_points_at_tbseg_data_synth() {
    let dir = tempfile::tempdir().unwrap();
    assert_fails_cleanly(
        dir.path(),
        &["train", "--model", "cnn", "--device", "cpu"],
        "tbseg data synth",
    );
}

#[test]
fn missing_train_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    assert_fails_cleanly(dir.path(), &["train", "--device", "cpu"], TRAIN_FILE);
}

#[test]
fn negative_or_zero_flags_are_rejected_by_name() {
    let dir = tempfile::tempdir().unwrap();
    assert_fails_cleanly(dir.path(), &["train", "--num_epochs", "-1"], "--num_epochs");
    assert_fails_cleanly(dir.path(), &["train", "--num-epochs", "0"], "--num_epochs");
    assert_fails_cleanly(dir.path(), &["train", "--batch_size", "0"], "--batch_size");
    assert_fails_cleanly(
        dir.path(),
        &["train", "--learning_rate", "-0.1"],
        "--learning_rate",
    );
    assert_fails_cleanly(
        dir.path(),
        &["train", "--decay_steps", "0"],
        "--decay_steps",
    );
}

#[test]
fn unknown_model_lists_the_choices() {
    let dir = tempfile::tempdir().unwrap();
    assert_fails_cleanly(
        dir.path(),
        &["train", "--model", "vgg"],
        "simple, cnn, cnn-dice, unet",
    );
}

#[test]
fn corrupt_record_is_reported_with_its_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(
        dir.path().join("data").join(TRAIN_FILE),
        b"this is not a TFRecord file at all",
    )
    .unwrap();
    assert_fails_cleanly(dir.path(), &["train", "--device", "cpu"], TRAIN_FILE);
}

#[test]
fn wrong_image_size_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    // write_lab_file refuses such a slice, so frame the record by hand.
    let mut writer = RecordWriter::create(dir.path().join("data").join(TRAIN_FILE)).unwrap();
    writer.write_record(&encode_example(&slice(128))).unwrap();
    writer.flush().unwrap();
    drop(writer);
    assert_fails_cleanly(dir.path(), &["train", "--device", "cpu"], TRAIN_FILE);
}

#[test]
fn eval_without_checkpoint_says_train_first() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    write_lab_file(dir.path().join("data").join(VAL_FILE), [slice(256)]).unwrap();
    assert_fails_cleanly(
        dir.path(),
        &["eval", "--model", "cnn", "--device", "cpu"],
        "no checkpoint",
    );
}

#[test]
fn predict_rejects_a_png_of_the_wrong_size() {
    let dir = tempfile::tempdir().unwrap();
    image::GrayImage::new(64, 64)
        .save(dir.path().join("small.png"))
        .unwrap();
    // No checkpoint either; the input is checked first.
    let output = tbseg(
        dir.path(),
        &[
            "predict",
            "--input",
            "small.png",
            "--out",
            "out",
            "--device",
            "cpu",
        ],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("64x64"), "{stderr}");
    assert!(!dir.path().join("out").exists());
}
