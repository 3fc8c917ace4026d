//! Evaluation (the lab's `runEval.py`): one checkpoint on the validation
//! file, once, with the lab's lines and TensorBoard events.

use anyhow::Context;
use tbseg::summary::SummaryWriter;
use tch::Device;

use crate::data;
use crate::train::eval::evaluate;
use crate::train::model::MetricKind;
use crate::train::scores::ImageScores;
use crate::train::validate::{log_image_scores, metric_name, CheckpointChoice};
use crate::train::{weights, Model, ModelKind, TrainError};

use super::data_files::{data_file, load_examples};
use super::location::Location;
use super::runtime::announce;

/// A checked evaluation job.
#[derive(Clone, Debug)]
pub struct EvalJob {
    /// Which network.
    pub kind: ModelKind,
    /// Folder with the validation file.
    pub data_dir: Location,
    /// Folder with the checkpoints.
    pub checkpoint_dir: Location,
    /// Folder for evaluation events.
    pub eval_dir: Location,
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

/// The lab's timestamp format (Python's `datetime.now()`).
pub fn timestamp() -> String {
    chrono::Local::now()
        .format("%Y-%m-%d %H:%M:%S%.6f")
        .to_string()
}

/// Evaluates the chosen checkpoint and prints the lab's lines.
pub fn eval(job: &EvalJob, device: Device) -> anyhow::Result<EvalReport> {
    let val_file = data_file(&job.data_dir, data::VAL_FILE)?;
    let prefix = job.checkpoint.resolve(job.checkpoint_dir.path())?;
    let examples = load_examples(&val_file, device)?;
    let mut model = Model::new(job.kind, device);
    weights::restore(&mut model, &prefix)
        .with_context(|| format!("restoring {}", prefix.display()))?;
    announce(device);
    // The lab took the step from the file name, not from global_step.
    let step = weights::step_from_name(&prefix).unwrap_or(0);
    let writer = SummaryWriter::new(job.eval_dir.path()).map_err(TrainError::from)?;
    let side = examples.size() as usize;
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
        scores.add(mask, &label, side);
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
        "OUTPUT: {} images evaluated from file {val_file}",
        evaluation.images
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
