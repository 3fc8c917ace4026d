//! Validation during training (`--eval_every N`): every `N` steps the
//! model is scored on the validation file, the lab's metric goes into the
//! run's `eval` folder at that step (so TensorBoard draws the training loss
//! and the validation Dice on one step axis while training runs), the best
//! model so far is kept in `best/` apart from the last five checkpoints,
//! and training can stop early when the metric stops improving.
//!
//! `best/` is an ordinary checkpoint folder (its own `checkpoint` state
//! file, one checkpoint) plus `best_metric.txt`, the metric's value and
//! step, which a resumed run reads so it only replaces a better model.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use tbseg::checkpoint::{self, Saver};
use tbseg::summary::SummaryWriter;

use super::eval::{evaluate, Evaluation};
use super::examples::Examples;
use super::guard::weights_finite;
use super::model::{MetricKind, Model, ModelKind};
use super::scores::ImageScores;
use super::timing::StepPhases;
use super::trainer::{Flow, NonFinite, SummaryStep, TrainSink};
use super::weights::checkpoint_tensors;
use super::TrainError;

/// The best checkpoint's folder inside the checkpoint folder.
pub const BEST_DIR: &str = "best";

/// The validation events' folder inside the checkpoint folder (the same
/// folder `tbseg eval` writes to, so its points join the curve).
pub const EVAL_DIR: &str = "eval";

/// The file in [`BEST_DIR`] recording the best metric and its step.
pub const BEST_RECORD: &str = "best_metric.txt";

/// Validation settings of a training run (default: none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ValidationOptions {
    /// `--eval_every`: validate every this many steps (0 = never).
    pub every: i64,
    /// `--patience`: stop after this many validations without a new best
    /// (`None` = never stop early).
    pub patience: Option<i64>,
}

impl ValidationOptions {
    /// Rejects a negative interval and a patience that is below 1 or has
    /// no validation to count, naming the flag.
    pub fn validate(&self) -> Result<(), TrainError> {
        if self.every < 0 {
            return Err(TrainError::InvalidFlag {
                flag: "--eval_every",
                reason: format!(
                    "{} (must be 0, for never, or a number of steps)",
                    self.every
                ),
            });
        }
        match self.patience {
            Some(patience) if patience < 1 => Err(TrainError::InvalidFlag {
                flag: "--patience",
                reason: format!("{patience} (must be at least 1)"),
            }),
            Some(_) if self.every == 0 => Err(TrainError::InvalidFlag {
                flag: "--patience",
                reason: "needs --eval_every N (there is nothing to be patient about)".into(),
            }),
            _ => Ok(()),
        }
    }
}

/// The best validation result so far.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BestRecord {
    /// Step of the validation (the checkpoint's name step).
    pub step: i64,
    /// The metric's value.
    pub value: f64,
}

impl BestRecord {
    /// Reads `dir/best_metric.txt`; `None` when there is none.
    pub fn read(dir: &Path) -> Result<Option<BestRecord>, TrainError> {
        let path = dir.join(BEST_RECORD);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(TrainError::Io { path, error }),
        };
        let field = |key: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
                .map(str::trim)
        };
        let parsed = field("step")
            .and_then(|s| s.parse::<i64>().ok())
            .filter(|&step| step >= 0)
            .zip(field("value").and_then(|v| v.parse().ok()));
        match parsed {
            Some((step, value)) => Ok(Some(BestRecord { step, value })),
            None => Err(TrainError::Io {
                path,
                error: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "expected `step=N` and `value=X` lines",
                ),
            }),
        }
    }

    /// Writes `dir/best_metric.txt` atomically, so a crash leaves the old
    /// record or the new one.
    pub fn write(&self, dir: &Path, tag: &str) -> Result<(), TrainError> {
        let path = dir.join(BEST_RECORD);
        let text = format!("metric={tag}\nstep={}\nvalue={}\n", self.step, self.value);
        tbseg::atomic::write(&path, text.as_bytes()).map_err(|error| TrainError::Io { path, error })
    }
}

/// What one validation meant for the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// A new best (higher than every earlier value; NaN never is).
    pub improved: bool,
    /// The patience is used up.
    pub stop: bool,
}

