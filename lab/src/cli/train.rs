//! `tbseg train`: the lab's `runTraining.py` for one task.
//!
//! Flags are spelled as in the lab (`--learning_rate`, `--num_epochs`, ...)
//! with kebab-case aliases. Every flag is checked, and the training file
//! read, before the checkpoint folder is touched, so a bad command line
//! leaves no files behind.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use anyhow::Context;
use tch::Device;

use crate::data;
use crate::train::examples::Examples;
use crate::train::loss::LossKind;
use crate::train::optim::OptimizerKind;
use crate::train::options::TrainOptions;
use crate::train::output::{RunLog, SummaryCadence};
use crate::train::trainer::{self, TrainConfig};
use crate::train::validate::{ValidationOptions, Validator};
use crate::train::{device, weights, DeviceChoice, Model, ModelKind, TrainError};

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
    /// Applies the thread count and resolves the device, printing it.
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
        eprintln!("tbseg: device {}", device::describe(device));
        Ok(device)
    }
}

/// Flags of `tbseg train`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which task's network to train.
    #[arg(long, value_enum, default_value_t = ModelKind::CnnDice)]
    pub model: ModelKind,
    /// Initial learning rate.
    #[arg(
        long = "learning_rate",
        visible_alias = "learning-rate",
        default_value_t = 0.01,
        allow_negative_numbers = true
    )]
    pub learning_rate: f64,
    /// Staircase decay factor per `decay_steps` (cnn tasks; 1.0 = constant).
    #[arg(
        long = "decay_rate",
        visible_alias = "decay-rate",
        default_value_t = 1.0,
        allow_negative_numbers = true
    )]
    pub decay_rate: f64,
    /// Steps per decay level.
    #[arg(
        long = "decay_steps",
        visible_alias = "decay-steps",
        default_value_t = 1000,
        allow_negative_numbers = true
    )]
    pub decay_steps: i64,
    /// Passes over the training file.
    #[arg(
        long = "num_epochs",
        visible_alias = "num-epochs",
        default_value_t = 1,
        allow_negative_numbers = true
    )]
    pub num_epochs: i64,
    /// Examples per step.
    #[arg(
        long = "batch_size",
        visible_alias = "batch-size",
        default_value_t = 1,
        allow_negative_numbers = true
    )]
    pub batch_size: i64,
    /// Folder with `train_images.tfrecords` (`tbseg data synth` makes one).
    #[arg(long = "data_dir", visible_alias = "data-dir", default_value = "data")]
    pub data_dir: PathBuf,
    /// Folder for checkpoints and TensorBoard events (default: `logs/<model>`).
    #[arg(long = "checkpoint_dir", visible_alias = "checkpoint-dir")]
    pub checkpoint_dir: Option<PathBuf>,
    /// Seed of the initial weights and the per-epoch shuffles.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Continue from the latest checkpoint in the checkpoint folder.
    #[arg(long)]
    pub resume: bool,
    /// Image summaries (input, label, overlay) every this many steps (a multiple of 100).
    #[arg(
        long = "image_every",
        visible_alias = "image-every",
        default_value_t = 500
    )]
    pub image_every: u64,
    /// Weight histograms every this many steps (a multiple of 100).
    #[arg(
        long = "histogram_every",
        visible_alias = "histogram-every",
        default_value_t = 500
    )]
    pub histogram_every: u64,
    /// Loss to minimise.
    #[arg(long, value_enum, default_value_t = LossKind::CrossEntropy)]
    pub loss: LossKind,
    /// Update rule (all follow the staircase learning rate).
    #[arg(long, value_enum, default_value_t = OptimizerKind::Sgd)]
    pub optimizer: OptimizerKind,
    /// Flip, rotate, transpose, warp and jitter every training example on the fly (seeded by --seed).
    #[arg(long)]
    pub augment: bool,
    /// Score the validation file every N steps into <checkpoint_dir>/eval and keep the best model in <checkpoint_dir>/best (0 = never).
    #[arg(long = "eval_every", visible_alias = "eval-every", default_value_t = 0)]
    pub eval_every: u64,
    /// Stop after this many validations without a new best (needs --eval_every).
    #[arg(long)]
    pub patience: Option<u64>,
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
    /// How often images and histograms are logged.
    pub cadence: SummaryCadence,
    /// Validation during training (default: none).
    pub validation: ValidationOptions,
}

