//! Where a training step's time goes: the loop's phases ([`Phase`]), timed
//! by a monotonic clock at each phase boundary, and [`StepRecorder`], the
//! sink that collects them for `tbseg bench-step`.
//!
//! On the CPU libtorch runs every operation before it returns, so a phase's
//! wall time is its cost. On a GPU it only queues the work; a sink that
//! wants the device's times asks for them
//! ([`TrainSink::wants_device_phase_times`]), and the loop then waits for
//! the device at the end of every phase.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use tch::Device;

use super::trainer::TrainSink;

/// One phase of a training step, in the order the loop runs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Gathering the batch from the data set, and augmenting it.
    Data,
    /// The network's forward pass.
    Forward,
    /// The loss on its logits.
    Loss,
    /// The backward pass (gradients).
    Backward,
    /// The divergence guard (see [`super::guard`]): the finiteness check
    /// of the loss and gradients and the one read of the loss to the host.
    Guard,
    /// The optimiser's update of the weights.
    Update,
    /// Everything after the update: progress lines, the summary pass and
    /// its output every `--summary_every` steps, validation, checkpoints.
    Logging,
}

impl Phase {
    /// Every phase, in the loop's order.
    pub const ALL: [Phase; 7] = [
        Phase::Data,
        Phase::Forward,
        Phase::Loss,
        Phase::Backward,
        Phase::Guard,
        Phase::Update,
        Phase::Logging,
    ];

    /// The phases that make up the step time the loop reports (the
    /// `OUTPUT:` line's seconds): forward through update.
    pub const STEP: [Phase; 5] = [
        Phase::Forward,
        Phase::Loss,
        Phase::Backward,
        Phase::Guard,
        Phase::Update,
    ];

    /// The phase's name in benchmark output.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Data => "data",
            Phase::Forward => "forward",
            Phase::Loss => "loss",
            Phase::Backward => "backward",
            Phase::Guard => "guard",
            Phase::Update => "update",
            Phase::Logging => "logging",
        }
    }
}

/// Seconds spent in each phase of one step (or summed over several).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepPhases {
    seconds: [f64; Phase::ALL.len()],
}

impl StepPhases {
    /// Seconds spent in `phase`.
    pub fn seconds(&self, phase: Phase) -> f64 {
        self.seconds[phase as usize]
    }

    /// The step time the loop reports: the sum of [`Phase::STEP`].
    pub fn step_seconds(&self) -> f64 {
        Phase::STEP.iter().map(|&phase| self.seconds(phase)).sum()
    }

    /// Adds `other`'s times to these.
    pub fn add(&mut self, other: &StepPhases) {
        for (mine, theirs) in self.seconds.iter_mut().zip(other.seconds) {
            *mine += theirs;
        }
    }
}

/// Times the phases of one step: each [`lap`](PhaseClock::lap) charges the
/// time since the previous boundary to a phase.
pub(crate) struct PhaseClock {
    /// The CUDA device to wait for at each boundary, if any.
    wait_for: Option<i64>,
    last: Instant,
    phases: StepPhases,
}

impl PhaseClock {
    /// A clock for steps on `device`; with `device_times` set and a CUDA
    /// device, each lap first waits for the device.
    pub(crate) fn new(device: Device, device_times: bool) -> PhaseClock {
        let wait_for = match device {
            Device::Cuda(index) if device_times => Some(index as i64),
            _ => None,
        };
        PhaseClock {
            wait_for,
            last: Instant::now(),
            phases: StepPhases::default(),
        }
    }

    /// Starts a new step: the phases so far are forgotten.
    pub(crate) fn start_step(&mut self) {
        self.phases = StepPhases::default();
        self.last = Instant::now();
    }

    /// Ends `phase` now (after the device is done, when asked for).
    pub(crate) fn lap(&mut self, phase: Phase) {
        if let Some(index) = self.wait_for {
            tch::Cuda::synchronize(index);
        }
        let now = Instant::now();
        self.phases.seconds[phase as usize] += (now - self.last).as_secs_f64();
        self.last = now;
    }

    /// The current step's phases.
    pub(crate) fn phases(&self) -> &StepPhases {
        &self.phases
    }
}

/// Median, mean and minimum of `values`, in the same unit; NaN when empty.
pub fn median_mean_min(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    let mean = sorted.iter().sum::<f64>() / n as f64;
    (median, mean, sorted[0])
}

/// A sink that records every step's phases after `warmup` steps and, when
/// given a stop flag and a count, raises the flag once it has that many.
pub struct StepRecorder<'a> {
    warmup: u64,
    stop_after: Option<(u64, &'a AtomicBool)>,
    trace: bool,
    seen: u64,
    steps: Vec<StepPhases>,
}

