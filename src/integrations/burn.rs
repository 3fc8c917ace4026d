//! A TensorBoard metric logger for Burn's training loop:
//! [`TensorBoardMetricLogger`] implements burn-train 0.21.0's
//! `MetricLogger`, so a `SupervisedTraining` writes its train and valid
//! metrics as two TensorBoard runs whose curves overlay.
//!
//! ```no_run
//! use burn_train::logger::FileMetricLogger;
//! use burn_train::{LearningComponentsTypes, SupervisedTraining};
//! use tbseg::integrations::burn::TensorBoardMetricLogger;
//!
//! fn with_tensorboard<LC: LearningComponentsTypes>(
//!     training: SupervisedTraining<LC>,
//! ) -> Result<SupervisedTraining<LC>, tbseg::summary::SummaryError> {
//!     Ok(training
//!         .with_metric_logger(TensorBoardMetricLogger::new("runs/burn")?)
//!         // Registering any logger stops Burn from adding its own file
//!         // logger: register it too, to keep its text logs and summary.
//!         .with_metric_logger(FileMetricLogger::new("artifacts")))
//! }
//! ```
//!
//! # What is written
//!
//! Under the log directory, one run per split: `train/`, `valid/`, and for
//! evaluation `test/` (or `test-<tag>/` for a tagged test split). In each
//! run, for every numeric metric (Burn's display name, such as `Loss`):
//!
//! - `<name>`: the value of each iteration, at step = that split's
//!   iteration count since the start (1, 2, …, across epochs);
//! - `epoch/<name>`: the epoch's mean (weighted by the number of items each
//!   iteration covered, as Burn computes it), at step = the epoch number,
//!   so train and valid land on the same steps and their curves overlay.
//!
//! Non-numeric metrics are not written. Each split's event file is flushed
//! at the end of every epoch, so TensorBoard shows finished epochs at once.
//!
//! # Checkpoint selection and early stopping
//!
//! Burn reads the numbers it selects checkpoints and stops early by from
//! the *first* registered logger whose `read_numeric` succeeds, and panics
//! when none does. This logger answers from memory: one entry per epoch,
//! the epoch's count-weighted mean, which gives exactly the mean Burn
//! computes (its only aggregate). So it may be registered alone, first, or
//! next to Burn's `FileMetricLogger`; a run resumed from a checkpoint knows
//! only the epochs of the current process (Burn's file logger also knows the
//! earlier ones, register it first if early stopping must see them).
//!
//! # Errors
//!
//! Burn's logger methods cannot return errors, and a failing disk should
//! not end a training run: the first write error is printed to stderr once
//! (naming the event file) and later ones are dropped. Creating the logger
//! (the directory and the train and valid event files) is checked up front
//! by [`TensorBoardMetricLogger::new`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn_train::logger::MetricLogger;
use burn_train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn_train::metric::{MetricDefinition, MetricId, NumericEntry};

use crate::summary::{Step, SummaryError, SummaryWriter};

/// A burn-train `MetricLogger` writing TensorBoard event files: one run
/// per split (`train/`, `valid/`, `test/`) under one log directory; see the
/// [module docs](self) for the tags and steps.
pub struct TensorBoardMetricLogger {
    logdir: PathBuf,
    /// One writer per run directory name (`train`, `valid`, ...).
    writers: HashMap<String, SummaryWriter>,
    /// Burn's display names, by metric id (from `log_metric_definition`).
    names: HashMap<MetricId, String>,
    /// Iterations logged so far, per run: the step of per-iteration values.
    iterations: HashMap<String, u64>,
    /// Sum of value × count and total count, per (run, epoch, metric).
    epoch_sums: HashMap<(String, usize, String), (f64, usize)>,
    /// Whether a write error has been reported (only the first is).
    reported_error: bool,
}

impl TensorBoardMetricLogger {
    /// Creates a logger writing under `logdir`, with the `train` and
    /// `valid` runs' event files created at once (a `test` run is created
    /// when an evaluation first logs to it).
    ///
    /// Fails with the [`SummaryError`] of the directory or file that
    /// could not be created.
    pub fn new(logdir: impl AsRef<Path>) -> Result<Self, SummaryError> {
        let mut logger = TensorBoardMetricLogger {
            logdir: logdir.as_ref().to_path_buf(),
            writers: HashMap::new(),
            names: HashMap::new(),
            iterations: HashMap::new(),
            epoch_sums: HashMap::new(),
            reported_error: false,
        };
        for split in [Split::Train, Split::Valid] {
            logger.writer(&run_name(&split))?;
        }
        Ok(logger)
    }

