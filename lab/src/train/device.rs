//! Where the tensors live: `--device auto|cpu|cuda`, the CPU thread count,
//! and how the CPU's memory allocator treats libtorch's buffers.

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

/// Tells glibc's allocator to keep freed memory for reuse instead of handing
/// it back to the kernel.
///
/// A CPU training step allocates and frees the same few megabyte-sized
/// activation and gradient buffers every time. With glibc's defaults those
/// come from fresh `mmap`s, or from heap top that `free` has just trimmed,
/// so every step page-faults its working set in again: on the project's
/// 2-core machine that made the lab's `cnn` step 25–30 % slower and its time
/// erratic (see BENCHMARKS.md). A fixed 32 MiB mmap threshold (glibc's
/// maximum) and a 1 GiB trim threshold keep those buffers in the heap; the
/// price is that up to 1 GiB of freed memory stays with the process.
///
/// Buffers above 32 MiB would still be `mmap`ed afresh: the `simple` model's
/// two gradients (128 and 256 MiB), faulted in page by page every step, were
/// about a third of its step. No `mmap` at all (`M_MMAP_MAX` 0) serves them
/// from the heap too; glibc falls back to the main arena for a request too
/// big for a thread's own.
///
/// Process-wide, so the command line calls it, not the library. A no-op
/// where the C library is not glibc.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const MMAP_THRESHOLD: libc::c_int = 32 << 20;
        const TRIM_THRESHOLD: libc::c_int = 1 << 30;
        const TOP_PAD: libc::c_int = 64 << 20;
        // SAFETY: mallopt takes glibc's arena lock and only changes tuning
        // parameters; no pointer is involved. A rejected value (return 0)
        // leaves glibc's default, which is still correct, only slower.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
            libc::mallopt(libc::M_TOP_PAD, TOP_PAD);
            libc::mallopt(libc::M_MMAP_MAX, 0);
        }
    }
}
