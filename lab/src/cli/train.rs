//! `tbseg train`: the lab's `runTraining.py` for one task.
//!
//! Flags are spelled as in the lab (`--learning_rate`, `--num_epochs`, ...)
//! with kebab-case aliases. Every flag is checked, and the training file
//! read, before the checkpoint folder is touched, so a bad command line
//! leaves no files behind.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use tbseg::summary::SessionStatus;
use tch::Device;

use crate::data;
use crate::train::examples::Examples;
use crate::train::loss::LossKind;
use crate::train::optim::OptimizerKind;
use crate::train::options::TrainOptions;
use crate::train::output::{RunLog, SummaryCadence};
use crate::train::recipe::Recipe;
use crate::train::trainer::{self, OnNonFinite, TrainConfig, CHECKPOINT_EVERY};
use crate::train::validate::{metric_name, ValidationOptions, Validator, BEST_DIR, EVAL_DIR};
use crate::train::{device, run_dir, weights, DeviceChoice, Model, ModelKind, TrainError};

use super::signals;
use super::Interrupted;

/// `tbseg train --help`'s closing section (the README's "When things go
/// wrong", briefly).
pub const WHEN_THINGS_GO_WRONG: &str = "\
When things go wrong:
  Resume      --resume continues from the latest checkpoint; the new event file purges the
              steps after it, so TensorBoard shows one curve. A folder that already holds a
              run needs --resume or --overwrite (which deletes its events and checkpoints).
  Signals     SIGINT (Ctrl-C) or SIGTERM saves a checkpoint, syncs the events and exits
              with status 130 or 143; a second signal exits at once.
  Divergence  a NaN or infinite loss or gradient stops the run (status 1) naming the step,
              without saving the bad weights; --on_nonfinite skip skips such steps instead.
  A crash     (kill -9, power cut) loses the steps since the last checkpoint
              (--checkpoint_every, 1000 by default); --resume redoes them.
Exit status: 0 done, 1 error, 2 bad command line, 130 SIGINT, 143 SIGTERM.";

/// Where and with how many threads libtorch runs (shared by the trainer's
/// subcommands).
#[derive(Debug, Clone, clap::Args)]
pub struct Runtime {
    /// `auto` uses the first CUDA GPU when libtorch sees one.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
    /// CPU threads for libtorch (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
}

impl Runtime {
    /// Applies the thread count and resolves the device; [`announce`]
    /// prints it once the inputs have been checked, so that an error is the
    /// only line a bad command prints.
    pub fn start(&self) -> anyhow::Result<Device> {
        if self.threads == Some(0) {
            return Err(TrainError::InvalidFlag {
                flag: "--threads",
                reason: "0 (must be at least 1)".into(),
            }
            .into());
        }
        let device = self.device.resolve()?;
        device::keep_freed_memory();
        device::set_threads(self.threads);
        Ok(device)
    }
}

/// Prints the device a command runs on (to stderr), once per process.
pub fn announce(device: Device) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| eprintln!("tbseg: device {}", device::describe(device)));
}

