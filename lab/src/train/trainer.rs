//! The training loop of the lab's `runTraining.py`, minus the I/O: what is
//! logged and saved is left to a [`TrainSink`].

use std::sync::atomic::{AtomicBool, Ordering};
use tch::nn::Optimizer;
use tch::Tensor;

use super::augment::Augmenter;
use super::examples::Examples;
use super::guard::{self, weights_finite};
use super::model::{Model, ModelKind};
use super::options::TrainOptions;
use super::schedule::{staircase_learning_rate, ExampleStream, SUMMARY_EVERY};
use super::timing::{Phase, PhaseClock, StepPhases};
use super::TrainError;

/// The lab saved a checkpoint every this many steps (step 0 included).
pub const CHECKPOINT_EVERY: i64 = 1000;

/// The most epochs a run may ask for: far more than any training needs,
/// small enough that step numbers stay exact in every counter.
pub const MAX_EPOCHS: u64 = 1 << 40;

/// What to do with a step whose loss or gradient is not finite
/// (`--on_nonfinite`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OnNonFinite {
    /// Stop training with an error naming the step; the weights are not
    /// updated and the last good checkpoint stays the latest (default).
    #[default]
    Stop,
    /// Skip that step's update, count it in the `nonfinite_steps` scalar,
    /// and go on.
    Skip,
    /// Do not check (not on the command line: `tbseg bench-step --guard
    /// false` measures what the guard costs). A non-finite update reaches
    /// the weights; a checkpoint still never saves one.
    #[value(skip)]
    Unchecked,
}

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
    pub decay_steps: i64,
    /// `--num_epochs`: passes over the training file.
    pub num_epochs: u64,
    /// `--batch_size`: examples per step.
    pub batch_size: usize,
    /// Seed of the weight initialisation and the per-epoch shuffles.
    pub seed: u64,
    /// `--checkpoint_every`: steps between checkpoints (1000 in the lab).
    pub checkpoint_every: i64,
    /// `--on_nonfinite`: what a non-finite loss or gradient does (stop).
    pub on_nonfinite: OnNonFinite,
    /// `--summary_every`: steps between the loss line, the summaries and
    /// their extra batch (the lab's [`SUMMARY_EVERY`], 100).
    pub summary_every: i64,
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
            checkpoint_every: CHECKPOINT_EVERY,
            on_nonfinite: OnNonFinite::Stop,
            summary_every: SUMMARY_EVERY,
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
        if self.decay_steps < 1 {
            return invalid(
                "--decay_steps",
                format!("{} (must be at least 1)", self.decay_steps),
            );
        }
        if self.num_epochs == 0 || self.num_epochs > MAX_EPOCHS {
            return invalid(
                "--num_epochs",
                format!("{} (must be 1 to {MAX_EPOCHS})", self.num_epochs),
            );
        }
        if self.batch_size == 0 {
            return invalid("--batch_size", "0 (must be at least 1)".into());
        }
        if self.summary_every < 1 {
            return invalid(
                "--summary_every",
                format!("{} (must be at least 1)", self.summary_every),
            );
        }
        if self.checkpoint_every < 1 {
            return invalid(
                "--checkpoint_every",
                format!("{} (must be at least 1)", self.checkpoint_every),
            );
        }
        Ok(())
    }

    /// The number of steps this run makes over `examples` training
    /// examples, or the error that names `--batch_size` when the data
    /// cannot fill a single step (the run would "succeed" with no
    /// training).
    pub fn step_count(&self, examples: usize) -> Result<i64, TrainError> {
        if self.batch_size > examples {
            return Err(TrainError::InvalidFlag {
                flag: "--batch_size",
                reason: format!(
                    "{} (more than the {examples} examples in the training file)",
                    self.batch_size
                ),
            });
        }
        let steps = self.stream(examples).step_count();
        if steps == 0 {
            return Err(TrainError::InvalidFlag {
                flag: "--batch_size",
                reason: format!(
                    "{} gives no training step: {examples} examples × {} epochs hold fewer than \
                     the {} the first step needs (its batch and the lab's summary batch); \
                     use a smaller --batch_size or more --num_epochs",
                    self.batch_size,
                    self.num_epochs,
                    2 * self.batch_size
                ),
            });
        }
        Ok(steps)
    }

    /// The order in which this run consumes `examples` training examples.
    pub fn stream(&self, examples: usize) -> ExampleStream {
        ExampleStream::new(examples, self.num_epochs, self.batch_size, self.seed)
            .with_summary_every(self.summary_every)
    }

    /// The learning rate used by `step` (constant for `simple`, as in the lab).
    pub fn learning_rate_at(&self, step: i64) -> f64 {
        if self.kind.decays_learning_rate() {
            staircase_learning_rate(self.learning_rate, self.decay_rate, self.decay_steps, step)
        } else {
            self.learning_rate
        }
    }
}

