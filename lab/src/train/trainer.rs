//! The training loop of the lab's `runTraining.py`, minus the I/O: what is
//! logged and saved is left to a [`TrainSink`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use tch::nn::Optimizer;
use tch::Tensor;

use super::augment::Augmenter;
use super::examples::Examples;
use super::model::{Model, ModelKind};
use super::options::TrainOptions;
use super::schedule::{staircase_learning_rate, ExampleStream, SUMMARY_EVERY};
use super::TrainError;

/// The lab saved a checkpoint every this many steps (step 0 included).
pub const CHECKPOINT_EVERY: u64 = 1000;

/// Training hyper-parameters, named after the lab's flags.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Which network.
    pub kind: ModelKind,
    /// `--learning_rate`: the initial rate (0.01 in the lab).
    pub learning_rate: f64,
    /// `--decay_rate`: factor per `decay_steps` (1.0 = constant).
    pub decay_rate: f64,
    /// `--decay_steps`: steps per staircase level.
    pub decay_steps: u64,
    /// `--num_epochs`: passes over the training file.
    pub num_epochs: u64,
    /// `--batch_size`: examples per step.
    pub batch_size: usize,
    /// Seed of the weight initialisation and the per-epoch shuffles.
    pub seed: u64,
    /// Loss, optimiser and augmentation (default: the lab's).
    pub options: TrainOptions,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            kind: ModelKind::Cnn,
            learning_rate: 0.01,
            decay_rate: 1.0,
            decay_steps: 1000,
            num_epochs: 1,
            batch_size: 1,
            seed: 0,
            options: TrainOptions::default(),
        }
    }
}

impl TrainConfig {
    /// Rejects values that cannot train, naming the flag.
    pub fn validate(&self) -> Result<(), TrainError> {
        let invalid = |flag, reason: String| Err(TrainError::InvalidFlag { flag, reason });
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return invalid(
                "--learning_rate",
                format!("{} (must be a positive number)", self.learning_rate),
            );
        }
        if !(self.decay_rate.is_finite() && self.decay_rate > 0.0) {
            return invalid(
                "--decay_rate",
                format!("{} (must be a positive number)", self.decay_rate),
            );
        }
        if self.decay_steps == 0 {
            return invalid("--decay_steps", "0 (must be at least 1)".into());
        }
        if self.num_epochs == 0 {
            return invalid("--num_epochs", "0 (must be at least 1)".into());
        }
        if self.batch_size == 0 {
            return invalid("--batch_size", "0 (must be at least 1)".into());
        }
        Ok(())
    }

    /// The learning rate used by `step` (constant for `simple`, as in the lab).
    pub fn learning_rate_at(&self, step: u64) -> f64 {
        if self.kind.decays_learning_rate() {
            staircase_learning_rate(self.learning_rate, self.decay_rate, self.decay_steps, step)
        } else {
            self.learning_rate
        }
    }
}

/// What a sink sees at a summary step (every [`SUMMARY_EVERY`] steps).
pub struct SummaryStep<'a> {
    /// The step (0-based, the lab's loop counter).
    pub step: u64,
    /// Loss on the extra batch the lab's summary op consumed.
    pub loss: f64,
    /// Learning rate of this step.
    pub learning_rate: f64,
    /// The summary batch's images `[B, 1, S, S]`.
    pub images: &'a Tensor,
    /// The summary batch's labels `[B, S, S]`.
    pub labels: &'a Tensor,
    /// The model's logits for that batch `[B, 2, S, S]` (no gradient).
    pub logits: &'a Tensor,
    /// The model after this step's update.
    pub model: &'a Model,
}

/// Whether training goes on after a validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Keep training.
    Continue,
    /// Stop now (early stopping): the loop saves a final checkpoint.
    Stop,
}

/// Where the loop's observable effects go: progress lines, TensorBoard
/// summaries, checkpoints. Every method has a do-nothing default.
pub trait TrainSink {
    /// Before the first step: `steps` is the total the run will reach and
    /// `first_step` where it starts (non-zero when resuming).
    fn started(&mut self, _model: &Model, _first_step: u64, _steps: u64) -> Result<(), TrainError> {
        Ok(())
    }

    /// After every step with its training loss and duration in seconds.
    fn stepped(&mut self, _step: u64, _loss: f64, _seconds: f64) {}

    /// At every summary step.
    fn summary(&mut self, _summary: &SummaryStep<'_>) -> Result<(), TrainError> {
        Ok(())
    }

    /// After every step (`last` false, `step` the loop counter) and once
    /// after the last one (`last` true, `step` the final `global_step`):
    /// a chance to score the model on held-out data. Returning
    /// [`Flow::Stop`] ends the run early.
    fn validate(
        &mut self,
        _step: u64,
        _global_step: u64,
        _last: bool,
        _model: &Model,
    ) -> Result<Flow, TrainError> {
        Ok(Flow::Continue)
    }

