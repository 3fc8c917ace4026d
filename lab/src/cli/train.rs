//! `tbseg train`: the lab's `runTraining.py` for one task.
//!
//! Flags are spelled as in the lab (`--learning_rate`, `--num_epochs`, ...)
//! with kebab-case aliases. Every flag is checked here, and the training
//! file read by the job ([`crate::job::train`]) before the checkpoint
//! folder is touched, so a bad command line leaves no files behind.

use std::path::PathBuf;

use crate::job::train::{default_checkpoint_dir, train, EarlierRun, TrainJob};
use crate::job::{signals, Interrupted, Location};
use crate::train::loss::LossKind;
use crate::train::optim::OptimizerKind;
use crate::train::options::TrainOptions;
use crate::train::output::SummaryCadence;
use crate::train::recipe::Recipe;
use crate::train::trainer::{OnNonFinite, TrainConfig, CHECKPOINT_EVERY};
use crate::train::validate::ValidationOptions;
use crate::train::{ModelKind, TrainError};

use super::runtime::Runtime;

/// `tbseg train --help`'s closing section (docs/lab.md's "When things go
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
            data_dir: Location::of(&self.data_dir),
            checkpoint_dir: Location::of(
                &self
                    .checkpoint_dir
                    .clone()
                    .unwrap_or_else(|| default_checkpoint_dir(model)),
            ),
            earlier: if self.resume {
                EarlierRun::Resume
            } else if self.overwrite {
                EarlierRun::Overwrite
            } else {
                EarlierRun::Refuse
            },
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
    let report = train(&job, device)?;
    if report.interrupted {
        return Err(Interrupted {
            signal: signals::received().unwrap_or(libc::SIGINT),
            step: report.steps,
        }
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

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
        assert_eq!(
            best.checkpoint_dir,
            Location::Local(Path::new("logs").join("unet"))
        );
        assert_eq!(best.earlier, EarlierRun::Refuse);
        assert_eq!(job(&["--resume"]).earlier, EarlierRun::Resume);
        assert_eq!(job(&["--overwrite"]).earlier, EarlierRun::Overwrite);
        assert_eq!(
            job(&["--data_dir", "s3://bucket/lab"]).data_dir,
            Location::Remote("s3://bucket/lab".into())
        );

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
            Location::Local(Path::new("logs").join("cnn-dice"))
        );

        let lab_best = job(&["--recipe", "lab-best", "--learning_rate", "0.05"]);
        assert_eq!(lab_best.config.learning_rate, 0.05);
        assert_eq!(
            (lab_best.config.decay_rate, lab_best.config.decay_steps),
            (0.75, 10_000)
        );
    }
}
