//! `tbseg inspect LOGDIR`: what a log directory holds, run by run and tag
//! by tag, without starting TensorBoard.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};

use tbseg::reader::Logdir;

/// Summarize the runs and tags of a TensorBoard log directory.
///
/// Prints one row per tag: its run, the dashboard it belongs to, how many
/// points it has, its step range and, for scalars, the last value. Files
/// that end in a torn record (a writer still running, or one that crashed)
/// or that are damaged are listed after the table.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The log directory (or a single event file); also an s3://, gs:// or az:// URL.
    logdir: PathBuf,
}

/// Scans the log directory and prints its summary.
pub fn run(args: Args) -> anyhow::Result<()> {
    let logdir = Logdir::scan(&args.logdir)?;
    if logdir.is_empty() {
        bail!(
            "no event files (names containing \"tfevents\") under {}",
            args.logdir.display()
        );
    }
    let mut out = std::io::stdout().lock();
    write!(out, "{logdir}").context("writing to stdout")?;
    out.flush().context("writing to stdout")?;
    Ok(())
}