/// What a sink sees at a summary step (every `summary_every` steps).
pub struct SummaryStep<'a> {
    /// The step (0-based, the lab's loop counter).
    pub step: i64,
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

/// Which value of a step was not finite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonFinite {
    /// The training loss was NaN or infinite.
    Loss,
    /// The loss was finite but a gradient held NaN or infinity.
    Gradient,
    /// Loss and gradients were finite but the update overflowed a weight
    /// (found before a checkpoint, which is then not saved).
    Weights,
}

impl std::fmt::Display for NonFinite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NonFinite::Loss => "loss",
            NonFinite::Gradient => "gradient",
            NonFinite::Weights => "updated weights",
        })
    }
}

/// Where the loop's observable effects go: progress lines, TensorBoard
/// summaries, checkpoints. Every method has a do-nothing default.
pub trait TrainSink {
    /// Before the first step: `steps` is the total the run will reach and
    /// `first_step` where it starts (non-zero when resuming).
    fn started(&mut self, _model: &Model, _first_step: i64, _steps: i64) -> Result<(), TrainError> {
        Ok(())
    }

    /// After every step with its training loss and duration in seconds
    /// (forward pass through update, [`Phase::STEP`]); `summary` tells a
    /// summary step (the lab printed its loss line then).
    fn stepped(&mut self, _step: i64, _loss: f64, _seconds: f64, _summary: bool) {}

    /// Whether [`phases`](Self::phases) should get the device's times: on
    /// a GPU the loop then waits for the device at the end of every phase,
    /// which costs a little (benchmarks). Default false: on a GPU the phase
    /// times are then the host's time to queue the work.
    fn wants_device_phase_times(&self) -> bool {
        false
    }

    /// After every step, its logging, validation and checkpoint included:
    /// where the step's time went.
    fn phases(&mut self, _step: i64, _phases: &StepPhases) {}

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
        _step: i64,
        _global_step: i64,
        _last: bool,
        _model: &Model,
    ) -> Result<Flow, TrainError> {
        Ok(Flow::Continue)
    }

    /// At a step whose loss (`loss`) or gradient was not finite, before
    /// the loop stops or skips it; `skipped` counts such steps so far in
    /// this session, this one included.
    fn nonfinite(
        &mut self,
        _step: i64,
        _what: NonFinite,
        _loss: f64,
        _skipped: u64,
    ) -> Result<(), TrainError> {
        Ok(())
    }

    /// Save a checkpoint named `name_step` holding `global_step` updates.
    fn checkpoint(
        &mut self,
        _name_step: i64,
        _global_step: i64,
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
    pub steps: i64,
    /// Whether the stop flag (a signal) ended the run early.
    pub interrupted: bool,
    /// Whether validation ended the run early (no improvement within the
    /// patience).
    pub stopped_early: bool,
    /// Training loss of the last step run in this session.
    pub last_loss: Option<f64>,
    /// Training loss of every step run in this session, in order.
    pub losses: Vec<f64>,
    /// Steps skipped for a non-finite loss or gradient
    /// (`--on_nonfinite skip`).
    pub skipped: u64,
}

