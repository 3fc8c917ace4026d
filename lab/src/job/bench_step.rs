//! `tbseg bench-step` (hidden): times the trainer as `tbseg train` runs it,
//! for `scripts/bench_trainer.sh`, which compares it with the same model and
//! loop in PyTorch and TensorFlow (`scripts/bench_step.py`).
//!
//! Both measurements go through [`trainer::train`] itself, not a copy of
//! its step:
//!
//! - **step**: the loop's own per-step time (forward, loss, backward, the
//!   divergence guard with its one read of the loss, which waits for the
//!   device, and the SGD update) after `--warmup` steps, with where it went
//!   phase by phase ([`timing::StepRecorder`]); the run is stopped through
//!   the loop's stop flag once `--steps` have been timed. `--guard false`
//!   times the same loop without the guard, to measure what it costs.
//! - **epoch**: wall time of one epoch with its data: reading and decoding
//!   the TFRecord file into tensors ([`load_examples`]), the shuffled
//!   example stream, every training step, and the lab's extra summary
//!   forward pass every 100 steps. Only the sinks' file output (events,
//!   checkpoints) is left out; the model is built before the clock starts.
//!   `epoch_phases_s` adds the epoch's steps up phase by phase.
//!
//! The result is one JSON line on stdout. With `TBSEG_BENCH_TRACE` set in
//! the environment every step's phases also go to stderr (to see a busy
//! machine's slow steps).

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use tch::Device;

use crate::data;
use crate::train::schedule::ExampleStream;
use crate::train::timing::{self, StepRecorder};
use crate::train::trainer::{self, OnNonFinite, TrainConfig};
use crate::train::{device, Model, ModelKind};

use super::data_files::{data_file, load_examples};
use super::location::Location;

/// What `tbseg bench-step` times.
#[derive(Clone, Debug)]
pub struct BenchJob {
    /// Which task's network to time.
    pub model: ModelKind,
    /// Folder with `train_images.tfrecords`.
    pub data_dir: Location,
    /// Steps run before timing starts.
    pub warmup: u64,
    /// Steps timed (at least 1).
    pub steps: u64,
    /// Time one whole epoch with its data after the steps.
    pub epoch: bool,
    /// Examples per step.
    pub batch_size: usize,
    /// Learning rate of the plain SGD update.
    pub learning_rate: f64,
    /// Seed of the weights and the shuffle.
    pub seed: u64,
    /// Check every step's loss and gradients (false leaves the check out, to
    /// measure its cost).
    pub guard: bool,
}

/// Epochs needed for the stream to supply `steps` steps.
fn epochs_for(examples: usize, steps: u64, batch_size: usize) -> u64 {
    let per_epoch = ExampleStream::new(examples, 1, batch_size, 0)
        .step_count()
        .max(1) as u64;
    steps.div_ceil(per_epoch) + 1
}

/// Times the steps and the epoch on `device` and prints the JSON line.
pub fn bench_step(args: &BenchJob, device: Device) -> anyhow::Result<()> {
    let path = data_file(&args.data_dir, data::TRAIN_FILE)?;
    let config = TrainConfig {
        kind: args.model,
        learning_rate: args.learning_rate,
        batch_size: args.batch_size,
        seed: args.seed,
        on_nonfinite: if args.guard {
            OnNonFinite::Stop
        } else {
            OnNonFinite::Unchecked
        },
        ..TrainConfig::default()
    };
    config.validate()?;

    // Step times: the data are loaded outside the clock, as many epochs as
    // the warm-up and timed steps need.
    let examples = load_examples(&path, device)?;
    tch::manual_seed(args.seed as i64);
    let model = Model::new(args.model, device);
    let stop = AtomicBool::new(false);
    let mut times = StepRecorder::new(args.warmup)
        .stop_after(args.steps, &stop)
        .trace(std::env::var_os("TBSEG_BENCH_TRACE").is_some());
    let step_config = TrainConfig {
        num_epochs: epochs_for(examples.len(), args.warmup + args.steps, args.batch_size),
        ..config.clone()
    };
    trainer::train(&step_config, &model, &examples, 0, &mut times, &stop)?;
    drop(examples);

    // One epoch with its data, on a fresh model.
    let mut epoch_json = String::new();
    if args.epoch {
        tch::manual_seed(args.seed as i64);
        let model = Model::new(args.model, device);
        let started = Instant::now();
        let examples = load_examples(&path, device)?;
        let data_seconds = started.elapsed().as_secs_f64();
        let mut epoch = StepRecorder::new(0);
        let outcome = trainer::train(
            &config,
            &model,
            &examples,
            0,
            &mut epoch,
            &AtomicBool::new(false),
        )?;
        let epoch_seconds = started.elapsed().as_secs_f64();
        epoch_json = format!(
            ", \"epoch_s\": {epoch_seconds:.4}, \"epoch_data_s\": {data_seconds:.4}, \
             \"epoch_steps\": {}, \"epoch_examples\": {}, \"epoch_last_loss\": {:.6}, \
             \"epoch_phases_s\": {}",
            outcome.steps,
            examples.len(),
            outcome.last_loss.unwrap_or(f64::NAN),
            timing::phases_json_s(&epoch.totals()),
        );
    }
    println!(
        "{{\"framework\": \"tbseg\", \"version\": \"{}\", \"device\": \"{}\", \"threads\": {}, \
         \"model\": \"{}\", \"batch\": {}, \"warmup\": {}, \"steps\": {}, \"guard\": {}, \
         {}{epoch_json}}}",
        env!("CARGO_PKG_VERSION"),
        device::name(device),
        tch::get_num_threads(),
        args.model,
        args.batch_size,
        args.warmup,
        times.steps().len(),
        args.guard,
        times.json_fields(),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enough_epochs_for_the_wanted_steps() {
        // 234 examples give 231 steps per epoch.
        let epochs = epochs_for(234, 500, 1);
        assert!(ExampleStream::new(234, epochs, 1, 0).step_count() >= 500);
        assert!(ExampleStream::new(10, epochs_for(10, 35, 1), 1, 0).step_count() >= 35);
    }
}
