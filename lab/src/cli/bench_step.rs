//! `tbseg bench-step` (hidden): times the trainer as `tbseg train` runs it,
//! for `scripts/bench_trainer.sh`; the measurement is
//! [`crate::job::bench_step`]'s. The result is one JSON line on stdout.

use std::path::PathBuf;

use crate::job::bench_step::{bench_step, BenchJob};
use crate::job::Location;
use crate::train::{ModelKind, TrainError};

use super::runtime::Runtime;

/// Flags of `tbseg bench-step`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which task's network to time.
    #[arg(long, value_enum, default_value_t = ModelKind::Cnn)]
    pub model: ModelKind,
    /// Folder with `train_images.tfrecords` (`tbseg data synth` makes one).
    #[arg(long = "data_dir", visible_alias = "data-dir", default_value = "data")]
    pub data_dir: PathBuf,
    /// Steps run before timing starts.
    #[arg(long, default_value_t = 5)]
    pub warmup: u64,
    /// Steps timed.
    #[arg(long, default_value_t = 30)]
    pub steps: u64,
    /// Time one whole epoch with its data after the steps (`--epoch false` skips it).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub epoch: bool,
    /// Examples per step.
    #[arg(long = "batch_size", visible_alias = "batch-size", default_value_t = 1)]
    pub batch_size: usize,
    /// Learning rate of the plain SGD update.
    #[arg(
        long = "learning_rate",
        visible_alias = "learning-rate",
        default_value_t = 0.01
    )]
    pub learning_rate: f64,
    /// Seed of the weights and the shuffle.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Check every step's loss and gradients (`--guard false` leaves the
    /// check out, to measure its cost).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub guard: bool,
    /// Device and thread count.
    #[command(flatten)]
    pub runtime: Runtime,
}

/// Runs `tbseg bench-step`.
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.steps == 0 {
        return Err(TrainError::InvalidFlag {
            flag: "--steps",
            reason: "0 (must be at least 1)".into(),
        }
        .into());
    }
    let device = args.runtime.start()?;
    let job = BenchJob {
        model: args.model,
        data_dir: Location::of(&args.data_dir),
        warmup: args.warmup,
        steps: args.steps,
        epoch: args.epoch,
        batch_size: args.batch_size,
        learning_rate: args.learning_rate,
        seed: args.seed,
        guard: args.guard,
    };
    bench_step(&job, device)
}
