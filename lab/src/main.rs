//! The `tbseg` binary: parse, run, and turn an error into a one-line
//! message and a non-zero exit status (1 for errors, 2 for a bad command
//! line, `128 + signal` for a training run or sweep stopped by SIGINT or
//! SIGTERM).

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
            if let Some(code) = cli::signal_exit_code(&err) {
                eprintln!("tbseg: {err}");
                return ExitCode::from(code);
            }
            eprintln!("tbseg: error: {}", tbseg::error_line(err.as_ref()));
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_os_error_prints_once() {
        let os = std::io::Error::from_raw_os_error(28);
        let embedded = format!("writing logs/model.ckpt-2.data: {os}");
        let err = anyhow::Error::new(std::io::Error::new(os.kind(), os.to_string()))
            .context(embedded.clone());
        let line = tbseg::error_line(err.as_ref());
        assert_eq!(line, embedded);
        assert_eq!(line.matches("os error 28").count(), 1, "{line}");
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(tbseg::error_line(plain.as_ref()), "outer: inner");
    }
}