/// Runs the lab's loop: plain SGD on the per-pixel cross-entropy (or the
/// loss, optimiser and augmentation of `config.options`), the staircase
/// learning rate, a summary every `config.summary_every` steps on an
/// extra batch, a checkpoint every `config.checkpoint_every` steps and at
/// the end. Starts at `first_step` (a resumed run's `global_step`; a step
/// at or beyond the run's total trains and saves nothing, so `global_step`
/// never goes back) and stops early, with a checkpoint, when `stop`
/// becomes true. A non-finite loss or gradient stops the run with
/// [`TrainError::Diverged`] before the weights change, saving nothing, or
/// skips the step (`config.on_nonfinite`).
pub fn train(
    config: &TrainConfig,
    model: &Model,
    examples: &Examples,
    first_step: i64,
    sink: &mut dyn TrainSink,
    stop: &AtomicBool,
) -> Result<TrainOutcome, TrainError> {
    config.validate()?;
    let steps = config.step_count(examples.len())?;
    let mut stream = config.stream(examples.len());
    let mut optimizer: Optimizer = config
        .options
        .optimizer
        .build(model.var_store(), config.learning_rate)?;
    let loss_kind = config.options.loss;
    let augmenter = config
        .options
        .augment
        .then(|| Augmenter::new(config.seed, config.options.augment_symmetries));
    let mut outcome = TrainOutcome {
        steps: first_step,
        interrupted: false,
        stopped_early: false,
        last_loss: None,
        losses: Vec::new(),
        skipped: 0,
    };
    if first_step >= steps {
        return Ok(outcome);
    }
    sink.started(model, first_step, steps)?;
    let mut clock = PhaseClock::new(model.device(), sink.wants_device_phase_times());
    for step in first_step..steps {
        if stop.load(Ordering::SeqCst) {
            outcome.interrupted = true;
            break;
        }
        let Some(indices) = stream.train_batch(step) else {
            break;
        };
        clock.start_step();
        let learning_rate = config.learning_rate_at(step);
        optimizer.set_lr(learning_rate);
        let (images, labels) = examples.batch(&indices)?;
        let (images, labels) = match &augmenter {
            Some(augmenter) => augmenter.apply(step, &images, &labels)?,
            None => (images, labels),
        };
        clock.lap(Phase::Data);
        optimizer.zero_grad();
        let logits = model.forward(&images)?;
        clock.lap(Phase::Forward);
        let loss = loss_kind.compute(&logits, &labels)?;
        drop(logits);
        clock.lap(Phase::Loss);
        loss.f_backward()?;
        clock.lap(Phase::Backward);
        let (loss, nonfinite) = if config.on_nonfinite == OnNonFinite::Unchecked {
            (loss.f_double_value(&[])?, None)
        } else {
            let verdict = guard::check_step(&loss, model)?;
            (verdict.loss, verdict.nonfinite)
        };
        clock.lap(Phase::Guard);
        match nonfinite {
            None => optimizer.step(),
            Some(what) => {
                outcome.skipped += 1;
                sink.nonfinite(step, what, loss, outcome.skipped)?;
                if config.on_nonfinite == OnNonFinite::Stop {
                    return Err(TrainError::Diverged { step, what, loss });
                }
                optimizer.zero_grad();
            }
        }
        clock.lap(Phase::Update);
        let seconds = clock.phases().step_seconds();
        outcome.steps = step + 1;
        outcome.last_loss = Some(loss);
        outcome.losses.push(loss);
        let summary_step = step % config.summary_every == 0;
        sink.stepped(step, loss, seconds, summary_step);
        if summary_step {
            if let Some(indices) = stream.summary_batch(step) {
                let (images, labels) = examples.batch(&indices)?;
                let (logits, loss) = tch::no_grad(|| -> Result<_, TrainError> {
                    let logits = model.forward(&images)?;
                    let loss = loss_kind.compute(&logits, &labels)?.f_double_value(&[])?;
                    Ok((logits, loss))
                })?;
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
        if step % config.checkpoint_every == 0 {
            checked_checkpoint(sink, step, step + 1, model, &outcome)?;
        }
        clock.lap(Phase::Logging);
        sink.phases(step, clock.phases());
        if flow == Flow::Stop {
            outcome.stopped_early = true;
            break;
        }
    }
    // A run stopped before its first update has nothing new to validate
    // or save: the restored checkpoint is already the latest.
    if outcome.steps > first_step {
        if !outcome.interrupted {
            sink.validate(outcome.steps, outcome.steps, true, model)?;
        }
        checked_checkpoint(sink, outcome.steps, outcome.steps, model, &outcome)?;
    }
    Ok(outcome)
}

/// Saves a checkpoint unless a weight is not finite (an update that
/// overflowed), which is reported as divergence instead: a checkpoint is
/// only ever a good one.
fn checked_checkpoint(
    sink: &mut dyn TrainSink,
    name_step: i64,
    global_step: i64,
    model: &Model,
    outcome: &TrainOutcome,
) -> Result<(), TrainError> {
    if !weights_finite(model)? {
        let step = global_step - 1;
        let loss = outcome.last_loss.unwrap_or(f64::NAN);
        sink.nonfinite(step, NonFinite::Weights, loss, outcome.skipped + 1)?;
        return Err(TrainError::Diverged {
            step,
            what: NonFinite::Weights,
            loss,
        });
    }
    sink.checkpoint(name_step, global_step, model)
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
        checkpoints: Vec<(i64, i64)>,
        summaries: Vec<(i64, f64)>,
        started: Option<(i64, i64)>,
    }

    impl TrainSink for Recorder {
        fn started(&mut self, _: &Model, first_step: i64, steps: i64) -> Result<(), TrainError> {
            self.started = Some((first_step, steps));
            Ok(())
        }
        fn summary(&mut self, summary: &SummaryStep<'_>) -> Result<(), TrainError> {
            assert_eq!(summary.logits.size(), [1, 2, 32, 32]);
            self.summaries.push((summary.step, summary.learning_rate));
            Ok(())
        }
        fn checkpoint(&mut self, name: i64, global: i64, _: &Model) -> Result<(), TrainError> {
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
        first_step: i64,
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
        // Stopped before its first update: the restored checkpoint at step
        // 3 is already the latest, so nothing is saved again.
        let (outcome, sink) = train_on_discs(&config, &model, 3, true);
        assert!(outcome.interrupted);
        assert_eq!(outcome.steps, 3);
        assert_eq!(sink.checkpoints, vec![]);
        assert_eq!(sink.started, Some((3, 7)));
    }

    /// Records what the divergence guard reports.
    #[derive(Default)]
    struct NonFiniteRecorder {
        nonfinite: Vec<(i64, NonFinite, u64)>,
        checkpoints: Vec<i64>,
    }

    impl TrainSink for NonFiniteRecorder {
        fn nonfinite(
            &mut self,
            step: i64,
            what: NonFinite,
            loss: f64,
            skipped: u64,
        ) -> Result<(), TrainError> {
            assert!(!loss.is_finite());
            self.nonfinite.push((step, what, skipped));
            Ok(())
        }
        fn checkpoint(&mut self, _: i64, global: i64, _: &Model) -> Result<(), TrainError> {
            self.checkpoints.push(global);
            Ok(())
        }
    }

    #[test]
    fn a_nan_in_the_data_stops_or_skips_without_touching_the_weights() {
        let size = 8;
        let mut image = vec![0.5f32; 64];
        image[3] = f32::NAN;
        let label = vec![0u8; 64];
        let examples = Examples::from_pairs(
            [
                (image.as_slice(), label.as_slice()),
                (image.as_slice(), label.as_slice()),
            ],
            size,
            Device::Cpu,
            "nan",
        )
        .unwrap();
        let tiny = SimpleConfig {
            image_size: size,
            hidden: 4,
        };
        let model =
            Model::with_architecture(ModelKind::Simple, Architecture::Simple(tiny), Device::Cpu);
        let before = model.export_tf().unwrap();
        let config = TrainConfig {
            kind: ModelKind::Simple,
            num_epochs: 3,
            ..TrainConfig::default()
        };
        let mut sink = NonFiniteRecorder::default();
        let stop = AtomicBool::new(false);
        let err = train(&config, &model, &examples, 0, &mut sink, &stop).unwrap_err();
        assert!(
            matches!(
                err,
                TrainError::Diverged {
                    step: 0,
                    what: NonFinite::Loss,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("step 0"), "{err}");
        assert_eq!(sink.nonfinite, [(0, NonFinite::Loss, 1)]);
        assert!(sink.checkpoints.is_empty(), "diverged weights were saved");
        assert_eq!(model.export_tf().unwrap(), before);

        let skip = TrainConfig {
            on_nonfinite: OnNonFinite::Skip,
            ..config
        };
        let mut sink = NonFiniteRecorder::default();
        let outcome = train(&skip, &model, &examples, 0, &mut sink, &stop).unwrap();
        assert_eq!(outcome.steps, 5);
        assert_eq!(outcome.skipped, 5);
        assert_eq!(sink.nonfinite.last(), Some(&(4, NonFinite::Loss, 5)));
        assert_eq!(model.export_tf().unwrap(), before);
    }

    #[test]
    fn a_batch_the_data_cannot_fill_is_an_error_not_zero_steps() {
        let config = TrainConfig {
            batch_size: 2,
            ..TrainConfig::default()
        };
        // 3 examples, 1 epoch: step 0 needs 2 + 2 (its summary batch).
        let err = config.step_count(3).unwrap_err().to_string();
        assert!(
            err.contains("--batch_size") && err.contains("no training step"),
            "{err}"
        );
        let err = config.step_count(1).unwrap_err().to_string();
        assert!(err.contains("more than the 1 examples"), "{err}");
        assert_eq!(config.step_count(4).unwrap(), 1);
        let absurd = TrainConfig {
            num_epochs: MAX_EPOCHS + 1,
            ..TrainConfig::default()
        };
        assert!(absurd
            .validate()
            .unwrap_err()
            .to_string()
            .contains("--num_epochs"));
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
