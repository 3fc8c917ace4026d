//! Where the tensors live: `--device auto|cpu|cuda` and the CPU thread count.

use tch::Device;

use super::TrainError;

/// The `--device` flag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceChoice {
    /// The first CUDA GPU when libtorch sees one, otherwise the CPU.
    #[default]
    Auto,
    /// Always the CPU.
    Cpu,
    /// The first CUDA GPU; an error when there is none.
    Cuda,
}

impl DeviceChoice {
    /// Resolves the choice against what this libtorch build can see.
    pub fn resolve(self) -> Result<Device, TrainError> {
        match self {
            DeviceChoice::Cpu => Ok(Device::Cpu),
            DeviceChoice::Auto => Ok(Device::cuda_if_available()),
            DeviceChoice::Cuda if tch::Cuda::is_available() => Ok(Device::Cuda(0)),
            DeviceChoice::Cuda => Err(TrainError::NoCuda),
        }
    }
}

/// The device's plain name, `cpu` or `cuda:0` (as benchmark JSON records it).
pub fn name(device: Device) -> String {
    match device {
        Device::Cuda(index) => format!("cuda:{index}"),
        _ => "cpu".to_string(),
    }
}

/// A short human name for log lines: `cpu (2 threads)` or `cuda:0`.
pub fn describe(device: Device) -> String {
    match device {
        Device::Cuda(_) => name(device),
        _ => format!("cpu ({} threads)", tch::get_num_threads()),
    }
}

/// Sets libtorch's intra-op thread count: `threads` when given, otherwise
/// one per available core (libtorch's own default can be lower inside
/// containers, which cost a factor of two on the project's 2-core machines).
pub fn set_threads(threads: Option<usize>) {
    let count = threads
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1)
        .max(1);
    tch::set_num_threads(i32::try_from(count).unwrap_or(i32::MAX));
}
