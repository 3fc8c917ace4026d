//! The lab's evaluation metrics as pure functions on per-pixel values.
//!
//! Both metrics are accumulated over the whole validation file before the
//! ratio is taken, exactly as the lab's `runEval.py` did.

/// Pixel accuracy counts (the lab's "precision").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccuracyCounts {
    /// Pixels whose true class is among the top-1 logits.
    pub correct: u64,
    /// Pixels seen.
    pub total: u64,
}

impl AccuracyCounts {
    /// Adds another image's counts.
    pub fn add(&mut self, other: AccuracyCounts) {
        self.correct += other.correct;
        self.total += other.total;
    }

    /// `correct / total`; NaN when no pixel was seen.
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.total as f64
    }
}

/// Dice counts of the LV class (the lab's `evaluation()` triple).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiceCounts {
    /// Pixels that are LV in both the label and the prediction.
    pub intersection: u64,
    /// LV pixels in the labels.
    pub label: u64,
    /// LV pixels in the predictions.
    pub predicted: u64,
}

impl DiceCounts {
    /// Adds another image's counts.
    pub fn add(&mut self, other: DiceCounts) {
        self.intersection += other.intersection;
        self.label += other.label;
        self.predicted += other.predicted;
    }

    /// `2·ΣI / (ΣL + ΣP)`. Like the lab there is no smoothing: with no LV
    /// pixel in either the labels or the predictions the result is NaN.
    pub fn dice(&self) -> f64 {
        2.0 * self.intersection as f64 / (self.label + self.predicted) as f64
    }
}

/// Counts pixels where the logit of the true class is the largest, ties
/// counting as correct (`tf.nn.in_top_k(logits, labels, 1)`).
/// `background` and `ventricle` are the two logits per pixel; `labels` are
/// class ids 0/1 (anything non-zero counts as LV).
pub fn accuracy_counts(background: &[f32], ventricle: &[f32], labels: &[u8]) -> AccuracyCounts {
    let correct = background
        .iter()
        .zip(ventricle)
        .zip(labels)
        .filter(|((&bg, &lv), &label)| if label == 0 { bg >= lv } else { lv >= bg })
        .count();
    AccuracyCounts {
        correct: correct as u64,
        total: labels.len().min(background.len()) as u64,
    }
}

/// The predicted class per pixel: 1 where the LV logit is strictly larger,
/// so ties go to background like `tf.nn.top_k` (lower index first).
pub fn predicted_classes(background: &[f32], ventricle: &[f32]) -> Vec<u8> {
    background
        .iter()
        .zip(ventricle)
        .map(|(&bg, &lv)| u8::from(lv > bg))
        .collect()
}

/// Dice counts of predicted classes against labels (both 0/1 per pixel).
pub fn dice_counts(predicted: &[u8], labels: &[u8]) -> DiceCounts {
    let mut counts = DiceCounts::default();
    for (&p, &l) in predicted.iter().zip(labels) {
        let (p, l) = (p != 0, l != 0);
        counts.intersection += u64::from(p && l);
        counts.label += u64::from(l);
        counts.predicted += u64::from(p);
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_counts_ties_as_correct() {
        let background = [1.0, 0.0, 0.5, 0.5, 2.0, -1.0];
        let ventricle = [0.0, 1.0, 0.5, 0.5, 1.0, 3.0];
        let labels = [0, 1, 0, 1, 1, 0];
        // Correct: pixel 0 (bg wins), 1 (lv wins), 2 and 3 (ties); wrong: 4, 5.
        let counts = accuracy_counts(&background, &ventricle, &labels);
        assert_eq!(
            counts,
            AccuracyCounts {
                correct: 4,
                total: 6
            }
        );
        assert!((counts.accuracy() - 4.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn ties_predict_background() {
        assert_eq!(
            predicted_classes(&[0.0, 1.0, 0.5], &[1.0, 0.0, 0.5]),
            vec![1, 0, 0]
        );
    }

    #[test]
    fn dice_of_known_masks() {
        // 4x4 label: a 2x2 square; prediction: a 2x3 block overlapping 2 pixels.
        #[rustfmt::skip]
        let label = [
            0, 0, 0, 0,
            0, 1, 1, 0,
            0, 1, 1, 0,
            0, 0, 0, 0u8,
        ];
        #[rustfmt::skip]
        let predicted = [
            0, 0, 0, 0,
            0, 0, 0, 0,
            0, 1, 1, 1,
            0, 1, 1, 1u8,
        ];
        let counts = dice_counts(&predicted, &label);
        assert_eq!(
            counts,
            DiceCounts {
                intersection: 2,
                label: 4,
                predicted: 6
            }
        );
        assert!((counts.dice() - 0.4).abs() < 1e-12);
        assert_eq!(dice_counts(&label, &label).dice(), 1.0);
        assert_eq!(dice_counts(&[0; 16], &label).dice(), 0.0);
        assert!(dice_counts(&[0; 4], &[0; 4]).dice().is_nan());
    }

    #[test]
    fn dice_is_dataset_level_not_a_mean_of_images() {
        let mut total = DiceCounts::default();
        total.add(dice_counts(&[1, 1, 1, 1], &[1, 1, 1, 1])); // image Dice 1
        total.add(dice_counts(&[0, 0, 0, 0], &[1, 0, 0, 0])); // image Dice 0
                                                              // Micro: 2·4 / (5 + 4) = 0.888…, not the mean 0.5.
        assert!((total.dice() - 8.0 / 9.0).abs() < 1e-12);
    }
}
