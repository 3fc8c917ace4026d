//! `tbseg lab`: the README's main job — the lab's three tasks end to end on
//! the synthetic data, sized to finish in about 4 minutes on an idle 2-core
//! CPU (well inside 15 minutes on a busy one).
//!
//! Epochs: 1 for `simple` (as in the lab), 6 for `cnn` (the lab ran 30)
//! and 30 for `cnn-dice` with the lab's best recipe (the lab ran 100).
//! For the lab's full recipes run the tasks one by one, for example the
//! final task's:
//!
//! ```text
//! tbseg train --model cnn-dice --learning_rate 0.03 --decay_rate 0.75 \
//!     --decay_steps 10000 --num_epochs 100
//! tbseg eval --model cnn-dice
//! ```

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;

use crate::data;
use crate::train::model::MetricKind;
use crate::train::output::SummaryCadence;
use crate::train::trainer::TrainConfig;
use crate::train::{run_dir, ModelKind};

use super::eval::{eval_job, EvalJob};
use super::train::{train_job, Runtime, TrainJob};

/// Flags of `tbseg lab`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data folder; the synthetic set is generated there if absent.
    #[arg(long = "data_dir", visible_alias = "data-dir", default_value = "data")]
    pub data_dir: PathBuf,
    /// Parent of the per-task folders `simple`, `cnn`, `cnn-dice`.
    #[arg(long, default_value = "logs")]
    pub logdir: PathBuf,
    /// Epochs of task 1 (`simple`, lr 0.01).
    #[arg(long = "epochs-simple", default_value_t = 1)]
    pub epochs_simple: u64,
    /// Epochs of task 2 (`cnn`, lr 0.01).
    #[arg(long = "epochs-cnn", default_value_t = 6)]
    pub epochs_cnn: u64,
    /// Epochs of task 3 (`cnn-dice`, the lab's final recipe: lr 0.03,
    /// decay 0.75 every 10000 steps).
    #[arg(long = "epochs-cnn-dice", default_value_t = 30)]
    pub epochs_cnn_dice: u64,
    /// One epoch per task (about 2 minutes on 2 cores).
    #[arg(long, conflicts_with_all = ["epochs_simple", "epochs_cnn", "epochs_cnn_dice"])]
    pub quick: bool,
    /// Seed of the weights and shuffles (the data uses the generator's own seed).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Device and thread count.
    #[command(flatten)]
    pub runtime: Runtime,
}

/// One row of the summary table.
struct Row {
    kind: ModelKind,
    epochs: u64,
    steps: i64,
    metric: MetricKind,
    value: f64,
    seconds: f64,
}

/// Runs `tbseg lab`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let device = args.runtime.start()?;
    let (train_path, val_path) = data::ensure_synthetic(
        &args.data_dir,
        data::synth::DEFAULT_SEED,
        LAB_TRAIN_IMAGES,
        LAB_VAL_IMAGES,
    )?;
    println!(
        "tbseg lab: data {} and {}",
        train_path.display(),
        val_path.display()
    );
    let epochs = if args.quick {
        [1, 1, 1]
    } else {
        [args.epochs_simple, args.epochs_cnn, args.epochs_cnn_dice]
    };
    let mut rows = Vec::new();
    for (kind, epochs) in ModelKind::ALL.into_iter().zip(epochs) {
        let task_started = Instant::now();
        let dir = args.logdir.join(kind.name());
        // A new `tbseg lab` replaces the previous one's runs, so that
        // TensorBoard does not mix two runs.
        run_dir::clear_run(&dir).with_context(|| format!("clearing {}", dir.display()))?;
        let mut config = TrainConfig {
            kind,
            num_epochs: epochs,
            seed: args.seed,
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
        let job = TrainJob {
            config,
            data_dir: args.data_dir.clone(),
            checkpoint_dir: dir.clone(),
            resume: false,
            // `tbseg lab` owns its task folders and redoes the whole lab on
            // every run: an earlier run there is replaced (and says so),
            // never mixed with the new one.
            overwrite: true,
            cadence: SummaryCadence::default(),
            validation: Default::default(),
        };
        let trained = train_job(&job, device)?;
        if trained.interrupted {
            eprintln!(
                "tbseg lab: task {kind}'s checkpoint is in {}",
                dir.display()
            );
            return Err(super::Interrupted {
                signal: super::signals::received().unwrap_or(libc::SIGINT),
                step: trained.steps,
            }
            .into());
        }
        let evaluated = eval_job(
            &EvalJob {
                kind,
                data_dir: args.data_dir.clone(),
                eval_dir: dir.join("eval"),
                checkpoint_dir: dir,
                images: 6,
                checkpoint: Default::default(),
            },
            device,
        )?;
        rows.push(Row {
            kind,
            epochs,
            steps: trained.steps,
            metric: evaluated.metric,
            value: evaluated.value,
            seconds: task_started.elapsed().as_secs_f64(),
        });
    }
    println!();
    println!(
        "{:<10} {:>6} {:>6}  {:<16} {:>6} {:>9}",
        "task", "epochs", "steps", "metric", "value", "wall"
    );
    for row in &rows {
        let metric = match row.metric {
            MetricKind::PixelAccuracy => "pixel accuracy",
            MetricKind::Dice => "Dice",
        };
        println!(
            "{:<10} {:>6} {:>6}  {:<16} {:>6.3} {:>8.1}s",
            row.kind.name(),
            row.epochs,
            row.steps,
            metric,
            row.value,
            row.seconds
        );
    }
    println!("total wall time {:.1} s", started.elapsed().as_secs_f64());
    println!();
    println!("next: tensorboard --logdir {}", args.logdir.display());
    Ok(())
}

/// Training images of the lab's split (234 of 260 contours).
pub const LAB_TRAIN_IMAGES: usize = 234;
/// Validation images of the lab's split.
pub const LAB_VAL_IMAGES: usize = 26;
