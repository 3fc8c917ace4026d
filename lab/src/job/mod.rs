//! The jobs behind the `tbseg` subcommands: everything between a checked
//! command line and the library calls.
//!
//! The command line ([`crate::cli`]) parses flags, resolves each path flag
//! once into a [`Location`], builds a job, calls it and prints its report;
//! a job owns the orchestration:
//!
//! - [`train`]: one task's training run (`tbseg train`), with the
//!   checkpoint folder surveyed once ([`run_folder`]).
//! - [`eval`]: a checkpoint scored on the validation file (`tbseg eval`).
//! - [`predict`]: masks and overlays for new images (`tbseg predict`).
//! - [`sweep`]: a grid of trials as child processes (`tbseg sweep`).
//! - [`lab`]: the three tasks end to end (`tbseg lab`).
//! - [`bench_step`]: the trainer's step and epoch times (`tbseg
//!   bench-step`).
//! - [`data_files`]: the lab's data files behind `--data_dir`; [`data`]:
//!   `tbseg data` (synthetic files, the Sunnybrook conversion, previews).
//! - [`export`]: a checkpoint as safetensors (`tbseg export`).
//! - [`runtime`]: `--device` and `--threads`; [`signals`]: SIGINT and
//!   SIGTERM during training.
//!
//! anyhow is used here and in the command line, nowhere below.

pub mod data;
pub mod export;
pub mod location;

#[cfg(feature = "trainer")]
pub mod bench_step;
#[cfg(feature = "trainer")]
pub mod data_files;
#[cfg(feature = "trainer")]
pub mod eval;
#[cfg(feature = "trainer")]
pub mod lab;
#[cfg(feature = "trainer")]
pub mod predict;
#[cfg(feature = "trainer")]
pub mod run_folder;
#[cfg(feature = "trainer")]
pub mod runtime;
#[cfg(feature = "trainer")]
pub mod signals;
#[cfg(feature = "trainer")]
pub mod sweep;
#[cfg(feature = "trainer")]
pub mod train;

pub use location::Location;

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
