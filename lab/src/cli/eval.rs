//! `tbseg eval`: the lab's `runEval.py` — the latest checkpoint on the
//! validation file, once.

use std::path::PathBuf;

use anyhow::Context;
use tch::Device;

use crate::data;
use crate::train::eval::evaluate;
use crate::train::model::MetricKind;
use crate::train::recipe::Recipe;
use crate::train::scores::ImageScores;
use crate::train::validate::{log_image_scores, metric_name, CheckpointChoice};
use crate::train::{weights, Model, ModelKind, TrainError};
use tbseg::summary::SummaryWriter;

use super::train::{data_file, default_checkpoint_dir, load_examples, Runtime};

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

/// A checked evaluation job.
#[derive(Clone, Debug)]
pub struct EvalJob {
    /// Which network.
    pub kind: ModelKind,
    /// Folder with the validation file.
    pub data_dir: PathBuf,
    /// Folder with the checkpoints.
    pub checkpoint_dir: PathBuf,
    /// Folder for evaluation events.
    pub eval_dir: PathBuf,
    /// Overlays to log.
    pub images: usize,
    /// Which checkpoint to score.
    pub checkpoint: CheckpointChoice,
}

/// The result of an evaluation.
#[derive(Clone, Debug)]
pub struct EvalReport {
    /// What was measured.
    pub metric: MetricKind,
    /// Its value.
    pub value: f64,
    /// Images evaluated.
    pub images: usize,
    /// The checkpoint's step.
    pub step: i64,
}

impl Args {
    /// Builds the job, filling in the default folders.
    pub fn job(&self) -> EvalJob {
        let recipe = self.recipe.unwrap_or_default().values();
        let model = self.model.unwrap_or(recipe.model);
        let checkpoint_dir = self
            .checkpoint_dir
            .clone()
            .unwrap_or_else(|| default_checkpoint_dir(model));
        EvalJob {
            kind: model,
            data_dir: self.data_dir.clone(),
            eval_dir: self
                .eval_dir
                .clone()
                .unwrap_or_else(|| checkpoint_dir.join("eval")),
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
    eval_job(&job, device)?;
    Ok(())
}

/// The lab's timestamp format (Python's `datetime.now()`).
pub fn timestamp() -> String {
    chrono::Local::now()
        .format("%Y-%m-%d %H:%M:%S%.6f")
        .to_string()
}

/// Evaluates the latest checkpoint and prints the lab's lines.
pub fn eval_job(job: &EvalJob, device: Device) -> anyhow::Result<EvalReport> {
    let val_path = data_file(&job.data_dir, data::VAL_FILE)?;
    let prefix = job.checkpoint.resolve(&job.checkpoint_dir)?;
    let examples = load_examples(&val_path, device)?;
    let mut model = Model::new(job.kind, device);
    weights::restore(&mut model, &prefix)
        .with_context(|| format!("restoring {}", prefix.display()))?;
    super::train::announce(device);
    // The lab took the step from the file name, not from global_step.
    let step = weights::step_from_name(&prefix).unwrap_or(0);
    let writer = SummaryWriter::new(&job.eval_dir).map_err(TrainError::from)?;
    let side = examples.size() as u32;
    let mut overlays = Vec::new();
    // The first error reading an example back; the callback cannot return it.
    let mut failed = None;
    let mut scores = ImageScores::default();
    let evaluation = evaluate(&model, &examples, 8, |index, mask| {
        if failed.is_some() {
            return;
        }
        let label = match examples.label_values(index) {
            Ok(label) => label,
            Err(err) => {
                failed = Some(err);
                return;
            }
        };
        scores.add(mask, &label, side as usize);
        if index >= job.images {
            return;
        }
        let overlay = (|| -> Result<_, TrainError> {
            let image = examples.image_values(index)?;
            Ok(crate::overlay::overlay(&image, side, side, &label, mask)?)
        })();
        match overlay {
            Ok(overlay) => overlays.push(overlay),
            Err(err) => failed = Some(err),
        }
    })?;
    if let Some(err) = failed {
        return Err(err.into());
    }
    if !overlays.is_empty() {
        // One card in TensorBoard, with a slider over the images.
        writer
            .add_image_samples("eval/overlay", &overlays, step)
            .map_err(TrainError::from)?;
    }
    let metric = job.kind.metric();
    let value = evaluation.value(metric);
    writer
        .add_scalar(job.kind.eval_tag(), value as f32, step)
        .map_err(TrainError::from)?;
    log_image_scores(&writer, &scores, step)?;
    writer.close().map_err(TrainError::from)?;
    let name = metric_name(metric);
    println!("OUTPUT: {}: {name} = {value:.3}", timestamp());
    println!(
        "OUTPUT: {} images evaluated from file {}",
        evaluation.images,
        val_path.display()
    );
    println!(
        "per-image Dice: mean {:.3}, min {:.3}; mean IoU {:.3}; mean Hausdorff distance {:.1} px ({})",
        scores.mean_dice(),
        scores.dices().iter().copied().fold(f64::INFINITY, f64::min),
        scores.mean_iou(),
        scores.mean_hausdorff(),
        prefix.display()
    );
    Ok(EvalReport {
        metric,
        value,
        images: evaluation.images,
        step,
    })
}