/// Flags of `tbseg train`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A named preset of the flags below: `lab` (the defaults), `lab-best` (the lab's best: lr 0.03, decay 0.75 per 10000 steps, 100 epochs) or `best` (tbseg's: unet, adam 0.001, dice-cross-entropy, --augment --augment_symmetries false, 20 epochs, --eval_every 231). Flags given explicitly override it.
    #[arg(long, value_enum)]
    pub recipe: Option<Recipe>,
    /// Which task's network to train [default: cnn-dice, or the recipe's].
    #[arg(long, value_enum)]
    pub model: Option<ModelKind>,
    /// Initial learning rate [default: 0.01, or the recipe's].
    #[arg(
        long = "learning_rate",
        visible_alias = "learning-rate",
        allow_negative_numbers = true
    )]
    pub learning_rate: Option<f64>,
    /// Staircase decay factor per `decay_steps` (not for simple; 1.0 = constant) [default: 1.0, or the recipe's].
    #[arg(
        long = "decay_rate",
        visible_alias = "decay-rate",
        allow_negative_numbers = true
    )]
    pub decay_rate: Option<f64>,
    /// Steps per decay level [default: 1000, or the recipe's].
    #[arg(
        long = "decay_steps",
        visible_alias = "decay-steps",
        allow_negative_numbers = true
    )]
    pub decay_steps: Option<i64>,
    /// Steps between the loss line and summaries (the lab's 100; each also takes the lab's extra summary batch).
    #[arg(
        long = "summary_every",
        visible_alias = "summary-every",
        default_value_t = crate::train::schedule::SUMMARY_EVERY,
        allow_negative_numbers = true
    )]
    pub summary_every: i64,
    /// Steps between checkpoints (the lab's 1000; each save also syncs the events).
    #[arg(
        long = "checkpoint_every",
        visible_alias = "checkpoint-every",
        default_value_t = CHECKPOINT_EVERY,
        allow_negative_numbers = true
    )]
    pub checkpoint_every: i64,
    /// A step with a NaN or infinite loss or gradient: stop (keeping the last good checkpoint) or skip it.
    #[arg(
        long = "on_nonfinite",
        visible_alias = "on-nonfinite",
        value_enum,
        default_value_t = OnNonFinite::Stop
    )]
    pub on_nonfinite: OnNonFinite,
    /// Passes over the training file [default: 1, or the recipe's].
    #[arg(
        long = "num_epochs",
        visible_alias = "num-epochs",
        allow_negative_numbers = true
    )]
    pub num_epochs: Option<i64>,
    /// Examples per step.
    #[arg(
        long = "batch_size",
        visible_alias = "batch-size",
        default_value_t = 1,
        allow_negative_numbers = true
    )]
    pub batch_size: i64,
    /// Folder with `train_images.tfrecords` (`tbseg data synth` makes one); also an s3://, gs:// or az:// URL.
    #[arg(long = "data_dir", visible_alias = "data-dir", default_value = "data")]
    pub data_dir: PathBuf,
    /// Folder for checkpoints and TensorBoard events (default: `logs/<model>`); an s3://, gs:// or az:// URL keeps them on object storage (credentials from the AWS_*, GOOGLE_*, AZURE_* variables).
    #[arg(long = "checkpoint_dir", visible_alias = "checkpoint-dir")]
    pub checkpoint_dir: Option<PathBuf>,
    /// Seed of the initial weights and the per-epoch shuffles.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Continue from the latest checkpoint in the checkpoint folder.
    #[arg(long, conflicts_with = "overwrite")]
    pub resume: bool,
    /// Delete the events and checkpoints of a run already in the checkpoint folder first.
    #[arg(long)]
    pub overwrite: bool,
    /// Image summaries (input, label, overlay) every this many steps (a multiple of --summary_every).
    #[arg(
        long = "image_every",
        visible_alias = "image-every",
        default_value_t = 500,
        allow_negative_numbers = true
    )]
    pub image_every: i64,
    /// Weight histograms every this many steps (a multiple of --summary_every).
    #[arg(
        long = "histogram_every",
        visible_alias = "histogram-every",
        default_value_t = 500,
        allow_negative_numbers = true
    )]
    pub histogram_every: i64,
    /// Loss to minimise [default: cross-entropy, or the recipe's].
    #[arg(long, value_enum)]
    pub loss: Option<LossKind>,
    /// Update rule, all following the staircase learning rate [default: sgd, or the recipe's].
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// Warp (small rotation, scale, shift) and jitter every training example on the fly, and flip and turn it by quarter turns unless --augment_symmetries false (seeded by --seed; on in --recipe best).
    #[arg(long)]
    pub augment: bool,
    /// With --augment, also rotate by quarter turns and flip; `false` keeps the heart's orientation (the RV on its side of the LV) [default: true, or the recipe's].
    #[arg(
        long = "augment_symmetries",
        visible_alias = "augment-symmetries",
        value_name = "BOOL",
        action = clap::ArgAction::Set
    )]
    pub augment_symmetries: Option<bool>,
    /// Score the validation file every N steps into <checkpoint_dir>/eval and keep the best model in <checkpoint_dir>/best (0 = never) [default: 0, or the recipe's].
    #[arg(
        long = "eval_every",
        visible_alias = "eval-every",
        allow_negative_numbers = true
    )]
    pub eval_every: Option<i64>,
    /// Stop after this many validations without a new best (needs --eval_every).
    #[arg(long, allow_negative_numbers = true)]
    pub patience: Option<i64>,
    /// Device and thread count.
    #[command(flatten)]
    pub runtime: Runtime,
}

/// A fully checked training job.
#[derive(Clone, Debug)]
pub struct TrainJob {
    /// Hyper-parameters.
    pub config: TrainConfig,
    /// Folder holding the training file.
    pub data_dir: PathBuf,
    /// Folder for checkpoints and events.
    pub checkpoint_dir: PathBuf,
    /// Continue from the latest checkpoint.
    pub resume: bool,
    /// Delete an earlier run's events and checkpoints in the folder first.
    pub overwrite: bool,
    /// How often images and histograms are logged.
    pub cadence: SummaryCadence,
    /// Validation during training (default: none).
    pub validation: ValidationOptions,
}