impl<'a> StepRecorder<'a> {
    /// Records every step after the first `warmup`.
    pub fn new(warmup: u64) -> StepRecorder<'a> {
        StepRecorder {
            warmup,
            stop_after: None,
            trace: false,
            seen: 0,
            steps: Vec::new(),
        }
    }

    /// Raises `stop` (the loop's stop flag) once `wanted` steps are
    /// recorded.
    pub fn stop_after(mut self, wanted: u64, stop: &'a AtomicBool) -> Self {
        self.stop_after = Some((wanted, stop));
        self
    }

    /// Also prints every step's phases to stderr (to see a busy machine's
    /// slow steps).
    pub fn trace(mut self, trace: bool) -> Self {
        self.trace = trace;
        self
    }

    /// The recorded steps, in order.
    pub fn steps(&self) -> &[StepPhases] {
        &self.steps
    }

    /// Every recorded step's phases added up.
    pub fn totals(&self) -> StepPhases {
        let mut total = StepPhases::default();
        for step in &self.steps {
            total.add(step);
        }
        total
    }

    /// The step times as JSON fields (no braces): `step_median_ms`,
    /// `step_mean_ms`, `step_min_ms`, then `phases_median_ms` and
    /// `phases_mean_ms`, objects keyed by [`Phase::name`]. The phase means
    /// add up to the step mean (plus data and logging); medians need not.
    pub fn json_fields(&self) -> String {
        let step: Vec<f64> = self.steps.iter().map(StepPhases::step_seconds).collect();
        let (median, mean, min) = median_mean_min(&step);
        let mut medians = Vec::new();
        let mut means = Vec::new();
        for phase in Phase::ALL {
            let times: Vec<f64> = self.steps.iter().map(|s| s.seconds(phase)).collect();
            let (median, mean, _) = median_mean_min(&times);
            medians.push(format!("\"{}\": {:.3}", phase.name(), median * 1e3));
            means.push(format!("\"{}\": {:.3}", phase.name(), mean * 1e3));
        }
        format!(
            "\"step_median_ms\": {:.3}, \"step_mean_ms\": {:.3}, \"step_min_ms\": {:.3}, \
             \"phases_median_ms\": {{{}}}, \"phases_mean_ms\": {{{}}}",
            median * 1e3,
            mean * 1e3,
            min * 1e3,
            medians.join(", "),
            means.join(", "),
        )
    }
}

/// `phases` as a JSON object of seconds keyed by [`Phase::name`].
pub fn phases_json_s(phases: &StepPhases) -> String {
    let fields: Vec<String> = Phase::ALL
        .iter()
        .map(|&phase| format!("\"{}\": {:.4}", phase.name(), phases.seconds(phase)))
        .collect();
    format!("{{{}}}", fields.join(", "))
}

impl TrainSink for StepRecorder<'_> {
    fn wants_device_phase_times(&self) -> bool {
        true
    }

    fn phases(&mut self, step: i64, phases: &StepPhases) {
        self.seen += 1;
        if self.trace {
            let parts: Vec<String> = Phase::ALL
                .iter()
                .map(|&phase| format!("{} {:.1}", phase.name(), phases.seconds(phase) * 1e3))
                .collect();
            eprintln!(
                "step {step}: {:.1} ms ({})",
                phases.step_seconds() * 1e3,
                parts.join(", ")
            );
        }
        if self.seen > self.warmup {
            self.steps.push(*phases);
        }
        if let Some((wanted, stop)) = self.stop_after {
            if self.steps.len() as u64 >= wanted {
                stop.store(true, Ordering::SeqCst);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phases(seconds: [f64; 7]) -> StepPhases {
        StepPhases { seconds }
    }

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(median_mean_min(&[3.0, 1.0, 2.0]), (2.0, 2.0, 1.0));
        let (median, mean, min) = median_mean_min(&[4.0, 1.0, 2.0, 3.0]);
        assert_eq!((median, mean, min), (2.5, 2.5, 1.0));
        assert!(median_mean_min(&[]).0.is_nan());
    }

    #[test]
    fn the_step_time_is_forward_through_update() {
        let step = phases([100.0, 1.0, 2.0, 4.0, 8.0, 16.0, 200.0]);
        assert_eq!(step.step_seconds(), 31.0);
        assert_eq!(step.seconds(Phase::Guard), 8.0);
    }

    #[test]
    fn the_clock_charges_each_lap_to_its_phase() {
        let mut clock = PhaseClock::new(Device::Cpu, true);
        clock.start_step();
        std::thread::sleep(std::time::Duration::from_millis(20));
        clock.lap(Phase::Backward);
        clock.lap(Phase::Guard);
        let phases = clock.phases();
        assert!(phases.seconds(Phase::Backward) >= 0.02, "{phases:?}");
        assert!(phases.seconds(Phase::Guard) < phases.seconds(Phase::Backward));
        assert_eq!(phases.seconds(Phase::Forward), 0.0);
        clock.start_step();
        assert_eq!(clock.phases(), &StepPhases::default());
    }

    #[test]
    fn the_recorder_skips_the_warmup_and_raises_the_stop_flag() {
        let stop = AtomicBool::new(false);
        let mut recorder = StepRecorder::new(2).stop_after(3, &stop);
        for step in 0..4 {
            recorder.phases(step, &phases([0.0, step as f64, 0.0, 0.0, 0.0, 0.0, 1.0]));
            assert!(!stop.load(Ordering::SeqCst));
        }
        recorder.phases(4, &phases([0.0, 4.0, 0.0, 0.0, 0.0, 0.0, 1.0]));
        assert!(stop.load(Ordering::SeqCst));
        let forward: Vec<f64> = recorder
            .steps()
            .iter()
            .map(|s| s.seconds(Phase::Forward))
            .collect();
        assert_eq!(forward, [2.0, 3.0, 4.0]);
        assert_eq!(recorder.totals().seconds(Phase::Logging), 3.0);
        let json = recorder.json_fields();
        assert!(json.starts_with("\"step_median_ms\": 3000.000,"), "{json}");
        assert!(
            json.contains("\"phases_mean_ms\": {\"data\": 0.000, \"forward\": 3000.000"),
            "{json}"
        );
        let object: String = phases_json_s(&recorder.totals());
        assert!(
            object.starts_with("{\"data\": 0.0000, \"forward\": 9.0000"),
            "{object}"
        );
    }
}
