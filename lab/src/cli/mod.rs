//! The `tbseg` command line: one file per subcommand, each with a clap
//! `Args` struct and a `run` function that turns the flags into a library
//! call. anyhow is used here and nowhere below.

use clap::{Parser, Subcommand};

#[cfg(feature = "trainer")]
mod bench_step;
pub mod data;
#[cfg(feature = "trainer")]
pub mod eval;
mod export;
mod inspect;
#[cfg(feature = "trainer")]
pub mod lab;
#[cfg(feature = "trainer")]
pub mod predict;
#[cfg(feature = "trainer")]
mod signals;
#[cfg(feature = "trainer")]
pub mod sweep;
#[cfg(feature = "trainer")]
pub mod train;

/// TensorBoard-compatible logging and NVIDIA's cardiac MRI segmentation lab on libtorch.
#[derive(Debug, Parser)]
#[command(name = "tbseg", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make, convert and look at the lab's data files.
    Data(data::Args),
    /// Summarize the runs and tags of a TensorBoard log directory.
    Inspect(inspect::Args),
    /// Export a TensorFlow checkpoint to safetensors (for PyTorch users).
    Export(export::Args),
    /// Train one of the lab's networks (the lab's runTraining.py).
    #[cfg(feature = "trainer")]
    #[command(after_help = train::WHEN_THINGS_GO_WRONG)]
    Train(train::Args),
    /// Score the latest checkpoint on the validation file (runEval.py).
    #[cfg(feature = "trainer")]
    Eval(eval::Args),
    /// Write predicted masks and overlays for a TFRecord file or a PNG.
    #[cfg(feature = "trainer")]
    Predict(predict::Args),
    /// Train a grid of trials (any train flag may take comma-separated values) and rank them.
    #[cfg(feature = "trainer")]
    Sweep(sweep::Args),
    /// The whole lab on synthetic data: three tasks, trained and evaluated, in about 4 minutes.
    #[cfg(feature = "trainer")]
    Lab(lab::Args),
    /// Time training steps and one epoch, as JSON (scripts/bench_trainer.sh).
    #[cfg(feature = "trainer")]
    #[command(name = "bench-step", hide = true)]
    BenchStep(bench_step::Args),
}

/// A run stopped by SIGINT or SIGTERM after saving a checkpoint; the
/// process exits with `128 + signal` (130 for SIGINT, 143 for SIGTERM), as
/// a shell reports a process the signal killed.
#[derive(Debug, thiserror::Error)]
#[error(
    "stopped by signal {signal} at step {step}; a checkpoint was saved, continue with --resume"
)]
pub struct Interrupted {
    /// The signal number (2 = SIGINT, 15 = SIGTERM).
    pub signal: i32,
    /// `global_step` of the checkpoint saved.
    pub step: i64,
}

impl Interrupted {
    /// The process exit status: `128 + signal`.
    pub fn exit_code(&self) -> u8 {
        u8::try_from(128 + self.signal).unwrap_or(1)
    }
}

/// The exit status of a command stopped by SIGINT or SIGTERM
/// (`128 + signal`), when `err` is such a stop.
pub fn signal_exit_code(err: &anyhow::Error) -> Option<u8> {
    if let Some(interrupted) = err.downcast_ref::<Interrupted>() {
        return Some(interrupted.exit_code());
    }
    #[cfg(feature = "trainer")]
    if let Some(interrupted) = err.downcast_ref::<sweep::SweepInterrupted>() {
        return Some(interrupted.exit_code());
    }
    None
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Data(args) => data::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Export(args) => export::run(args),
        #[cfg(feature = "trainer")]
        Command::Train(args) => train::run(args),
        #[cfg(feature = "trainer")]
        Command::Eval(args) => eval::run(args),
        #[cfg(feature = "trainer")]
        Command::Predict(args) => predict::run(args),
        #[cfg(feature = "trainer")]
        Command::Sweep(args) => sweep::run(args),
        #[cfg(feature = "trainer")]
        Command::Lab(args) => lab::run(args),
        #[cfg(feature = "trainer")]
        Command::BenchStep(args) => bench_step::run(args),
    }
}