/// What a training job did.
#[derive(Clone, Debug)]
pub struct TrainReport {
    /// `global_step` at the end.
    pub steps: i64,
    /// Ended by a signal (SIGINT or SIGTERM).
    pub interrupted: bool,
    /// Wall time of the job in seconds.
    pub seconds: f64,
}

/// Default checkpoint folder of a task: `logs/<model>`.
pub fn default_checkpoint_dir(kind: ModelKind) -> PathBuf {
    Path::new("logs").join(kind.name())
}

fn positive(flag: &'static str, value: i64) -> Result<u64, TrainError> {
    u64::try_from(value)
        .ok()
        .filter(|&v| v > 0)
        .ok_or_else(|| TrainError::InvalidFlag {
            flag,
            reason: format!("{value} (must be at least 1)"),
        })
}

impl Args {
    /// Checks the flags and builds the job.
    pub fn job(&self) -> Result<TrainJob, TrainError> {
        let recipe = self.recipe.unwrap_or_default().values();
        let model = self.model.unwrap_or(recipe.model);
        let config = TrainConfig {
            kind: model,
            learning_rate: self.learning_rate.unwrap_or(recipe.learning_rate),
            decay_rate: self.decay_rate.unwrap_or(recipe.decay_rate),
            decay_steps: positive(
                "--decay_steps",
                self.decay_steps.unwrap_or(recipe.decay_steps),
            )? as i64,
            num_epochs: positive("--num_epochs", self.num_epochs.unwrap_or(recipe.num_epochs))?,
            batch_size: usize::try_from(positive("--batch_size", self.batch_size)?).map_err(
                |_| TrainError::InvalidFlag {
                    flag: "--batch_size",
                    reason: format!("{} (too large for this machine)", self.batch_size),
                },
            )?,
            seed: self.seed,
            checkpoint_every: positive("--checkpoint_every", self.checkpoint_every)? as i64,
            on_nonfinite: self.on_nonfinite,
            summary_every: positive("--summary_every", self.summary_every)? as i64,
            options: TrainOptions {
                loss: self.loss.unwrap_or(recipe.loss),
                optimizer: self.optimizer.unwrap_or(recipe.optimizer),
                augment: self.augment || recipe.augment,
                augment_symmetries: self.augment_symmetries.unwrap_or(recipe.augment_symmetries),
            },
        };
        config.validate()?;
        let validation = ValidationOptions {
            every: self.eval_every.unwrap_or(recipe.eval_every),
            patience: self.patience,
        };
        validation.validate()?;
        for (flag, every) in [
            ("--image_every", self.image_every),
            ("--histogram_every", self.histogram_every),
        ] {
            if every <= 0 || every % config.summary_every != 0 {
                return Err(TrainError::InvalidFlag {
                    flag,
                    reason: format!(
                        "{every} (must be a positive multiple of --summary_every, {})",
                        config.summary_every
                    ),
                });
            }
        }
        Ok(TrainJob {
            config,
            data_dir: self.data_dir.clone(),
            checkpoint_dir: self
                .checkpoint_dir
                .clone()
                .unwrap_or_else(|| default_checkpoint_dir(model)),
            resume: self.resume,
            overwrite: self.overwrite,
            cadence: SummaryCadence {
                images_every: self.image_every,
                histograms_every: self.histogram_every,
            },
            validation,
        })
    }
}

/// Runs `tbseg train`. A run stopped by a signal ends in an
/// [`Interrupted`] error, which sets the exit status.
pub fn run(args: Args) -> anyhow::Result<()> {
    let job = args.job()?;
    let device = args.runtime.start()?;
    let report = train_job(&job, device)?;
    if report.interrupted {
        return Err(Interrupted {
            signal: signals::received().unwrap_or(libc::SIGINT),
            step: report.steps,
        }
        .into());
    }
    Ok(())
}

/// The data file `name` in `dir`, or the error that says how to make it.
pub fn data_file(dir: &Path, name: &str) -> Result<PathBuf, TrainError> {
    let path = tbseg::storage::join(dir, name);
    if tbseg::storage::is_remote(dir) {
        // One lookup of the object; an unreachable store is its own error.
        return match tbseg::storage::is_file(&path) {
            Ok(true) => Ok(path),
            Ok(false) => Err(TrainError::MissingData { path }),
            Err(error) => Err(TrainError::Io { path, error }),
        };
    }
    if path.is_file() {
        Ok(path)
    } else if dir.is_dir() {
        Err(TrainError::MissingData { path })
    } else {
        Err(TrainError::MissingData {
            path: dir.to_path_buf(),
        })
    }
}

