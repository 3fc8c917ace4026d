//! `tbseg eval`: the lab's `runEval.py` — the latest checkpoint on the
//! validation file, once ([`crate::job::eval`]).

use std::path::PathBuf;

use crate::job::eval::{eval, EvalJob};
use crate::job::train::default_checkpoint_dir;
use crate::job::Location;
use crate::train::recipe::Recipe;
use crate::train::validate::CheckpointChoice;
use crate::train::ModelKind;

use super::runtime::Runtime;

/// Flags of `tbseg eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The recipe the checkpoint was trained with (`tbseg train --recipe`): its model, and with `best` its best checkpoint.
    #[arg(long, value_enum)]
    pub recipe: Option<Recipe>,
    /// Which task's network the checkpoint holds [default: cnn-dice, or the recipe's].
    #[arg(long, value_enum)]
    pub model: Option<ModelKind>,
    /// Folder with `val_images.tfrecords`.
    #[arg(long = "data_dir", visible_alias = "data-dir", default_value = "data")]
    pub data_dir: PathBuf,
    /// Folder with the checkpoints (default: `logs/<model>`).
    #[arg(long = "checkpoint_dir", visible_alias = "checkpoint-dir")]
    pub checkpoint_dir: Option<PathBuf>,
    /// Folder for the evaluation events [default: <checkpoint_dir>/eval].
    #[arg(long = "eval_dir", visible_alias = "eval-dir")]
    pub eval_dir: Option<PathBuf>,
    /// Prediction overlays logged to TensorBoard (the first N images).
    #[arg(long, default_value_t = 6)]
    pub images: usize,
    /// Which checkpoint: `latest`, `best` (kept by `train --eval_every`) or a checkpoint prefix [default: latest, or best with --recipe best].
    #[arg(long)]
    pub checkpoint: Option<CheckpointChoice>,
    /// Same as `--checkpoint best`.
    #[arg(long, conflicts_with = "checkpoint")]
    pub best: bool,
    /// Device and thread count.
    #[command(flatten)]
    pub runtime: Runtime,
}

impl Args {
    /// Builds the job, filling in the default folders.
    pub fn job(&self) -> EvalJob {
        let recipe = self.recipe.unwrap_or_default().values();
        let model = self.model.unwrap_or(recipe.model);
        let checkpoint_dir = Location::of(
            &self
                .checkpoint_dir
                .clone()
                .unwrap_or_else(|| default_checkpoint_dir(model)),
        );
        EvalJob {
            kind: model,
            data_dir: Location::of(&self.data_dir),
            eval_dir: match &self.eval_dir {
                Some(dir) => Location::of(dir),
                None => checkpoint_dir.join("eval"),
            },
            checkpoint_dir,
            images: self.images,
            checkpoint: match &self.checkpoint {
                Some(choice) => choice.clone(),
                None if self.best || recipe.best_checkpoint => CheckpointChoice::Best,
                None => CheckpointChoice::Latest,
            },
        }
    }
}

/// Runs `tbseg eval`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let job = args.job();
    let device = args.runtime.start()?;
    eval(&job, device)?;
    Ok(())
}
