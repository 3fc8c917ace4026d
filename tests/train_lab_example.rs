//! `examples/train_lab.rs` on tiny lab-schema data (64×64 slices written
//! with `tbseg::example`): its event file holds the loss, learning rate,
//! Dice, mask grid, histograms and graph at the expected steps, and its
//! checkpoints are TensorFlow bundles with the lab's names and HWIO
//! layouts. Needs libtorch (`--features trainer`).

#[path = "../examples/train_lab.rs"]
#[allow(dead_code)]
mod train_lab;

use std::path::Path;

use tbseg::checkpoint::{latest_checkpoint, read_global_step, BundleReader};
use tbseg::example::{ExampleBuilder, ExampleWriter};
use tbseg::reader::{Logdir, SeriesKind};

const SIZE: usize = 64;

/// Writes `count` slices in the lab's schema: a bright disc (the "LV",
/// label 1) on a dim background, at a different place in each slice.
fn write_slices(path: &Path, count: usize) {
    let mut writer = ExampleWriter::create(path).unwrap();
    for i in 0..count {
        let (cx, cy) = (20.0 + 6.0 * i as f64, 28.0 + 3.0 * i as f64);
        let mut image = Vec::with_capacity(SIZE * SIZE * 8);
        let mut label = Vec::with_capacity(SIZE * SIZE);
        for y in 0..SIZE {
            for x in 0..SIZE {
                let inside = (x as f64 - cx).hypot(y as f64 - cy) < 9.0;
                let value: i64 = if inside {
                    900
                } else {
                    100 + (x as i64 * 7 + y as i64) % 50
                };
                image.extend_from_slice(&value.to_le_bytes());
                label.push(u8::from(inside));
            }
        }
        let example = ExampleBuilder::new()
            .int64("height", &[SIZE as i64])
            .int64("width", &[SIZE as i64])
            .int64("depth", &[1])
            .bytes("img_raw", image)
            .bytes("label_raw", label)
            .build();
        writer.write(&example).unwrap();
    }
    writer.flush().unwrap();
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn trains_on_lab_records_and_writes_events_and_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    write_slices(&data.join("train_images.tfrecords"), 3);
    write_slices(&data.join("val_images.tfrecords"), 2);
    let logdir = dir.path().join("logs");
    train_lab::run(args(&[
        "--data_dir",
        data.to_str().unwrap(),
        "--logdir",
        logdir.to_str().unwrap(),
        "--num_epochs=2",
        "--learning_rate",
        "0.04",
        "--decay_rate",
        "0.5",
        "--decay_steps",
        "4",
    ]))
    .unwrap();

    let logs = Logdir::scan(&logdir).unwrap();
    let run = &logs.runs["."];
    assert!(run.has_graph());
    let loss = run.scalars("loss").unwrap();
    assert_eq!(
        loss.iter().map(|p| p.0).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5]
    );
    assert!(
        loss.iter().all(|p| p.1.is_finite() && p.1 > 0.0),
        "{loss:?}"
    );
    // Staircase decay: 0.04 for steps 0-3, 0.02 from step 4.
    let lr = run.scalars("learning_rate").unwrap();
    assert_eq!(
        lr.iter().map(|p| p.1).collect::<Vec<_>>(),
        [0.04, 0.04, 0.04, 0.04, 0.02, 0.02]
    );
    let dice = run.scalars("dice").unwrap();
    assert_eq!(
        dice.iter().map(|p| p.0).collect::<Vec<_>>(),
        [3, 6],
        "Dice after each epoch"
    );
    assert!(
        dice.iter()
            .all(|p| (0.0..=1.0).contains(&p.1) || p.1.is_nan()),
        "{dice:?}"
    );
    let masks = run.series("masks/image_label_prediction").unwrap();
    assert_eq!((masks.kind.clone(), masks.count), (SeriesKind::Image, 2));
    for tag in [
        "weights/Conv1",
        "grads/Conv1",
        "weights/upscore",
        "grads/upscore",
    ] {
        let series = run.series(tag).unwrap_or_else(|| panic!("no {tag}"));
        assert_eq!(series.kind, SeriesKind::Histogram, "{tag}");
    }

    let prefix = latest_checkpoint(&logdir).unwrap().expect("a checkpoint");
    assert!(prefix.ends_with("model.ckpt-6"), "{}", prefix.display());
    let bundle = BundleReader::open(&prefix).unwrap();
    assert_eq!(read_global_step(&bundle).unwrap(), 6);
    let kernels: [(&str, [u64; 4]); 6] = [
        ("Conv1/kernel", [5, 5, 1, 100]),
        ("Conv2/kernel", [5, 5, 100, 200]),
        ("Conv3/kernel", [3, 3, 200, 300]),
        ("conv4/kernel", [3, 3, 300, 300]),
        ("score_classes/kernel", [1, 1, 300, 2]),
        ("upscore/kernel", [31, 31, 2, 2]),
    ];
    let mut names: Vec<&str> = bundle.names().collect();
    names.sort();
    let mut want: Vec<&str> = kernels.iter().map(|k| k.0).chain(["global_step"]).collect();
    want.sort();
    assert_eq!(names, want);
    for (name, shape) in &kernels {
        let tensor = bundle.get(name).unwrap();
        assert_eq!(tensor.shape(), shape, "{name}");
        let values = tensor.to_f32().unwrap();
        assert!(
            values.iter().all(|v| v.is_finite() && v.abs() < 1.0),
            "{name}"
        );
    }
    // The first epoch's checkpoint is kept too.
    assert!(BundleReader::open(logdir.join("model.ckpt-3")).is_ok());
}

#[test]
fn stops_at_max_steps_and_rejects_bad_flags() {
    let dir = tempfile::tempdir().unwrap();
    write_slices(&dir.path().join("train_images.tfrecords"), 3);
    write_slices(&dir.path().join("val_images.tfrecords"), 1);
    let logdir = dir.path().join("logs");
    let (data, logs) = (dir.path().to_str().unwrap(), logdir.to_str().unwrap());
    train_lab::run(args(&[
        "--data_dir",
        data,
        "--logdir",
        logs,
        "--max_steps",
        "2",
    ]))
    .unwrap();
    let scanned = Logdir::scan(&logdir).unwrap();
    assert_eq!(scanned.runs["."].scalars("loss").unwrap().len(), 2);
    let prefix = latest_checkpoint(&logdir)
        .unwrap()
        .expect("a checkpoint at the stop");
    assert!(prefix.ends_with("model.ckpt-2"), "{}", prefix.display());

    let err = |list: &[&str]| train_lab::run(args(list)).unwrap_err().to_string();
    assert_eq!(
        err(&["--num_epochs", "many"]),
        "--num_epochs \"many\": invalid digit found in string"
    );
    assert_eq!(err(&["--epochs", "1"]), "unknown flag --epochs");
    assert_eq!(err(&["--logdir"]), "--logdir needs a value");
    let missing = err(&["--data_dir", logs]);
    assert!(missing.contains("train_images.tfrecords"), "{missing}");
}