/// Reads a lab TFRecord file into tensors on `device`.
pub fn load_examples(path: &Path, device: Device) -> anyhow::Result<Examples> {
    let images = data::read_lab_file(path).map_err(TrainError::from)?;
    let what = path.display().to_string();
    let examples = Examples::from_pairs(
        images
            .iter()
            .map(|example| (example.image.as_slice(), example.label.as_slice())),
        data::SIZE as i64,
        device,
        &what,
    )?;
    Ok(examples)
}

/// Trains one task: reads the data and checks the flags against it,
/// refuses to mix with an earlier run in the folder (unless resuming or
/// overwriting), restores when resuming, runs the loop with the lab's
/// outputs, prints the lab's final line. Nothing is written before the
/// data and flags have been checked.
pub fn train_job(job: &TrainJob, device: Device) -> anyhow::Result<TrainReport> {
    let started = Instant::now();
    job.config.validate()?;
    let train_path = data_file(&job.data_dir, data::TRAIN_FILE)?;
    let examples = load_examples(&train_path, device)?;
    let validation_examples = if job.validation.every > 0 {
        let val_path = data_file(&job.data_dir, data::VAL_FILE)?;
        Some(load_examples(&val_path, device)?)
    } else {
        None
    };
    let steps = job.config.step_count(examples.len())?;
    let dir = &job.checkpoint_dir;
    if !job.resume {
        if let Some(found) = run_dir::existing_run(dir) {
            if !job.overwrite {
                return Err(TrainError::ExistingRun {
                    dir: dir.clone(),
                    found,
                }
                .into());
            }
            run_dir::clear_run(dir).map_err(|error| TrainError::Io {
                path: dir.clone(),
                error,
            })?;
            eprintln!(
                "tbseg: --overwrite: deleted the earlier run in {}",
                dir.display()
            );
        }
    }
    tch::manual_seed(job.config.seed as i64);
    let mut model = Model::new(job.config.kind, device);
    let mut resume_step = None;
    if job.resume {
        match tbseg::checkpoint::latest_checkpoint(dir).map_err(TrainError::from)? {
            Some(prefix) => {
                let step = weights::restore(&mut model, &prefix)
                    .with_context(|| format!("restoring {}", prefix.display()))?;
                if step >= steps {
                    // Saving now would move `global_step` back: the run is done.
                    eprintln!(
                        "tbseg: {} is at step {step}, this run's {} epochs end at step {steps}: \
                         nothing to train",
                        prefix.display(),
                        job.config.num_epochs
                    );
                    println!(
                        "OUTPUT: Done training for {} epochs, {step} steps.",
                        job.config.num_epochs
                    );
                    return Ok(TrainReport {
                        steps: step,
                        interrupted: false,
                        seconds: started.elapsed().as_secs_f64(),
                    });
                }
                eprintln!("tbseg: resuming from {} at step {step}", prefix.display());
                resume_step = Some(step);
            }
            None => {
                eprintln!(
                    "tbseg: --resume: no checkpoint in {}, starting from scratch",
                    dir.display()
                );
                // Events of a run killed before its first checkpoint go.
                resume_step = Some(0);
            }
        }
    }
    announce(device);
    let mut log = RunLog::create(dir, &job.config, job.cadence, resume_step)?;
    let stop = signals::stop_flag();
    let first_step = resume_step.unwrap_or(0);
    let trained = match &validation_examples {
        Some(validation_examples) => train_validating(
            job,
            &model,
            &examples,
            validation_examples,
            first_step,
            &mut log,
            stop,
        ),
        None => trainer::train(&job.config, &model, &examples, first_step, &mut log, stop),
    };
    let outcome = match trained {
        Ok(outcome) => outcome,
        Err(err) => {
            // The run's error is the one to report; the events written so
            // far are flushed and synced on the way out if the disk allows.
            let _ = log.finish(SessionStatus::Failure);
            return Err(err.into());
        }
    };
    let status = if outcome.interrupted {
        SessionStatus::Running
    } else {
        SessionStatus::Success
    };
    log.finish(status)?;
    if outcome.interrupted {
        if let Some(path) = log.last_checkpoint() {
            eprintln!("tbseg: saved {} at step {}", path.display(), outcome.steps);
        }
    } else {
        if outcome.skipped > 0 {
            eprintln!(
                "tbseg: skipped {} step(s) with a non-finite loss or gradient",
                outcome.skipped
            );
        }
        if outcome.stopped_early {
            println!(
                "OUTPUT: stopped early at step {}: no better validation in the last {} evaluations.",
                outcome.steps,
                job.validation.patience.unwrap_or(0)
            );
        }
        println!(
            "OUTPUT: Done training for {} epochs, {} steps.",
            job.config.num_epochs, outcome.steps
        );
    }
    Ok(TrainReport {
        steps: outcome.steps,
        interrupted: outcome.interrupted,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Runs the loop with validation every `job.validation.every` steps into
/// `<checkpoint_dir>/eval` and the best model kept in
/// `<checkpoint_dir>/best`, then prints the best validation.
fn train_validating(
    job: &TrainJob,
    model: &Model,
    examples: &Examples,
    validation_examples: &Examples,
    first_step: i64,
    log: &mut RunLog,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<trainer::TrainOutcome, TrainError> {
    let mut validator = Validator::new(
        log,
        validation_examples,
        job.config.kind,
        job.validation,
        &job.checkpoint_dir,
        &job.checkpoint_dir.join(EVAL_DIR),
        job.resume.then_some(first_step),
    )?;
    let outcome = trainer::train(
        &job.config,
        model,
        examples,
        first_step,
        &mut validator,
        stop,
    );
    validator.close()?;
    let outcome = outcome?;
    if let Some(best) = validator.best() {
        println!(
            "OUTPUT: best validation {} = {:.3} at step {} (in {})",
            metric_name(job.config.kind.metric()),
            best.value,
            best.step,
            job.checkpoint_dir.join(BEST_DIR).display()
        );
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::train::loss::LossKind;
    use crate::train::optim::OptimizerKind;

    /// `tbseg train`'s flags on their own.
    #[derive(Debug, Parser)]
    struct Line {
        #[command(flatten)]
        args: Args,
    }

    fn job(flags: &[&str]) -> TrainJob {
        let line =
            Line::try_parse_from(std::iter::once("train").chain(flags.iter().copied())).unwrap();
        line.args.job().unwrap()
    }

    #[test]
    fn a_recipe_sets_its_flags_and_explicit_flags_override_it() {
        let lab = job(&[]);
        assert_eq!(lab.config.kind, ModelKind::CnnDice);
        assert_eq!((lab.config.learning_rate, lab.config.num_epochs), (0.01, 1));
        assert_eq!(lab.validation.every, 0);

        let best = job(&["--recipe", "best"]);
        let values = Recipe::Best.values();
        assert_eq!(best.config.kind, values.model);
        assert_eq!(best.config.learning_rate, values.learning_rate);
        assert_eq!(best.config.num_epochs, values.num_epochs as u64);
        assert_eq!(best.config.options.optimizer, OptimizerKind::Adam);
        assert_eq!(best.config.options.loss, LossKind::DiceCrossEntropy);
        assert!(best.config.options.augment);
        assert!(!best.config.options.augment_symmetries);
        assert_eq!(best.validation.every, values.eval_every);
        assert_eq!(best.checkpoint_dir, Path::new("logs").join("unet"));

        let overridden = job(&[
            "--recipe",
            "best",
            "--model",
            "cnn-dice",
            "--num_epochs",
            "2",
            "--eval_every",
            "0",
            "--optimizer",
            "momentum",
            "--augment_symmetries",
            "true",
        ]);
        assert_eq!(overridden.config.kind, ModelKind::CnnDice);
        assert_eq!(overridden.config.num_epochs, 2);
        assert_eq!(overridden.validation.every, 0);
        assert_eq!(overridden.config.options.optimizer, OptimizerKind::Momentum);
        assert!(overridden.config.options.augment_symmetries);
        assert!(job(&["--augment"]).config.options.augment_symmetries);
        assert_eq!(overridden.config.learning_rate, values.learning_rate);
        assert_eq!(
            overridden.checkpoint_dir,
            Path::new("logs").join("cnn-dice")
        );

        let lab_best = job(&["--recipe", "lab-best", "--learning_rate", "0.05"]);
        assert_eq!(lab_best.config.learning_rate, 0.05);
        assert_eq!(
            (lab_best.config.decay_rate, lab_best.config.decay_steps),
            (0.75, 10_000)
        );
    }
}