/// Picks the best validation (higher is better: Dice and pixel accuracy)
/// and counts the validations since, for early stopping.
#[derive(Clone, Debug, PartialEq)]
pub struct BestTracker {
    best: Option<BestRecord>,
    since_best: i64,
    patience: Option<i64>,
}

impl BestTracker {
    /// Starts from an earlier best (a resumed run) or none.
    pub fn new(best: Option<BestRecord>, patience: Option<i64>) -> BestTracker {
        BestTracker {
            best,
            since_best: 0,
            patience,
        }
    }

    /// The best so far.
    pub fn best(&self) -> Option<BestRecord> {
        self.best
    }

    /// Records the value of the validation at `step`.
    pub fn observe(&mut self, step: i64, value: f64) -> Verdict {
        let improved = !value.is_nan() && self.best.is_none_or(|best| value > best.value);
        if improved {
            self.best = Some(BestRecord { step, value });
            self.since_best = 0;
        } else {
            self.since_best += 1;
        }
        Verdict {
            improved,
            stop: self.patience.is_some_and(|p| self.since_best >= p),
        }
    }
}

/// Writes the per-image scores of an evaluation at `step`: mean Dice,
/// mean IoU, mean Hausdorff distance (pixels) and the Dice distribution
/// as a histogram.
pub fn log_image_scores(
    writer: &SummaryWriter,
    scores: &ImageScores,
    step: i64,
) -> Result<(), TrainError> {
    writer.add_scalar("eval/mean_image_dice", scores.mean_dice() as f32, step)?;
    writer.add_scalar("eval/mean_iou", scores.mean_iou() as f32, step)?;
    let hausdorff = scores.mean_hausdorff();
    if hausdorff.is_finite() {
        writer.add_scalar("eval/mean_hausdorff_px", hausdorff as f32, step)?;
    }
    writer.add_histogram("eval/image_dice", &scores.dices(), step)?;
    Ok(())
}

/// Evaluates `model` on `examples` with the lab's counts and the per-image
/// scores.
pub fn evaluate_with_scores(
    model: &Model,
    examples: &Examples,
) -> Result<(Evaluation, ImageScores), TrainError> {
    let mut scores = ImageScores::default();
    let side = examples.size() as usize;
    let mut failed = None;
    let evaluation = evaluate(model, examples, 8, |index, mask| {
        match examples.label_values(index) {
            Ok(label) => scores.add(mask, &label, side),
            Err(err) => {
                failed.get_or_insert(err);
            }
        }
    })?;
    match failed {
        Some(err) => Err(err),
        None => Ok((evaluation, scores)),
    }
}

/// The name the lab printed for a metric.
pub fn metric_name(metric: MetricKind) -> &'static str {
    match metric {
        MetricKind::PixelAccuracy => "precision",
        MetricKind::Dice => "Dice metric",
    }
}

/// A [`TrainSink`] that validates every `every` steps and passes
/// everything else on to the sink it wraps.
pub struct Validator<'a> {
    inner: &'a mut dyn TrainSink,
    examples: &'a Examples,
    kind: ModelKind,
    every: i64,
    writer: SummaryWriter,
    best_dir: PathBuf,
    tracker: BestTracker,
    last_validated: Option<i64>,
    history: Vec<(i64, f64)>,
}