    /// Save a checkpoint named `name_step` holding `global_step` updates.
    fn checkpoint(
        &mut self,
        _name_step: u64,
        _global_step: u64,
        _model: &Model,
    ) -> Result<(), TrainError> {
        Ok(())
    }
}

/// A sink that ignores everything (tests, benchmarks).
pub struct NullSink;

impl TrainSink for NullSink {}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainOutcome {
    /// Updates applied in total (the final `global_step`).
    pub steps: u64,
    /// Whether the stop flag (Ctrl-C) ended the run early.
    pub interrupted: bool,
    /// Whether validation ended the run early (no improvement within the
    /// patience).
    pub stopped_early: bool,
    /// Training loss of the last step run in this session.
    pub last_loss: Option<f64>,
    /// Training loss of every step run in this session, in order.
    pub losses: Vec<f64>,
}

/// Runs the lab's loop: plain SGD on the per-pixel cross-entropy, the
/// staircase learning rate, a summary every [`SUMMARY_EVERY`] steps on an
/// extra batch, a checkpoint every [`CHECKPOINT_EVERY`] steps and at the
/// end. Starts at `first_step` (a resumed run's `global_step`) and stops
/// early, with a checkpoint, when `stop` becomes true.
pub fn train(
    config: &TrainConfig,
    model: &Model,
    examples: &Examples,
    first_step: u64,
    sink: &mut dyn TrainSink,
    stop: &AtomicBool,
) -> Result<TrainOutcome, TrainError> {
    config.validate()?;
    let stream = ExampleStream::new(
        examples.len(),
        config.num_epochs,
        config.batch_size,
        config.seed,
    );
    let steps = stream.step_count();
    let mut optimizer: Optimizer = config
        .options
        .optimizer
        .build(model.var_store(), config.learning_rate)?;
    let loss_kind = config.options.loss;
    let augmenter = config.options.augment.then(|| Augmenter::new(config.seed));
    sink.started(model, first_step, steps)?;
    let mut outcome = TrainOutcome {
        steps: first_step.min(steps),
        interrupted: false,
        stopped_early: false,
        last_loss: None,
        losses: Vec::new(),
    };
    for step in first_step..steps {
        if stop.load(Ordering::SeqCst) {
            outcome.interrupted = true;
            break;
        }
        let Some(indices) = stream.train_batch(step) else {
            break;
        };
        let learning_rate = config.learning_rate_at(step);
        optimizer.set_lr(learning_rate);
        let (images, labels) = examples.batch(indices);
        let started = Instant::now();
        let (images, labels) = match &augmenter {
            Some(augmenter) => augmenter.apply(step, &images, &labels),
            None => (images, labels),
        };
        let loss = loss_kind.compute(&model.forward(&images), &labels);
        optimizer.backward_step(&loss);
        let loss = loss.double_value(&[]);
        let seconds = started.elapsed().as_secs_f64();
        outcome.steps = step + 1;
        outcome.last_loss = Some(loss);
        outcome.losses.push(loss);
        sink.stepped(step, loss, seconds);
        if step % SUMMARY_EVERY == 0 {
            if let Some(indices) = stream.summary_batch(step) {
                let (images, labels) = examples.batch(indices);
                let (logits, loss) = tch::no_grad(|| {
                    let logits = model.forward(&images);
                    let loss = loss_kind.compute(&logits, &labels).double_value(&[]);
                    (logits, loss)
                });
                sink.summary(&SummaryStep {
                    step,
                    loss,
                    learning_rate,
                    images: &images,
                    labels: &labels,
                    logits: &logits,
                    model,
                })?;
            }
        }
        let flow = sink.validate(step, step + 1, false, model)?;
        if step % CHECKPOINT_EVERY == 0 {
            sink.checkpoint(step, step + 1, model)?;
        }
        if flow == Flow::Stop {
            outcome.stopped_early = true;
            break;
        }
    }
    if !outcome.interrupted {
        sink.validate(outcome.steps, outcome.steps, true, model)?;
    }
    sink.checkpoint(outcome.steps, outcome.steps, model)?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::model::{Architecture, CnnConfig, SimpleConfig};
    use tch::Device;

    fn two_disc_images(size: i64) -> Examples {
        let mut pairs = Vec::new();
        for (cx, cy) in [(10.0f32, 12.0f32), (20.0, 18.0)] {
            let mut image = vec![0.0f32; (size * size) as usize];
            let mut label = vec![0u8; (size * size) as usize];
            for y in 0..size {
                for x in 0..size {
                    let inside = (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2) < 36.0;
                    let i = (y * size + x) as usize;
                    image[i] = if inside { 0.9 } else { 0.1 };
                    label[i] = u8::from(inside);
                }
            }
            pairs.push((image, label));
        }
        Examples::from_pairs(
            pairs.iter().map(|(i, l)| (i.as_slice(), l.as_slice())),
            size,
            Device::Cpu,
            "discs",
        )
        .unwrap()
    }

    #[derive(Default)]
    struct Recorder {
        checkpoints: Vec<(u64, u64)>,
        summaries: Vec<(u64, f64)>,
        started: Option<(u64, u64)>,
    }

    impl TrainSink for Recorder {
        fn started(&mut self, _: &Model, first_step: u64, steps: u64) -> Result<(), TrainError> {
            self.started = Some((first_step, steps));
            Ok(())
        }
        fn summary(&mut self, summary: &SummaryStep<'_>) -> Result<(), TrainError> {
            assert_eq!(summary.logits.size(), [1, 2, 32, 32]);
            self.summaries.push((summary.step, summary.learning_rate));
            Ok(())
        }
        fn checkpoint(&mut self, name: u64, global: u64, _: &Model) -> Result<(), TrainError> {
            self.checkpoints.push((name, global));
            Ok(())
        }
    }

    /// Trains `model` on the two disc images from `first_step`, with the
    /// stop flag already set when `stop` is true; returns what the loop and
    /// the sink saw.
    fn train_on_discs(
        config: &TrainConfig,
        model: &Model,
        first_step: u64,
        stop: bool,
    ) -> (TrainOutcome, Recorder) {
        let examples = two_disc_images(32);
        let mut sink = Recorder::default();
        let outcome = train(
            config,
            model,
            &examples,
            first_step,
            &mut sink,
            &AtomicBool::new(stop),
        )
        .unwrap();
        (outcome, sink)
    }

    #[test]
    fn loss_falls_when_overfitting_two_images() {
        // The reduced `simple` network: the full-size CNN needs hundreds of
        // steps to leave the ln 2 plateau (as in the lab's first epoch).
        tch::manual_seed(0);
        let config = SimpleConfig {
            image_size: 32,
            hidden: 32,
        };
        let model =
            Model::with_architecture(ModelKind::Simple, Architecture::Simple(config), Device::Cpu);
        // 2 images, 15 epochs: the stream supplies 29 steps (one summary batch).
        let config = TrainConfig {
            kind: ModelKind::Simple,
            num_epochs: 15,
            learning_rate: 2.0,
            ..TrainConfig::default()
        };
        let (outcome, sink) = train_on_discs(&config, &model, 0, false);
        assert_eq!(outcome.steps, 29);
        assert_eq!(sink.started, Some((0, 29)));
        let first = outcome.losses[..3].iter().sum::<f64>() / 3.0;
        let last = outcome.losses[outcome.losses.len() - 3..]
            .iter()
            .sum::<f64>()
            / 3.0;
        assert!(last < 0.5 * first, "loss went {first} → {last}");
        assert_eq!(sink.summaries, vec![(0, 2.0)]);
        assert_eq!(sink.checkpoints, vec![(0, 1), (29, 29)]);
    }

    #[test]
    fn stop_flag_ends_the_run_with_a_checkpoint() {
        let config = CnnConfig {
            image_size: 32,
            channels: [2, 2, 2, 2],
        };
        let model =
            Model::with_architecture(ModelKind::CnnDice, Architecture::Cnn(config), Device::Cpu);
        let config = TrainConfig {
            kind: ModelKind::CnnDice,
            num_epochs: 4,
            ..TrainConfig::default()
        };
        let (outcome, sink) = train_on_discs(&config, &model, 3, true);
        assert!(outcome.interrupted);
        assert_eq!(outcome.steps, 3);
        assert_eq!(sink.checkpoints, vec![(3, 3)]);
    }

    #[test]
    fn validation_names_the_flag() {
        let bad = TrainConfig {
            batch_size: 0,
            ..TrainConfig::default()
        };
        let err = bad.validate().unwrap_err().to_string();
        assert!(err.contains("--batch_size"), "{err}");
        let bad = TrainConfig {
            num_epochs: 0,
            ..TrainConfig::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("--num_epochs"));
        let bad = TrainConfig {
            learning_rate: -1.0,
            ..TrainConfig::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("--learning_rate"));
    }

    #[test]
    fn only_cnn_tasks_decay() {
        let cnn = TrainConfig {
            kind: ModelKind::CnnDice,
            decay_rate: 0.5,
            decay_steps: 10,
            ..TrainConfig::default()
        };
        assert_eq!(cnn.learning_rate_at(25), 0.0025);
        let simple = TrainConfig {
            kind: ModelKind::Simple,
            ..cnn
        };
        assert_eq!(simple.learning_rate_at(25), 0.01);
    }

    #[test]
    fn examples_reject_wrong_sizes() {
        let image = vec![0.0f32; 10];
        let label = vec![0u8; 10];
        let err = Examples::from_pairs(
            [(image.as_slice(), label.as_slice())],
            4,
            Device::Cpu,
            "f.tfrecords",
        );
        assert!(matches!(
            err,
            Err(TrainError::ImageSize {
                index: 0,
                expected: 16,
                ..
            })
        ));
    }
}
