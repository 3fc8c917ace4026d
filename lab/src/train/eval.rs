//! Evaluation and prediction: run a model over a data set without
//! gradients and score it the way the lab's `runEval.py` did.

use tch::{Device, Kind, Tensor};

use super::examples::Examples;
use super::metrics::{accuracy_counts, dice_counts, predicted_classes, AccuracyCounts, DiceCounts};
use super::model::{MetricKind, Model};
use super::TrainError;

/// Counts accumulated over a whole validation file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Evaluation {
    /// Pixel accuracy counts (ties correct).
    pub accuracy: AccuracyCounts,
    /// Dice counts of the LV class (ties → background).
    pub dice: DiceCounts,
    /// Images evaluated.
    pub images: usize,
}

impl Evaluation {
    /// The number the lab printed for `metric`.
    pub fn value(&self, metric: MetricKind) -> f64 {
        match metric {
            MetricKind::PixelAccuracy => self.accuracy.accuracy(),
            MetricKind::Dice => self.dice.dice(),
        }
    }
}

/// Predicted class masks (0/1 per pixel, row-major) and the per-pixel
/// logits for images `[B, 1, S, S]`.
pub struct Predictions {
    /// One mask per image.
    pub masks: Vec<Vec<u8>>,
    /// Background and LV logits per image.
    logits: Vec<(Vec<f32>, Vec<f32>)>,
}

/// Runs `model` on `images` without gradients and splits the logits per
/// image, or libtorch's error (out of memory, a failed copy).
pub fn predict(model: &Model, images: &Tensor) -> Result<Predictions, TrainError> {
    let logits = tch::no_grad(|| model.forward(images))?
        .f_to_device(Device::Cpu)?
        .f_to_kind(Kind::Float)?;
    let count = logits.size()[0];
    let mut out = Predictions {
        masks: Vec::new(),
        logits: Vec::new(),
    };
    for index in 0..count {
        let plane = |class: i64| -> Result<Vec<f32>, TrainError> {
            let plane = logits
                .f_get(index)?
                .f_get(class)?
                .f_contiguous()?
                .f_flatten(0, -1)?;
            Ok(Vec::<f32>::try_from(plane)?)
        };
        let (background, ventricle) = (plane(0)?, plane(1)?);
        out.masks.push(predicted_classes(&background, &ventricle));
        out.logits.push((background, ventricle));
    }
    Ok(out)
}

/// Evaluates `model` on every example, `batch_size` at a time, calling
/// `each(index, predicted_mask)` per image (for overlays).
pub fn evaluate(
    model: &Model,
    examples: &Examples,
    batch_size: usize,
    mut each: impl FnMut(usize, &[u8]),
) -> Result<Evaluation, TrainError> {
    let mut evaluation = Evaluation::default();
    let batch_size = batch_size.max(1);
    let mut start = 0;
    while start < examples.len() {
        let (images, _) = examples.range(start, batch_size)?;
        let predictions = predict(model, &images)?;
        for (offset, (mask, (background, ventricle))) in predictions
            .masks
            .iter()
            .zip(&predictions.logits)
            .enumerate()
        {
            let index = start + offset;
            let label = examples.label_values(index)?;
            evaluation
                .accuracy
                .add(accuracy_counts(background, ventricle, &label));
            evaluation.dice.add(dice_counts(mask, &label));
            evaluation.images += 1;
            each(index, mask);
        }
        start += predictions.masks.len().max(1);
    }
    Ok(evaluation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::model::{Architecture, ModelKind, SimpleConfig};

    #[test]
    fn evaluation_counts_every_pixel_of_every_image() {
        // A 2x2 `simple` network with all-zero weights predicts all-background
        // with tied logits: every pixel counts as correct for accuracy (ties),
        // and Dice has no predicted LV pixel.
        let config = SimpleConfig {
            image_size: 2,
            hidden: 3,
        };
        let mut model =
            Model::with_architecture(ModelKind::Simple, Architecture::Simple(config), Device::Cpu);
        model
            .import_tf("Hidden1/W_fc", &[4, 3], &[0.0; 12])
            .unwrap();
        model.import_tf("Final/W_fc2", &[3, 8], &[0.0; 24]).unwrap();
        let images = [vec![0.5f32; 4], vec![0.1; 4], vec![0.2; 4]];
        let labels = [vec![0u8, 1, 1, 0], vec![0; 4], vec![1, 0, 0, 0]];
        let examples = Examples::from_pairs(
            images
                .iter()
                .zip(&labels)
                .map(|(i, l)| (i.as_slice(), l.as_slice())),
            2,
            Device::Cpu,
            "test",
        )
        .unwrap();
        let mut seen = Vec::new();
        let evaluation = evaluate(&model, &examples, 2, |index, mask| {
            seen.push((index, mask.to_vec()))
        })
        .unwrap();
        assert_eq!(evaluation.images, 3);
        assert_eq!(
            evaluation.accuracy,
            AccuracyCounts {
                correct: 12,
                total: 12
            }
        );
        assert_eq!(
            evaluation.dice,
            DiceCounts {
                intersection: 0,
                label: 3,
                predicted: 0
            }
        );
        assert_eq!(evaluation.value(MetricKind::Dice), 0.0);
        assert_eq!(
            seen,
            vec![(0, vec![0; 4]), (1, vec![0; 4]), (2, vec![0; 4])]
        );
    }
}