impl<'a> Validator<'a> {
    /// Validates `kind`'s metric on `examples`, writing events into
    /// `eval_dir` and the best checkpoint into `checkpoint_dir/best`. A
    /// run resumed at `resume_step` reads the earlier best back, so only a
    /// better model replaces it, and its event file purges the validation
    /// points the interrupted run logged at and after that step.
    pub fn new(
        inner: &'a mut dyn TrainSink,
        examples: &'a Examples,
        kind: ModelKind,
        options: ValidationOptions,
        checkpoint_dir: &Path,
        eval_dir: &Path,
        resume_step: Option<i64>,
    ) -> Result<Validator<'a>, TrainError> {
        options.validate()?;
        let best_dir = checkpoint_dir.join(BEST_DIR);
        let earlier = match resume_step {
            Some(_) => BestRecord::read(&best_dir)?,
            None => None,
        };
        std::fs::create_dir_all(eval_dir).map_err(|error| TrainError::Io {
            path: eval_dir.to_path_buf(),
            error,
        })?;
        let mut builder = SummaryWriter::builder(eval_dir);
        if let Some(step) = resume_step {
            builder = builder.purge_step(step);
        }
        Ok(Validator {
            inner,
            examples,
            kind,
            every: options.every.max(1),
            writer: builder.build()?,
            best_dir,
            tracker: BestTracker::new(earlier, options.patience),
            last_validated: None,
            history: Vec::new(),
        })
    }

    /// Every validation of this session as (step, metric value).
    pub fn history(&self) -> &[(i64, f64)] {
        &self.history
    }

    /// The best validation so far (this session's or a resumed one's).
    pub fn best(&self) -> Option<BestRecord> {
        self.tracker.best()
    }

    /// Flushes, syncs and closes the evaluation event file.
    pub fn close(&self) -> Result<(), TrainError> {
        self.writer.sync()?;
        self.writer.close()?;
        Ok(())
    }

    fn save_best(
        &self,
        record: BestRecord,
        global_step: i64,
        model: &Model,
    ) -> Result<(), TrainError> {
        let tensors = checkpoint_tensors(model, global_step)?;
        Saver::new(&self.best_dir)
            .max_to_keep(1)
            .save(record.step, &tensors)?;
        record.write(&self.best_dir, self.kind.eval_tag())
    }
}

impl TrainSink for Validator<'_> {
    fn started(&mut self, model: &Model, first_step: i64, steps: i64) -> Result<(), TrainError> {
        self.inner.started(model, first_step, steps)
    }

    fn stepped(&mut self, step: i64, loss: f64, seconds: f64, summary: bool) {
        self.inner.stepped(step, loss, seconds, summary);
    }

    fn wants_device_phase_times(&self) -> bool {
        self.inner.wants_device_phase_times()
    }

    fn phases(&mut self, step: i64, phases: &StepPhases) {
        self.inner.phases(step, phases);
    }

    fn nonfinite(
        &mut self,
        step: i64,
        what: NonFinite,
        loss: f64,
        skipped: u64,
    ) -> Result<(), TrainError> {
        self.inner.nonfinite(step, what, loss, skipped)
    }

    fn summary(&mut self, summary: &SummaryStep<'_>) -> Result<(), TrainError> {
        self.inner.summary(summary)
    }

    fn validate(
        &mut self,
        step: i64,
        global_step: i64,
        last: bool,
        model: &Model,
    ) -> Result<Flow, TrainError> {
        let due = if last {
            self.last_validated != Some(global_step)
        } else {
            step > 0 && step % self.every == 0
        };
        if !due {
            return Ok(Flow::Continue);
        }
        self.last_validated = Some(global_step);
        let (evaluation, scores) = evaluate_with_scores(model, self.examples)?;
        let metric = self.kind.metric();
        let value = evaluation.value(metric);
        self.writer
            .add_scalar(self.kind.eval_tag(), value as f32, step)?;
        log_image_scores(&self.writer, &scores, step)?;
        self.writer.flush()?;
        self.history.push((step, value));
        let verdict = self.tracker.observe(step, value);
        // Weights an update overflowed are never kept as the best, whatever
        // they score: the loop stops on them at its next checkpoint.
        if verdict.improved && weights_finite(model)? {
            if let Some(record) = self.tracker.best() {
                self.save_best(record, global_step, model)?;
            }
        }
        println!(
            "OUTPUT: Step {step}: validation {} = {value:.3}{}",
            metric_name(metric),
            if verdict.improved {
                " (best so far)"
            } else {
                ""
            }
        );
        Ok(if verdict.stop && !last {
            Flow::Stop
        } else {
            Flow::Continue
        })
    }

    fn checkpoint(
        &mut self,
        name_step: i64,
        global_step: i64,
        model: &Model,
    ) -> Result<(), TrainError> {
        // The validation events up to this step become durable with the
        // checkpoint, as the training events do.
        self.writer.sync()?;
        self.inner.checkpoint(name_step, global_step, model)
    }
}

/// Which checkpoint `eval` and `predict` load (`--checkpoint`, default
/// `latest`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CheckpointChoice {
    /// The newest checkpoint in the checkpoint folder.
    #[default]
    Latest,
    /// The best by validation (`<checkpoint_dir>/best`, from `--eval_every`).
    Best,
    /// A checkpoint prefix such as `logs/unet/model.ckpt-2000`.
    Prefix(PathBuf),
}

