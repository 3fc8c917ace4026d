//! The `tbseg` binary: parse, run, and turn an error into a message and a
//! non-zero exit status.

use std::process::ExitCode;

use clap::Parser;
use tbseg_lab::cli::{self, Cli};

fn main() -> ExitCode {
    match cli::run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("tbseg: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// `tbseg inspect logs | head` should not report an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