    /// The log directory holding the runs.
    pub fn logdir(&self) -> &Path {
        &self.logdir
    }

    /// The run's writer, created on first use.
    fn writer(&mut self, run: &str) -> Result<&SummaryWriter, SummaryError> {
        if !self.writers.contains_key(run) {
            let writer = SummaryWriter::new(self.logdir.join(run))?;
            self.writers.insert(run.to_owned(), writer);
        }
        Ok(&self.writers[run])
    }

    /// Prints the first write error; training goes on without the logs.
    fn report(&mut self, result: Result<(), SummaryError>) {
        if let Err(e) = result {
            if !self.reported_error {
                eprintln!("tbseg: TensorBoard metric logging stopped working: {e}");
                self.reported_error = true;
            }
        }
    }

    fn log_values(&mut self, run: &str, values: &[(String, f64)], step: Step, prefix: &str) {
        let result = self.writer(run).and_then(|writer| {
            values.iter().try_for_each(|(name, value)| {
                writer.add_scalar(&format!("{prefix}{name}"), *value as f32, step)
            })
        });
        self.report(result);
    }
}

impl MetricLogger for TensorBoardMetricLogger {
    fn log(&mut self, update: MetricsUpdate, epoch: usize, split: &Split) {
        let run = run_name(split);
        let mut values = Vec::with_capacity(update.entries_numeric.len());
        for numeric in &update.entries_numeric {
            let Some(name) = self.names.get(&numeric.entry.metric_id) else {
                continue; // Burn defines every metric before logging it.
            };
            let (sum, count) = weighted(&numeric.numeric_entry);
            let slot = self
                .epoch_sums
                .entry((run.clone(), epoch, name.clone()))
                .or_default();
            slot.0 += sum;
            slot.1 += count;
            values.push((name.clone(), numeric.numeric_entry.current()));
        }
        let step = self.iterations.entry(run.clone()).or_default();
        *step += 1;
        let step = *step;
        self.log_values(&run, &values, step.into(), "");
    }

    fn read_numeric(
        &mut self,
        name: &str,
        epoch: usize,
        split: &Split,
    ) -> Result<Vec<NumericEntry>, String> {
        let key = (run_name(split), epoch, name.to_owned());
        Ok(match self.epoch_sums.get(&key) {
            Some(&(sum, count)) if count > 0 => vec![NumericEntry::Aggregated {
                aggregated_value: sum / count as f64,
                count,
            }],
            _ => Vec::new(),
        })
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        self.names.insert(definition.metric_id, definition.name);
    }

    fn log_epoch_summary(&mut self, summary: EpochSummary) {
        let run = run_name(&summary.split);
        let mut means: Vec<(String, f64)> = self
            .epoch_sums
            .iter()
            .filter(|((r, epoch, _), (_, count))| {
                *r == run && *epoch == summary.epoch_number && *count > 0
            })
            .map(|((_, _, name), (sum, count))| (name.clone(), sum / *count as f64))
            .collect();
        means.sort_by(|a, b| a.0.cmp(&b.0));
        self.log_values(&run, &means, summary.epoch_number.into(), "epoch/");
        let result = self.writer(&run).and_then(|writer| writer.flush());
        self.report(result);
    }
}

/// The run (sub-directory) a split is written to.
fn run_name(split: &Split) -> String {
    match split {
        Split::Train => "train".to_owned(),
        Split::Valid => "valid".to_owned(),
        Split::Test(None) => "test".to_owned(),
        Split::Test(Some(tag)) => format!("test-{}", tag.trim().replace(['/', ' '], "-")),
    }
}

/// An entry as (value × items, items): Burn's `Aggregated` entries are means
/// over `count` items, plain values count once.
fn weighted(entry: &NumericEntry) -> (f64, usize) {
    match entry {
        NumericEntry::Value(v) => (*v, 1),
        NumericEntry::Aggregated {
            aggregated_value,
            count,
        } => (aggregated_value * *count as f64, *count),
    }
}