/// What a training job did.
#[derive(Clone, Debug)]
pub struct TrainReport {
    /// `global_step` at the end.
    pub steps: u64,
    /// Ended by Ctrl-C.
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
        let config = TrainConfig {
            kind: self.model,
            learning_rate: self.learning_rate,
            decay_rate: self.decay_rate,
            decay_steps: positive("--decay_steps", self.decay_steps)?,
            num_epochs: positive("--num_epochs", self.num_epochs)?,
            batch_size: positive("--batch_size", self.batch_size)? as usize,
            seed: self.seed,
            options: TrainOptions {
                loss: self.loss,
                optimizer: self.optimizer,
                augment: self.augment,
            },
        };
        config.validate()?;
        let validation = ValidationOptions {
            every: self.eval_every,
            patience: self.patience,
        };
        validation.validate()?;
        for (flag, every) in [
            ("--image_every", self.image_every),
            ("--histogram_every", self.histogram_every),
        ] {
            if every == 0 || every % crate::train::schedule::SUMMARY_EVERY != 0 {
                return Err(TrainError::InvalidFlag {
                    flag,
                    reason: format!("{every} (must be a positive multiple of 100)"),
                });
            }
        }
        Ok(TrainJob {
            config,
            data_dir: self.data_dir.clone(),
            checkpoint_dir: self
                .checkpoint_dir
                .clone()
                .unwrap_or_else(|| default_checkpoint_dir(self.model)),
            resume: self.resume,
            cadence: SummaryCadence {
                images_every: self.image_every,
                histograms_every: self.histogram_every,
            },
            validation,
        })
    }
}

/// Runs `tbseg train`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let job = args.job()?;
    let device = args.runtime.start()?;
    let report = train_job(&job, device)?;
    if report.interrupted {
        anyhow::bail!(
            "interrupted at step {}; a checkpoint was saved, continue with --resume",
            report.steps
        );
    }
    Ok(())
}

/// The data file `name` in `dir`, or the error that says how to make it.
pub fn data_file(dir: &Path, name: &str) -> Result<PathBuf, TrainError> {
    let path = dir.join(name);
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

/// The process-wide Ctrl-C flag (the handler can be installed only once).
fn stop_flag() -> Arc<AtomicBool> {
    static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    STOP.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let handler_flag = Arc::clone(&flag);
        if let Err(err) = ctrlc::set_handler(move || {
            eprintln!("\ntbseg: interrupted, saving a checkpoint…");
            handler_flag.store(true, Ordering::SeqCst);
        }) {
            eprintln!("tbseg: warning: Ctrl-C will not save a checkpoint: {err}");
        }
        flag
    })
    .clone()
}

/// Trains one task: reads the data, restores when resuming, runs the loop
/// with the lab's outputs, prints the lab's final line.
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
    tch::manual_seed(job.config.seed as i64);
    let mut model = Model::new(job.config.kind, device);
    let mut first_step = 0;
    if job.resume {
        match tbseg::checkpoint::latest_checkpoint(&job.checkpoint_dir).map_err(TrainError::from)? {
            Some(prefix) => {
                first_step = weights::restore(&mut model, &prefix)
                    .with_context(|| format!("restoring {}", prefix.display()))?;
                eprintln!(
                    "tbseg: resuming from {} at step {first_step}",
                    prefix.display()
                );
            }
            None => eprintln!(
                "tbseg: --resume: no checkpoint in {}, starting from scratch",
                job.checkpoint_dir.display()
            ),
        }
    }
    let mut log = RunLog::create(&job.checkpoint_dir, &job.config, job.cadence)?;
    let stop = stop_flag();
    stop.store(false, Ordering::SeqCst);
    let outcome = match &validation_examples {
        Some(validation_examples) => {
            let mut validator = Validator::new(
                &mut log,
                validation_examples,
                job.config.kind,
                job.validation,
                &job.checkpoint_dir,
                &job.checkpoint_dir.join("eval"),
                job.resume,
            )?;
            let outcome = trainer::train(
                &job.config,
                &model,
                &examples,
                first_step,
                &mut validator,
                &stop,
            )?;
            validator.close()?;
            if let Some(best) = validator.best() {
                println!(
                    "OUTPUT: best validation {} = {:.3} at step {} (in {})",
                    crate::train::validate::metric_name(job.config.kind.metric()),
                    best.value,
                    best.step,
                    job.checkpoint_dir
                        .join(crate::train::validate::BEST_DIR)
                        .display()
                );
            }
            if outcome.stopped_early {
                println!("OUTPUT: stopped early at step {}: no better validation in the last {} evaluations.", outcome.steps, job.validation.patience.unwrap_or(0));
            }
            outcome
        }
        None => trainer::train(&job.config, &model, &examples, first_step, &mut log, &stop)?,
    };
    log.finish(outcome.interrupted)?;
    if outcome.interrupted {
        if let Some(path) = log.last_checkpoint() {
            eprintln!("tbseg: saved {} at step {}", path.display(), outcome.steps);
        }
    } else {
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
