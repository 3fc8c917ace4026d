//! `tbseg train`, `eval`, `predict` and `--resume` end to end on a
//! three-image synthetic set (two training steps of the full-size CNN).
#![cfg(feature = "trainer")]

use std::path::Path;
use std::process::{Command, Output};

use tbseg::checkpoint::{read_global_step, BundleReader};
use tbseg_lab::data::{synth, write_lab_file, TRAIN_FILE, VAL_FILE};

fn tbseg(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_tbseg"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run tbseg");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn train_eval_predict_resume() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("data")).unwrap();
    write_lab_file(root.join("data").join(TRAIN_FILE), synth::generate(7, 3, 0)).unwrap();
    write_lab_file(
        root.join("data").join(VAL_FILE),
        synth::generate(7, 2, synth::VAL_FIRST_INDEX),
    )
    .unwrap();

    // 3 images, 1 epoch: step 0 plus its summary batch, then step 1.
    let train = [
        "train",
        "--model",
        "cnn-dice",
        "--device",
        "cpu",
        "--threads",
        "2",
    ];
    let out = stdout(&tbseg(root, &train));
    assert!(out.contains("OUTPUT: Step 0: loss = "), "{out}");
    assert!(
        out.contains("OUTPUT: Done training for 1 epochs, 2 steps."),
        "{out}"
    );
    let logs = root.join("logs").join("cnn-dice");
    for file in ["checkpoint", "model.ckpt-0.index", "model.ckpt-2.index"] {
        assert!(logs.join(file).exists(), "{file} missing");
    }
    let events = std::fs::read_dir(&logs)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("events.out.tfevents.")
        })
        .count();
    assert_eq!(events, 1);
    let reader = BundleReader::open(logs.join("model.ckpt-2")).unwrap();
    assert_eq!(read_global_step(&reader).unwrap(), 2);
    assert_eq!(reader.get("Conv1/kernel").unwrap().shape(), [5, 5, 1, 100]);

    let out = stdout(&tbseg(
        root,
        &["eval", "--model", "cnn-dice", "--device", "cpu"],
    ));
    assert!(out.contains(": Dice metric = "), "{out}");
    assert!(
        out.contains("OUTPUT: 2 images evaluated from file data/val_images.tfrecords"),
        "{out}"
    );
    assert!(logs.join("eval").is_dir());

    tbseg(
        root,
        &[
            "predict",
            "--model",
            "cnn-dice",
            "--input",
            "data/val_images.tfrecords",
            "--out",
            "pred",
            "--device",
            "cpu",
        ],
    );
    let mask = image::open(root.join("pred").join("0001_mask.png")).unwrap();
    assert_eq!((mask.width(), mask.height()), (256, 256));
    assert!(mask
        .to_luma8()
        .pixels()
        .all(|p| p.0[0] == 0 || p.0[0] == 255));
    assert!(root.join("pred").join("0001_overlay.png").exists());

    // A second epoch continues from global_step 2 up to the 2-epoch total.
    let mut resume = train.to_vec();
    resume.extend(["--num_epochs", "2", "--resume"]);
    let output = tbseg(root, &resume);
    assert!(String::from_utf8_lossy(&output.stderr).contains("at step 2"));
    let out = stdout(&output);
    assert!(!out.contains("Step 0:"), "{out}");
    // 6 examples: step 0 takes 2, steps 1..=4 one each.
    assert!(
        out.contains("OUTPUT: Done training for 2 epochs, 5 steps."),
        "{out}"
    );
    let reader = BundleReader::open(logs.join("model.ckpt-5")).unwrap();
    assert_eq!(read_global_step(&reader).unwrap(), 5);
}
