//! `tbseg bench-step` (hidden): times the trainer as `tbseg train` runs it,
//! for `scripts/bench_trainer.sh`, which compares it with the same model and
//! loop in PyTorch and TensorFlow (`scripts/bench_step.py`).
//!
//! Both measurements go through [`trainer::train`] itself, not a copy of
//! its step:
//!
//! - **step**: the loop's own per-step time (forward, loss, backward, SGD
//!   update, and reading the loss back, which waits for the device), taken
//!   from [`TrainSink::stepped`] after `--warmup` steps; the run is stopped
//!   through the loop's stop flag once `--steps` have been timed.
//! - **epoch**: wall time of one epoch with its data: reading and decoding
//!   the TFRecord file into tensors ([`load_examples`]), the shuffled
//!   example stream, every training step, and the lab's extra summary
//!   forward pass every 100 steps. Only the sinks' file output (events,
//!   checkpoints) is left out; the model is built before the clock starts.
//!
//! The result is one JSON line on stdout. With `TBSEG_BENCH_TRACE` set in
//! the environment every step's time also goes to stderr (to see a busy
//! machine's slow steps).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use tch::Device;

use crate::data;
use crate::train::schedule::ExampleStream;
use crate::train::trainer::{self, NullSink, TrainConfig, TrainSink};
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
}

/// Collects the loop's per-step times and raises the stop flag once enough
/// have been taken.
struct StepTimes<'a> {
    warmup: u64,
    wanted: u64,
    seen: u64,
    seconds: Vec<f64>,
    stop: &'a AtomicBool,
}

impl TrainSink for StepTimes<'_> {
    fn stepped(&mut self, _step: i64, loss: f64, seconds: f64, _summary: bool) {
        self.seen += 1;
        if std::env::var_os("TBSEG_BENCH_TRACE").is_some() {
            eprintln!(
                "step {} {:.1} ms loss {:.4}",
                self.seen,
                seconds * 1e3,
                loss
            );
        }
        if self.seen > self.warmup {
            self.seconds.push(seconds);
        }
        if self.seen >= self.warmup + self.wanted {
            self.stop.store(true, Ordering::SeqCst);
        }
    }
}

/// Median and mean of `values` (seconds), in milliseconds.
fn median_mean_ms(values: &[f64]) -> (f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    let mean = sorted.iter().sum::<f64>() / n as f64;
    (median * 1e3, mean * 1e3)
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
        ..TrainConfig::default()
    };
    config.validate()?;

    // Step times: the data are loaded outside the clock, as many epochs as
    // the warm-up and timed steps need.
    let examples = load_examples(&path, device)?;
    tch::manual_seed(args.seed as i64);
    let model = Model::new(args.model, device);
    let stop = AtomicBool::new(false);
    let mut times = StepTimes {
        warmup: args.warmup,
        wanted: args.steps,
        seen: 0,
        seconds: Vec::new(),
        stop: &stop,
    };
    let step_config = TrainConfig {
        num_epochs: epochs_for(examples.len(), args.warmup + args.steps, args.batch_size),
        ..config.clone()
    };
    trainer::train(&step_config, &model, &examples, 0, &mut times, &stop)?;
    let (median_ms, mean_ms) = median_mean_ms(&times.seconds);
    let min_ms = times.seconds.iter().copied().fold(f64::INFINITY, f64::min) * 1e3;
    drop(examples);

    // One epoch with its data, on a fresh model.
    let mut epoch_json = String::new();
    if args.epoch {
        tch::manual_seed(args.seed as i64);
        let model = Model::new(args.model, device);
        let started = Instant::now();
        let examples = load_examples(&path, device)?;
        let data_seconds = started.elapsed().as_secs_f64();
        let outcome = trainer::train(
            &config,
            &model,
            &examples,
            0,
            &mut NullSink,
            &AtomicBool::new(false),
        )?;
        let epoch_seconds = started.elapsed().as_secs_f64();
        epoch_json = format!(
            ", \"epoch_s\": {epoch_seconds:.4}, \"epoch_data_s\": {data_seconds:.4}, \
             \"epoch_steps\": {}, \"epoch_examples\": {}, \"epoch_last_loss\": {:.6}",
            outcome.steps,
            examples.len(),
            outcome.last_loss.unwrap_or(f64::NAN),
        );
    }
    println!(
        "{{\"framework\": \"tbseg\", \"version\": \"{}\", \"device\": \"{}\", \"threads\": {}, \
         \"model\": \"{}\", \"batch\": {}, \"warmup\": {}, \"steps\": {}, \
         \"step_median_ms\": {median_ms:.3}, \"step_mean_ms\": {mean_ms:.3}, \
         \"step_min_ms\": {min_ms:.3}{epoch_json}}}",
        env!("CARGO_PKG_VERSION"),
        device::name(device),
        tch::get_num_threads(),
        args.model,
        args.batch_size,
        args.warmup,
        times.seconds.len(),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(median_mean_ms(&[0.003, 0.001, 0.002]), (2.0, 2.0));
        let (median, mean) = median_mean_ms(&[0.004, 0.001, 0.002, 0.003]);
        assert!((median - 2.5).abs() < 1e-9 && (mean - 2.5).abs() < 1e-9);
        assert!(median_mean_ms(&[]).0.is_nan());
    }

    #[test]
    fn enough_epochs_for_the_wanted_steps() {
        // 234 examples give 231 steps per epoch.
        let epochs = epochs_for(234, 500, 1);
        assert!(ExampleStream::new(234, epochs, 1, 0).step_count() >= 500);
        assert!(ExampleStream::new(10, epochs_for(10, 35, 1), 1, 0).step_count() >= 35);
    }
}
