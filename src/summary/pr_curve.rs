//! Precision-recall curves computed as TensorBoard's `pr_curve` plugin does.

/// Default number of thresholds (torch's and tensorboardX's limit; TF's own
/// `pr_curve.pb` defaults to 201).
pub const DEFAULT_PR_THRESHOLDS: u32 = 127;

/// Largest accepted number of thresholds. The tensor is
/// `6 × num_thresholds` floats, so this keeps one summary under 25 KiB.
pub const MAX_PR_THRESHOLDS: u32 = 1024;

/// The guard against dividing by zero in precision and recall
/// (`_MINIMUM_COUNT` in `tensorboard/plugins/pr_curve/summary.py`).
const MINIMUM_COUNT: f64 = 1e-7;

/// The six rows of a PR-curve summary, one column per threshold
/// `i / (num_thresholds - 1)`.
#[derive(Debug, Clone, PartialEq)]
pub struct PrCurve {
    /// Number of thresholds (columns).
    pub num_thresholds: u32,
    /// True positives at each threshold.
    pub true_positives: Vec<f32>,
    /// False positives at each threshold.
    pub false_positives: Vec<f32>,
    /// True negatives at each threshold.
    pub true_negatives: Vec<f32>,
    /// False negatives at each threshold.
    pub false_negatives: Vec<f32>,
    /// `tp / max(1e-7, tp + fp)`.
    pub precision: Vec<f32>,
    /// `tp / max(1e-7, tp + fn)`.
    pub recall: Vec<f32>,
}

impl PrCurve {
    /// The rows in the order of the summary tensor: TP, FP, TN, FN,
    /// precision, recall.
    pub fn rows(&self) -> [&[f32]; 6] {
        [
            &self.true_positives,
            &self.false_positives,
            &self.true_negatives,
            &self.false_negatives,
            &self.precision,
            &self.recall,
        ]
    }
}

/// Computes a PR curve from binary labels and predictions in `[0, 1]`,
/// exactly as `tensorboard.plugins.pr_curve.summary.pb` does:
///
/// 1. each prediction falls into bucket `floor(p * (n - 1))` (in f32, as
///    numpy does for a float32 array); predictions outside `[0, 1]` and NaN
///    fall outside every bucket and are ignored, as `np.histogram` ignores
///    them;
/// 2. TP/FP at threshold `i` count the positives/negatives in buckets `≥ i`
///    (a reverse cumulative sum); TN = FP\[0\] − FP, FN = TP\[0\] − TP;
/// 3. precision and recall divide by `max(1e-7, denominator)`, in f64, and
///    everything is stored as f32.
///
/// `labels` and `predictions` must have the same length and
/// `2 ≤ num_thresholds ≤` [`MAX_PR_THRESHOLDS`]; the error says which
/// argument is wrong.
pub fn pr_curve_counts(
    labels: &[bool],
    predictions: &[f32],
    num_thresholds: u32,
) -> Result<PrCurve, (&'static str, String)> {
    if labels.len() != predictions.len() {
        return Err((
            "labels",
            format!(
                "{} labels but {} predictions",
                labels.len(),
                predictions.len()
            ),
        ));
    }
    if !(2..=MAX_PR_THRESHOLDS).contains(&num_thresholds) {
        return Err((
            "num_thresholds",
            format!("{num_thresholds} is outside 2..={MAX_PR_THRESHOLDS}"),
        ));
    }
    let n = num_thresholds as usize;
    let scale = (num_thresholds - 1) as f32;
    let mut tp_buckets = vec![0f64; n];
    let mut fp_buckets = vec![0f64; n];
    for (&label, &p) in labels.iter().zip(predictions) {
        let index = (p * scale).floor();
        // A range check that also rejects NaN.
        if !(0.0..=scale).contains(&index) {
            continue;
        }
        if label {
            tp_buckets[index as usize] += 1.0;
        } else {
            fp_buckets[index as usize] += 1.0;
        }
    }
    let reverse_cumsum = |buckets: &[f64]| {
        let mut sums = vec![0f64; buckets.len()];
        let mut acc = 0.0;
        for i in (0..buckets.len()).rev() {
            acc += buckets[i];
            sums[i] = acc;
        }
        sums
    };
    let tp = reverse_cumsum(&tp_buckets);
    let fp = reverse_cumsum(&fp_buckets);
    let tn: Vec<f64> = fp.iter().map(|f| fp[0] - f).collect();
    let fn_: Vec<f64> = tp.iter().map(|t| tp[0] - t).collect();
    let precision = (0..n).map(|i| tp[i] / MINIMUM_COUNT.max(tp[i] + fp[i]));
    let recall = (0..n).map(|i| tp[i] / MINIMUM_COUNT.max(tp[i] + fn_[i]));
    let to_f32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
    Ok(PrCurve {
        num_thresholds,
        true_positives: to_f32(&tp),
        false_positives: to_f32(&fp),
        true_negatives: to_f32(&tn),
        false_negatives: to_f32(&fn_),
        precision: precision.map(|x| x as f32).collect(),
        recall: recall.map(|x| x as f32).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_three_thresholds() {
        // Thresholds 0, 0.5, 1. Buckets: floor(p * 2).
        // p=0.1 (pos) -> 0, p=0.6 (pos) -> 1, p=0.4 (neg) -> 0,
        // p=0.9 (neg) -> 1, p=1.0 (pos) -> 2.
        let labels = [true, true, false, false, true];
        let predictions = [0.1, 0.6, 0.4, 0.9, 1.0];
        let curve = pr_curve_counts(&labels, &predictions, 3).unwrap();
        assert_eq!(curve.true_positives, [3.0, 2.0, 1.0]);
        assert_eq!(curve.false_positives, [2.0, 1.0, 0.0]);
        assert_eq!(curve.true_negatives, [0.0, 1.0, 2.0]);
        assert_eq!(curve.false_negatives, [0.0, 1.0, 2.0]);
        assert_eq!(curve.precision, [0.6, 2.0 / 3.0, 1.0]);
        assert_eq!(curve.recall, [1.0, 2.0 / 3.0, 1.0 / 3.0]);
    }

    #[test]
    fn out_of_range_predictions_are_ignored_and_zero_denominators_are_safe() {
        let labels = [true, false, false];
        let predictions = [f32::NAN, 1.5, -0.1];
        let curve = pr_curve_counts(&labels, &predictions, 4).unwrap();
        assert!(curve.rows().iter().all(|r| r.iter().all(|&x| x == 0.0)));
    }

    #[test]
    fn rejects_bad_arguments() {
        assert_eq!(pr_curve_counts(&[true], &[], 3).unwrap_err().0, "labels");
        assert_eq!(
            pr_curve_counts(&[], &[], 1).unwrap_err().0,
            "num_thresholds"
        );
        assert_eq!(
            pr_curve_counts(&[], &[], MAX_PR_THRESHOLDS + 1)
                .unwrap_err()
                .0,
            "num_thresholds"
        );
    }
}
