//! Where and with how many threads libtorch runs (`--device`, `--threads`).

use tch::Device;

use crate::train::{device, DeviceChoice, TrainError};

/// Applies the thread count and resolves the device; [`announce`] prints
/// it once the inputs have been checked, so that an error is the only line
/// a bad command prints.
pub fn start(choice: DeviceChoice, threads: Option<usize>) -> Result<Device, TrainError> {
    if threads == Some(0) {
        return Err(TrainError::InvalidFlag {
            flag: "--threads",
            reason: "0 (must be at least 1)".into(),
        });
    }
    let device = choice.resolve()?;
    device::keep_freed_memory();
    device::set_threads(threads);
    Ok(device)
}

/// Prints the device a command runs on (to stderr), once per process.
pub fn announce(device: Device) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| eprintln!("tbseg: device {}", device::describe(device)));
}
