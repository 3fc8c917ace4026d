//! The README's main job: the lab's three tasks end to end on the
//! synthetic data (generated if absent), each trained then evaluated.

use std::path::PathBuf;
use std::time::Instant;

use tch::Device;

use crate::data;
use crate::train::model::MetricKind;
use crate::train::output::SummaryCadence;
use crate::train::trainer::TrainConfig;
use crate::train::ModelKind;

use super::eval::{eval, EvalJob};
use super::location::Location;
use super::train::{train, EarlierRun, TrainJob};
use super::{signals, Interrupted};

/// Training images of the lab's split (234 of 260 contours).
pub const LAB_TRAIN_IMAGES: usize = 234;
/// Validation images of the lab's split.
pub const LAB_VAL_IMAGES: usize = 26;

/// The whole lab, checked.
#[derive(Clone, Debug)]
pub struct LabJob {
    /// Local data folder; the synthetic set is generated there if absent.
    pub data_dir: PathBuf,
    /// Parent of the per-task folders `simple`, `cnn`, `cnn-dice`.
    pub logdir: Location,
    /// Epochs of the three tasks, in [`ModelKind::ALL`] order.
    pub epochs: [u64; 3],
    /// Seed of the weights and shuffles.
    pub seed: u64,
}

/// One task's result: a row of the lab's summary table.
#[derive(Clone, Debug)]
pub struct TaskReport {
    /// The task's network.
    pub kind: ModelKind,
    /// Epochs trained.
    pub epochs: u64,
    /// `global_step` at the end.
    pub steps: i64,
    /// The lab's metric for the task.
    pub metric: MetricKind,
    /// Its value on the validation file.
    pub value: f64,
    /// Wall time of training and evaluation, in seconds.
    pub seconds: f64,
}

/// Runs the three tasks, each in `<logdir>/<model>` (replacing an earlier
/// run there, so TensorBoard never mixes two), printing the lab's lines.
/// A signal ends it in an [`Interrupted`] error after the task's
/// checkpoint.
pub fn lab(job: &LabJob, device: Device) -> anyhow::Result<Vec<TaskReport>> {
    let (train_path, val_path) = data::ensure_synthetic(
        &job.data_dir,
        data::synth::DEFAULT_SEED,
        LAB_TRAIN_IMAGES,
        LAB_VAL_IMAGES,
    )?;
    println!(
        "tbseg lab: data {} and {}",
        train_path.display(),
        val_path.display()
    );
    let data_dir = Location::Local(job.data_dir.clone());
    let mut rows = Vec::new();
    for (kind, epochs) in ModelKind::ALL.into_iter().zip(job.epochs) {
        let task_started = Instant::now();
        let dir = job.logdir.join(kind.name());
        let mut config = TrainConfig {
            kind,
            num_epochs: epochs,
            seed: job.seed,
            ..TrainConfig::default()
        };
        if kind == ModelKind::CnnDice {
            config.learning_rate = 0.03;
            config.decay_rate = 0.75;
            config.decay_steps = 10_000;
        }
        println!(
            "== task {}: {kind}, {epochs} epoch(s), learning rate {}",
            rows.len() + 1,
            config.learning_rate
        );
        let trained = train(
            &TrainJob {
                config,
                data_dir: data_dir.clone(),
                checkpoint_dir: dir.clone(),
                earlier: EarlierRun::Replace,
                cadence: SummaryCadence::default(),
                validation: Default::default(),
            },
            device,
        )?;
        if trained.interrupted {
            eprintln!("tbseg lab: task {kind}'s checkpoint is in {dir}");
            return Err(Interrupted {
                signal: signals::received().unwrap_or(libc::SIGINT),
                step: trained.steps,
            }
            .into());
        }
        let evaluated = eval(
            &EvalJob {
                kind,
                data_dir: data_dir.clone(),
                eval_dir: dir.join("eval"),
                checkpoint_dir: dir,
                images: 6,
                checkpoint: Default::default(),
            },
            device,
        )?;
        rows.push(TaskReport {
            kind,
            epochs,
            steps: trained.steps,
            metric: evaluated.metric,
            value: evaluated.value,
            seconds: task_started.elapsed().as_secs_f64(),
        });
    }
    Ok(rows)
}
