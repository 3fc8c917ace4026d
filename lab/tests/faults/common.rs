//! A temporary lab folder with synthetic data, the `tbseg` binary run in
//! it, and readers of what the runs left: the latest checkpoint's weights
//! and the curves TensorBoard would show.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use std::sync::OnceLock;
use tbseg::checkpoint::{latest_checkpoint, read_global_step, BundleReader, GLOBAL_STEP};
use tbseg::proto::tensorflow::{event, session_log::SessionStatus};
use tbseg::reader::EventFileReader;

use tbseg_lab::data::{synth, write_lab_file, LabSlice, TRAIN_FILE, VAL_FILE};
use tbseg_lab::train::{weights, Model, ModelKind};

/// A temporary folder holding `data/` with synthetic slices.
pub struct Lab {
    dir: tempfile::TempDir,
}

/// What a finished `tbseg` run printed.
pub struct Ran {
    output: Output,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

impl Ran {
    fn new(output: Output) -> Ran {
        Ran {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            output,
        }
    }

    /// Asserts the run succeeded.
    pub fn success(self) -> Ran {
        assert!(self.output.status.success(), "failed: {}", self.stderr);
        self
    }

    /// Asserts the run failed with status 1.
    pub fn failure(self) -> Ran {
        assert_eq!(self.output.status.code(), Some(1), "{}", self.stderr);
        self
    }

    /// The exit status code.
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }
}

impl Lab {
    /// `train` training slices and 2 validation slices in `data/`.
    pub fn new(train: usize) -> Lab {
        // The slices are generated once and copied: synthesis is slow.
        static SLICES: OnceLock<Vec<LabSlice>> = OnceLock::new();
        let slices = SLICES.get_or_init(|| synth::generate(7, 8, 0));
        assert!(train <= slices.len());
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        write_lab_file(data.join(TRAIN_FILE), &slices[..train]).unwrap();
        write_lab_file(data.join(VAL_FILE), &slices[train.min(6)..][..2]).unwrap();
        Lab { dir }
    }

    /// `name` inside the lab folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `tbseg args…`, run in the lab folder.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tbseg"));
        command.args(args).current_dir(self.dir.path());
        command
    }

    /// Runs `tbseg args…` to the end.
    pub fn tbseg(&self, args: &[&str]) -> Ran {
        Ran::new(self.command(args).output().unwrap())
    }

    /// `tbseg train` of the full-size `cnn`, one CPU thread, checkpoints in
    /// `dir`, then `extra`.
    pub fn train_command(&self, dir: &str, extra: &[&str]) -> Command {
        let mut command = self.command(&[
            "train",
            "--model",
            "cnn",
            "--device",
            "cpu",
            "--threads",
            "1",
            "--checkpoint_dir",
            dir,
        ]);
        command.args(extra);
        command
    }

    /// Runs [`Lab::train_command`] to the end.
    pub fn train(&self, dir: &str, extra: &[&str]) -> Ran {
        Ran::new(self.train_command(dir, extra).output().unwrap())
    }
}

/// `global_step` and every variable's values (as bits) of the latest
/// checkpoint in `dir`.
pub fn latest_weights(dir: &Path) -> (i64, BTreeMap<String, Vec<u32>>) {
    let prefix = latest_checkpoint(dir).unwrap().expect("a checkpoint");
    let reader = BundleReader::open(&prefix).unwrap();
    let mut values = BTreeMap::new();
    for name in reader.names().filter(|&name| name != GLOBAL_STEP) {
        let tensor = reader.get(name).unwrap().to_f32().unwrap();
        values.insert(
            name.to_string(),
            tensor.iter().map(|v| v.to_bits()).collect(),
        );
    }
    (read_global_step(&reader).unwrap(), values)
}

/// Whether the checkpoint at `prefix` restores into the `cnn` model.
pub fn restores_prefix(prefix: &Path) -> bool {
    let mut model = Model::new(ModelKind::Cnn, tch::Device::Cpu);
    weights::restore(&mut model, prefix).is_ok()
}

/// Whether the latest checkpoint in `dir` restores into the `cnn` model.
pub fn restores(dir: &Path) -> bool {
    match latest_checkpoint(dir) {
        Ok(Some(prefix)) => restores_prefix(&prefix),
        _ => false,
    }
}

/// The steps of every tag in `dir`'s event files as TensorBoard's loader
/// keeps them: files in name order, and a `SessionLog START` at step `s`
/// drops the points at `s` and after that came before it. Also returns
/// the purge steps. Every record before a torn tail must decode.
pub fn curves(dir: &Path) -> (BTreeMap<String, Vec<i64>>, Vec<i64>) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().contains("tfevents"))
        .collect();
    files.sort();
    let mut curves: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut purges = Vec::new();
    for file in files {
        let mut reader = EventFileReader::open(&file).unwrap();
        reader
            .for_each(|event| match &event.what {
                Some(event::What::SessionLog(log)) if log.status == SessionStatus::Start as i32 => {
                    purges.push(event.step);
                    for steps in curves.values_mut() {
                        steps.retain(|&step| step < event.step);
                    }
                }
                Some(event::What::Summary(summary)) => {
                    for value in &summary.value {
                        curves
                            .entry(value.tag.clone())
                            .or_default()
                            .push(event.step);
                    }
                }
                _ => {}
            })
            .unwrap_or_else(|err| panic!("{}: {err}", file.display()));
    }
    (curves, purges)
}

/// Copies the files of `from` (one level) into `to`, created if needed.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}