impl FromStr for CheckpointChoice {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(match text {
            "latest" => CheckpointChoice::Latest,
            "best" => CheckpointChoice::Best,
            other => CheckpointChoice::Prefix(PathBuf::from(other)),
        })
    }
}

impl CheckpointChoice {
    /// The checkpoint prefix this choice names in `checkpoint_dir`.
    pub fn resolve(&self, checkpoint_dir: &Path) -> Result<PathBuf, TrainError> {
        match self {
            CheckpointChoice::Latest => super::weights::latest(checkpoint_dir),
            CheckpointChoice::Best => {
                let dir = checkpoint_dir.join(BEST_DIR);
                checkpoint::latest_checkpoint(&dir)?.ok_or_else(|| TrainError::InvalidFlag {
                    flag: "--checkpoint",
                    reason: format!(
                        "best: no checkpoint in {}; train with --eval_every N to keep the best one",
                        dir.display()
                    ),
                })
            }
            CheckpointChoice::Prefix(prefix) => {
                let mut index = prefix.clone().into_os_string();
                index.push(".index");
                if Path::new(&index).is_file() {
                    Ok(prefix.clone())
                } else {
                    Err(TrainError::InvalidFlag {
                        flag: "--checkpoint",
                        reason: format!(
                            "{}: no such checkpoint (expected {}; or `latest`, `best`)",
                            prefix.display(),
                            Path::new(&index).display()
                        ),
                    })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use tch::Device;

    use super::*;
    use crate::train::model::{Architecture, CnnConfig};
    use crate::train::trainer::{train, NullSink, TrainConfig, TrainOutcome};

    /// Two 32x32 images, each a bright disc with its label.
    fn discs() -> Examples {
        let size = 32i64;
        let mut pairs = Vec::new();
        for (cx, cy) in [(10.0f32, 12.0f32), (20.0, 18.0)] {
            let mut image = vec![0.0f32; (size * size) as usize];
            let mut label = vec![0u8; (size * size) as usize];
            for y in 0..size {
                for x in 0..size {
                    let inside = (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2) < 36.0;
                    image[(y * size + x) as usize] = if inside { 0.9 } else { 0.1 };
                    label[(y * size + x) as usize] = u8::from(inside);
                }
            }
            pairs.push((image, label));
        }
        Examples::from_pairs(
            pairs.iter().map(|(i, l)| (i.as_slice(), l.as_slice())),
            size,
            Device::Cpu,
            "discs",
        )
        .unwrap()
    }

    fn tiny_model() -> Model {
        tch::manual_seed(0);
        let config = CnnConfig {
            image_size: 32,
            channels: [2, 2, 2, 2],
        };
        Model::with_architecture(ModelKind::CnnDice, Architecture::Cnn(config), Device::Cpu)
    }

    /// Trains the tiny network on the discs for 15 epochs (29 steps)
    /// validating on the same discs; returns the outcome and the history.
    fn run(
        dir: &Path,
        learning_rate: f64,
        options: ValidationOptions,
    ) -> (TrainOutcome, Vec<(i64, f64)>, Option<BestRecord>) {
        let examples = discs();
        let model = tiny_model();
        let config = TrainConfig {
            kind: ModelKind::CnnDice,
            num_epochs: 15,
            learning_rate,
            ..TrainConfig::default()
        };
        let mut inner = NullSink;
        let mut validator = Validator::new(
            &mut inner,
            &examples,
            ModelKind::CnnDice,
            options,
            dir,
            &dir.join("eval"),
            None,
        )
        .unwrap();
        let stop = AtomicBool::new(false);
        let outcome = train(&config, &model, &examples, 0, &mut validator, &stop).unwrap();
        validator.close().unwrap();
        (outcome, validator.history().to_vec(), validator.best())
    }

    #[test]
    fn eval_every_writes_points_at_the_right_steps() {
        let dir = tempfile::tempdir().unwrap();
        let options = ValidationOptions {
            every: 10,
            patience: None,
        };
        let (outcome, history, best) = run(dir.path(), 0.5, options);
        assert_eq!(outcome.steps, 29);
        let steps: Vec<i64> = history.iter().map(|&(s, _)| s).collect();
        assert_eq!(steps, [10, 20, 29], "every 10 steps, then the final model");

        let logdir = tbseg::reader::Logdir::scan(dir.path().join("eval")).unwrap();
        let run = logdir.run(".").unwrap();
        let points = run.scalars("2Dice metric").unwrap();
        let written: Vec<i64> = points.iter().map(|&(s, _)| s).collect();
        assert_eq!(written, [10, 20, 29]);
        for ((_, value), (_, logged)) in history.iter().zip(&points) {
            assert!(value.is_nan() && logged.is_nan() || (*value as f32 - logged).abs() < 1e-6);
        }
        for tag in ["eval/mean_image_dice", "eval/mean_iou"] {
            assert_eq!(run.scalars(tag).map(|p| p.len()), Some(3), "{tag}");
        }
        assert!(run.series("eval/image_dice").is_some());

        // The best checkpoint is the validation with the highest Dice.
        let best = best.expect("a best model");
        let top = history
            .iter()
            .filter(|(_, v)| !v.is_nan())
            .fold(None::<(i64, f64)>, |m, &(s, v)| match m {
                Some((_, mv)) if mv >= v => m,
                _ => Some((s, v)),
            })
            .unwrap();
        assert_eq!((best.step, best.value), top);
        let prefix = CheckpointChoice::Best.resolve(dir.path()).unwrap();
        assert_eq!(
            prefix,
            dir.path()
                .join("best")
                .join(format!("model.ckpt-{}", top.0))
        );
        assert_eq!(
            BestRecord::read(&dir.path().join("best")).unwrap(),
            Some(best)
        );
    }

    #[test]
    fn patience_stops_a_run_that_no_longer_improves() {
        let dir = tempfile::tempdir().unwrap();
        let options = ValidationOptions {
            every: 5,
            patience: Some(2),
        };
        // A learning rate too small to change a single predicted pixel: the
        // first validation is the best, the next two are not better.
        let (outcome, history, best) = run(dir.path(), 1e-12, options);
        assert!(outcome.stopped_early);
        assert_eq!(history.iter().map(|h| h.0).collect::<Vec<_>>(), [5, 10, 15]);
        assert_eq!(outcome.steps, 16, "stopped after step 15's update");
        assert_eq!(best.map(|b| b.step), Some(5));
    }

    #[test]
    fn tracker_keeps_the_highest_value_and_counts_patience() {
        let mut tracker = BestTracker::new(None, Some(3));
        let verdicts: Vec<Verdict> = [0.5, 0.7, 0.6, f64::NAN, 0.7]
            .iter()
            .enumerate()
            .map(|(i, &v)| tracker.observe(i as i64 * 100, v))
            .collect();
        let improved: Vec<bool> = verdicts.iter().map(|v| v.improved).collect();
        assert_eq!(improved, [true, true, false, false, false]);
        let stops: Vec<bool> = verdicts.iter().map(|v| v.stop).collect();
        assert_eq!(stops, [false, false, false, false, true]);
        assert_eq!(
            tracker.best(),
            Some(BestRecord {
                step: 100,
                value: 0.7
            })
        );
        // A resumed run only replaces a better earlier best.
        let mut resumed = BestTracker::new(tracker.best(), None);
        assert!(!resumed.observe(600, 0.69).improved);
        assert!(resumed.observe(700, 0.71).improved);
    }

    #[test]
    fn checkpoint_choices_say_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let err = CheckpointChoice::Best.resolve(dir.path()).unwrap_err();
        assert!(err.to_string().contains("--eval_every"), "{err}");
        let choice: CheckpointChoice = "logs/x/model.ckpt-5".parse().unwrap();
        let err = choice.resolve(dir.path()).unwrap_err().to_string();
        assert!(err.contains("model.ckpt-5.index"), "{err}");
        assert_eq!("best".parse(), Ok(CheckpointChoice::Best));
        assert_eq!("latest".parse(), Ok(CheckpointChoice::Latest));
        let bad = ValidationOptions {
            every: 0,
            patience: Some(3),
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("--patience"));
    }
}
