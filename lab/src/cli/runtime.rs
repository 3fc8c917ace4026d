//! `--device` and `--threads`, shared by the trainer's subcommands.

use tch::Device;

use crate::job::runtime;
use crate::train::{DeviceChoice, TrainError};

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
    /// Applies the thread count and resolves the device
    /// ([`runtime::start`]).
    pub fn start(&self) -> Result<Device, TrainError> {
        runtime::start(self.device, self.threads)
    }
}
