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

use crate::job::lab::{lab, LabJob};
use crate::job::Location;
use crate::train::model::MetricKind;

use super::runtime::Runtime;

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

/// Runs `tbseg lab` and prints its summary table.
pub fn run(args: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let device = args.runtime.start()?;
    let job = LabJob {
        data_dir: args.data_dir.clone(),
        logdir: Location::of(&args.logdir),
        epochs: if args.quick {
            [1, 1, 1]
        } else {
            [args.epochs_simple, args.epochs_cnn, args.epochs_cnn_dice]
        },
        seed: args.seed,
    };
    let rows = lab(&job, device)?;
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
