//! The `tbseg` command line: one file per subcommand, each with a clap
//! `Args` struct and a `run` function that checks the flags, resolves each
//! path flag once into a [`crate::job::Location`], calls a job
//! ([`crate::job`]) and prints its report. Nothing here orchestrates.

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
pub mod runtime;
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

pub use crate::job::signal_exit_code;

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
