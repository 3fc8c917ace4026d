//! The `tbseg` command line: one file per subcommand, each with a clap
//! `Args` struct and a `run` function that turns the flags into a library
//! call. anyhow is used here and nowhere below.

use clap::{Parser, Subcommand};

pub mod data;

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
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Data(args) => data::run(args),
    }
}
