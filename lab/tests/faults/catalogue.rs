//! Bad input, one case per row: each run of the `tbseg` binary must exit
//! with status 1 and print exactly one error line, naming the file or flag,
//! with no panic or backtrace (the device line is the only other line
//! allowed), and must leave nothing half-written.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Instant;

use tbseg::checkpoint::{Saver, TensorData, GLOBAL_STEP};
use tbseg::example::ExampleBuilder;
use tbseg::record::RecordWriter;
use tbseg_lab::data::{encode_example, LabSlice, TRAIN_FILE, VAL_FILE};

use super::common::{copy_dir, latest_weights, restores, Lab};

/// Whether every weight of the latest checkpoint in `dir` is finite.
fn finite(dir: &Path) -> bool {
    let (_, weights) = latest_weights(dir);
    weights
        .values()
        .flatten()
        .all(|&bits| f32::from_bits(bits).is_finite())
}

/// What a failed case may leave behind.
#[derive(Clone, Copy)]
enum Leaves {
    /// The folder must not exist afterwards.
    Nothing(&'static str),
    /// Every checkpoint the folder names still restores.
    Restorable(&'static str),
    /// Nothing to check (the case writes no folder of its own).
    Unchanged,
}

/// One row: a name, how to prepare the lab folder, the command line, and
/// what the error line must contain.
struct Case {
    name: &'static str,
    setup: fn(&Lab),
    args: &'static [&'static str],
    needle: &'static str,
    leaves: Leaves,
}

const TRAIN: &str = "data/train_images.tfrecords";
const CNN: [&str; 8] = [
    "--model",
    "cnn",
    "--device",
    "cpu",
    "--threads",
    "1",
    "--checkpoint_dir",
    "logs",
];

fn nothing(_: &Lab) {}

fn write(lab: &Lab, name: &str, bytes: &[u8]) {
    let path = lab.path(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn records(payloads: &[Vec<u8>]) -> Vec<u8> {
    let mut writer = RecordWriter::new(Vec::new());
    for payload in payloads {
        writer.write_record(payload).unwrap();
    }
    writer.into_inner()
}

fn slice(side: usize) -> LabSlice {
    LabSlice {
        image: vec![100; side * side],
        label: vec![0; side * side],
    }
}

fn train_file(lab: &Lab, bytes: &[u8]) {
    write(lab, TRAIN, bytes);
}

fn good_train_bytes() -> Vec<u8> {
    records(&[encode_example(&slice(256)), encode_example(&slice(256))])
}

/// A `cnn` run's folder in `logs/`: a copy of one two-step run made once.
fn trained(lab: &Lab) {
    static RUN: OnceLock<Lab> = OnceLock::new();
    let run = RUN.get_or_init(|| {
        let lab = Lab::new(3);
        let ran = lab.tbseg(&[&["train"][..], &CNN, &["--data_dir", "data"]].concat());
        assert!(ran.stderr.contains("device"), "{}", ran.stderr);
        lab
    });
    copy_dir(&run.path("logs"), &lab.path("logs"));
}

fn checkpoint_file(lab: &Lab, suffix: &str) -> std::path::PathBuf {
    std::fs::read_dir(lab.path("logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .max()
        .unwrap()
}

fn flip_last_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x5a;
    std::fs::write(path, bytes).unwrap();
}

fn truncate_half(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
}

/// A checkpoint whose only variable is `conv1` under the name
/// `Conv1/kernel` (of the wrong shape or dtype).
fn odd_checkpoint(lab: &Lab, conv1: TensorData) {
    let mut tensors = BTreeMap::new();
    tensors.insert("Conv1/kernel".to_string(), conv1);
    tensors.insert(GLOBAL_STEP.to_string(), TensorData::scalar_i64(3));
    Saver::new(lab.path("logs")).save(3, &tensors).unwrap();
}

fn png(lab: &Lab, name: &str, image: image::DynamicImage) {
    image.save(lab.path(name)).unwrap();
}

fn cases() -> Vec<Case> {
    let train = |extra: &'static [&'static str]| extra;
    vec![
        // The training data.
        Case {
            name: "missing data folder",
            setup: nothing,
            args: train(&["train", "--data_dir", "nowhere"]),
            needle: "tbseg data synth",
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "missing training file",
            setup: |lab| std::fs::remove_file(lab.path(TRAIN)).unwrap(),
            args: &["train", "--checkpoint_dir", "logs"],
            needle: TRAIN_FILE,
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "empty training file",
            setup: |lab| train_file(lab, b""),
            args: &["train", "--checkpoint_dir", "logs"],
            needle: TRAIN_FILE,
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "truncated training file",
            setup: |lab| train_file(lab, &good_train_bytes()[..70_000]),
            args: &["train", "--checkpoint_dir", "logs"],
            needle: TRAIN_FILE,
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "corrupted training record",
            setup: |lab| {
                let mut bytes = good_train_bytes();
                bytes[1000] ^= 1;
                train_file(lab, &bytes);
            },
            args: &["train", "--checkpoint_dir", "logs"],
            needle: TRAIN_FILE,
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "not a TFRecord file",
            setup: |lab| train_file(lab, b"these are not the records you are looking for"),
            args: &["train", "--checkpoint_dir", "logs"],
            needle: TRAIN_FILE,
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "records that are not Examples",
            setup: |lab| train_file(lab, &records(&[vec![0xff; 40]])),
            args: &["train", "--checkpoint_dir", "logs"],
            needle: TRAIN_FILE,
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "Examples of another schema",
            setup: |lab| {
                let example = ExampleBuilder::new().int64("answer", &[42]).build();
                train_file(lab, &records(&[example.encode_to_vec()]));
            },
            args: &["train", "--checkpoint_dir", "logs"],
            needle: TRAIN_FILE,
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "128x128 slices",
            setup: |lab| train_file(lab, &records(&[encode_example(&slice(128))])),
            args: &["train", "--checkpoint_dir", "logs"],
            needle: TRAIN_FILE,
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "label values other than 0 and 1",
            setup: |lab| {
                let mut bad = slice(256);
                bad.label[7] = 9;
                train_file(lab, &records(&[encode_example(&bad)]));
            },
            args: &["train", "--checkpoint_dir", "logs"],
            needle: TRAIN_FILE,
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "extreme intensities: the loss stops being finite",
            setup: |lab| {
                let mut huge = slice(256);
                huge.image.iter_mut().for_each(|v| *v = i64::MAX);
                huge.label[..30_000].iter_mut().for_each(|v| *v = 1);
                let bytes = encode_example(&huge);
                train_file(lab, &records(&[bytes.clone(), bytes.clone(), bytes]));
            },
            args: &[
                "train",
                "--model",
                "cnn",
                "--threads",
                "1",
                "--device",
                "cpu",
                "--checkpoint_dir",
                "logs",
                "--num_epochs",
                "20",
            ],
            needle: "diverged",
            leaves: Leaves::Restorable("logs"),
        },
        // Flags.
        Case {
            name: "zero epochs",
            setup: nothing,
            args: &["train", "--num_epochs", "0"],
            needle: "--num_epochs",
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "negative epochs",
            setup: nothing,
            args: &["train", "--num_epochs", "-3"],
            needle: "--num_epochs",
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "a quadrillion epochs",
            setup: nothing,
            args: &["train", "--num_epochs", "1000000000000000"],
            needle: "--num_epochs",
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "zero batch size",
            setup: nothing,
            args: &["train", "--batch_size", "0"],
            needle: "--batch_size",
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "batch larger than the data",
            setup: nothing,
            args: &[
                "train",
                "--batch_size",
                "1000000",
                "--checkpoint_dir",
                "logs",
            ],
            needle: "--batch_size",
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "batch the data cannot fill one step with",
            setup: nothing,
            args: &["train", "--batch_size", "2", "--checkpoint_dir", "logs"],
            needle: "--batch_size",
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "NaN learning rate",
            setup: nothing,
            args: &["train", "--learning_rate", "NaN"],
            needle: "--learning_rate",
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "infinite learning rate",
            setup: nothing,
            args: &["train", "--learning_rate", "inf"],
            needle: "--learning_rate",
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "zero learning rate",
            setup: nothing,
            args: &["train", "--learning_rate", "0"],
            needle: "--learning_rate",
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "negative decay rate",
            setup: nothing,
            args: &["train", "--decay_rate", "-0.5"],
            needle: "--decay_rate",
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "zero decay steps",
            setup: nothing,
            args: &["train", "--decay_steps", "0"],
            needle: "--decay_steps",
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "zero checkpoint interval",
            setup: nothing,
            args: &["train", "--checkpoint_every", "0"],
            needle: "--checkpoint_every",
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "image interval not a multiple of the summary interval",
            setup: nothing,
            args: &["train", "--image_every", "150"],
            needle: "--image_every",
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "zero threads",
            setup: nothing,
            args: &["train", "--threads", "0"],
            needle: "--threads",
            leaves: Leaves::Nothing("logs"),
        },
        Case {
            name: "an absurd learning rate: training diverges",
            setup: nothing,
            args: &[
                "train",
                "--model",
                "cnn",
                "--threads",
                "1",
                "--device",
                "cpu",
                "--checkpoint_dir",
                "logs",
                "--learning_rate",
                "1e30",
                "--num_epochs",
                "3",
            ],
            needle: "diverged",
            leaves: Leaves::Restorable("logs"),
        },
        // Folders.
        Case {
            name: "checkpoint folder under a file",
            setup: nothing,
            args: &[
                "train",
                "--model",
                "cnn",
                "--threads",
                "1",
                "--device",
                "cpu",
                "--checkpoint_dir",
                "data/train_images.tfrecords/logs",
            ],
            needle: "train_images.tfrecords/logs",
            leaves: Leaves::Unchanged,
        },
        Case {
            name: "a folder that already holds a run",
            setup: trained,
            args: &[
                "train",
                "--model",
                "cnn",
                "--threads",
                "1",
                "--device",
                "cpu",
                "--checkpoint_dir",
                "logs",
            ],
            needle: "--resume",
            leaves: Leaves::Restorable("logs"),
        },
        Case {
            name: "data synth into a folder under a file",
            setup: nothing,
            args: &["data", "synth", "--out", "data/val_images.tfrecords/new"],
            needle: "val_images.tfrecords",
            leaves: Leaves::Unchanged,
        },
        Case {
            name: "inspect a missing folder",
            setup: nothing,
            args: &["inspect", "no-such-logs"],
            needle: "no-such-logs",
            leaves: Leaves::Unchanged,
        },
        // Checkpoints.
        Case {
            name: "eval without a checkpoint",
            setup: nothing,
            args: &[
                "eval",
                "--model",
                "cnn",
                "--checkpoint_dir",
                "logs",
                "--device",
                "cpu",
            ],
            needle: "no checkpoint in logs",
            leaves: Leaves::Unchanged,
        },
        Case {
            name: "eval without the validation file",
            setup: |lab| {
                trained(lab);
                std::fs::remove_file(lab.path("data").join(VAL_FILE)).unwrap();
            },
            args: &[
                "eval",
                "--model",
                "cnn",
                "--checkpoint_dir",
                "logs",
                "--device",
                "cpu",
            ],
            needle: VAL_FILE,
            leaves: Leaves::Restorable("logs"),
        },
        Case {
            name: "corrupt checkpoint data",
            setup: |lab| {
                trained(lab);
                flip_last_byte(&checkpoint_file(lab, ".data-00000-of-00001"));
            },
            args: &[
                "eval",
                "--model",
                "cnn",
                "--checkpoint_dir",
                "logs",
                "--device",
                "cpu",
            ],
            needle: "checksum",
            leaves: Leaves::Unchanged,
        },
        Case {
            name: "truncated checkpoint data",
            setup: |lab| {
                trained(lab);
                truncate_half(&checkpoint_file(lab, ".data-00000-of-00001"));
            },
            args: &[
                "eval",
                "--model",
                "cnn",
                "--checkpoint_dir",
                "logs",
                "--device",
                "cpu",
            ],
            needle: "past the end",
            leaves: Leaves::Unchanged,
        },
        Case {
            name: "truncated checkpoint index",
            setup: |lab| {
                trained(lab);
                truncate_half(&checkpoint_file(lab, ".index"));
            },
            args: &[
                "eval",
                "--model",
                "cnn",
                "--checkpoint_dir",
                "logs",
                "--device",
                "cpu",
            ],
            needle: ".index",
            leaves: Leaves::Unchanged,
        },
        Case {
            name: "resume from a corrupt checkpoint",
            setup: |lab| {
                trained(lab);
                flip_last_byte(&checkpoint_file(lab, ".data-00000-of-00001"));
            },
            args: &[
                "train",
                "--model",
                "cnn",
                "--threads",
                "1",
                "--device",
                "cpu",
                "--checkpoint_dir",
                "logs",
                "--resume",
                "--num_epochs",
                "2",
            ],
            needle: "checksum",
            leaves: Leaves::Unchanged,
        },
        Case {
            name: "checkpoint of another model",
            setup: |lab| {
                let mut tensors = BTreeMap::new();
                let simple = TensorData::from_f32([1], &[1.0]).unwrap();
                tensors.insert("Hidden1/W_fc".to_string(), simple);
                Saver::new(lab.path("logs")).save(4, &tensors).unwrap();
            },
            args: &[
                "eval",
                "--model",
                "cnn",
                "--checkpoint_dir",
                "logs",
                "--device",
                "cpu",
            ],
            needle: "wrong --model",
            leaves: Leaves::Unchanged,
        },
        Case {
            name: "checkpoint variable of the wrong shape",
            setup: |lab| odd_checkpoint(lab, TensorData::from_f32([2], &[1.0, 2.0]).unwrap()),
            args: &[
                "eval",
                "--model",
                "cnn",
                "--checkpoint_dir",
                "logs",
                "--device",
                "cpu",
            ],
            needle: "Conv1/kernel",
            leaves: Leaves::Unchanged,
        },
        Case {
            name: "checkpoint variable of the wrong dtype",
            setup: |lab| {
                odd_checkpoint(
                    lab,
                    TensorData::from_i64([5, 5, 1, 100], &[0; 2500]).unwrap(),
                )
            },
            args: &[
                "eval",
                "--model",
                "cnn",
                "--checkpoint_dir",
                "logs",
                "--device",
                "cpu",
            ],
            needle: "Conv1/kernel",
            leaves: Leaves::Unchanged,
        },
        Case {
            name: "export of a missing checkpoint",
            setup: nothing,
            args: &[
                "export",
                "--checkpoint",
                "logs/model.ckpt-9",
                "--out",
                "model.safetensors",
            ],
            needle: "model.ckpt-9",
            leaves: Leaves::Nothing("model.safetensors"),
        },
        // Prediction inputs.
        Case {
            name: "PNG of the wrong size",
            setup: |lab| {
                trained(lab);
                png(lab, "small.png", image::DynamicImage::new_luma8(64, 64));
            },
            args: &[
                "predict",
                "--model",
                "cnn",
                "--checkpoint_dir",
                "logs",
                "--input",
                "small.png",
                "--out",
                "pred",
                "--device",
                "cpu",
            ],
            needle: "small.png",
            leaves: Leaves::Nothing("pred"),
        },
        Case {
            name: "a text file named .png",
            setup: |lab| {
                trained(lab);
                write(lab, "fake.png", b"not an image");
            },
            args: &[
                "predict",
                "--model",
                "cnn",
                "--checkpoint_dir",
                "logs",
                "--input",
                "fake.png",
                "--out",
                "pred",
                "--device",
                "cpu",
            ],
            needle: "fake.png",
            leaves: Leaves::Nothing("pred"),
        },
        Case {
            name: "predict on a missing TFRecord",
            setup: trained,
            args: &[
                "predict",
                "--model",
                "cnn",
                "--checkpoint_dir",
                "logs",
                "--input",
                "gone.tfrecords",
                "--out",
                "pred",
                "--device",
                "cpu",
            ],
            needle: "gone.tfrecords",
            leaves: Leaves::Nothing("pred"),
        },
    ]
}

/// Runs one case in a fresh lab folder (3 training slices); returns a
/// description of what went wrong, if anything.
fn check(case: &Case) -> Option<String> {
    let lab = Lab::new(3);
    (case.setup)(&lab);
    let mut args: Vec<&str> = case.args.to_vec();
    if args[0] == "train" && !args.contains(&"--data_dir") {
        args.extend(["--data_dir", "data"]);
    }
    let started = Instant::now();
    let ran = lab.tbseg(&args);
    eprintln!("{:>6.1} s  {}", started.elapsed().as_secs_f64(), case.name);
    let lines: Vec<&str> = ran
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let errors: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("tbseg: error: "))
        .collect();
    let others = lines
        .iter()
        .filter(|l| !l.starts_with("tbseg: error: ") && !l.starts_with("tbseg: device "))
        .count();
    let problem = if ran.code() != Some(1) {
        Some(format!("exit status {:?}", ran.code()))
    } else if errors.len() != 1 || others != 0 {
        Some("not exactly one error line".to_string())
    } else if !errors[0].contains(case.needle) {
        Some(format!("the error line lacks {:?}", case.needle))
    } else if ran.stderr.contains("panicked") || ran.stderr.contains("backtrace") {
        Some("a panic".to_string())
    } else {
        match case.leaves {
            Leaves::Nothing(name) if lab.path(name).exists() => Some(format!("{name} was written")),
            Leaves::Restorable(name) if !restores(&lab.path(name)) => {
                Some(format!("{name}'s latest checkpoint does not restore"))
            }
            Leaves::Restorable(name) if !finite(&lab.path(name)) => Some(format!(
                "{name}'s latest checkpoint holds non-finite weights"
            )),
            _ => None,
        }
    };
    problem.map(|problem| format!("{}: {problem}; stderr:\n{}", case.name, ran.stderr))
}

/// Runs every case, four at a time (most of each is libtorch's start-up).
pub fn run() {
    let cases = cases();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .chunks(cases.len().div_ceil(4))
            .map(|chunk| scope.spawn(move || chunk.iter().filter_map(check).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
