//! Precision-recall curves computed as TensorBoard's `pr_curve` plugin does.

use super::inputs::Scalar;

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

/// A label of a PR curve: `bool`, or a number in `[0, 1]` (any integer or
/// float type, or a reference to one). As in PyTorch's and TensorBoard's
/// `pr_curve`, a label `y` counts `y` as a positive and `1 - y` as a
/// negative, so 0/1 labels are the usual binary ones and fractions are
/// soft labels.
pub trait PrLabel: Copy {
    /// The label as the positive share in `[0, 1]` (NaN or outside that
    /// range is rejected by the caller).
    fn positive_share(self) -> f64;
}

impl PrLabel for bool {
    fn positive_share(self) -> f64 {
        if self {
            1.0
        } else {
            0.0
        }
    }
}

impl<T: Scalar> PrLabel for T {
    fn positive_share(self) -> f64 {
        self.to_f64()
    }
}

/// Options of [`crate::summary::SummaryWriter::add_pr_curve_with`]: the
/// number of thresholds (by default [`DEFAULT_PR_THRESHOLDS`], 127, as in
/// PyTorch) and per-example weights (by default 1 each).
///
/// ```
/// use tbseg::summary::PrCurveOptions;
/// let options = PrCurveOptions::default()
///     .num_thresholds(201)
///     .weights(&[1.0f32, 0.5, 2.0]);
/// assert_eq!(options.thresholds(), 201);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PrCurveOptions {
    num_thresholds: u32,
    weights: Option<Vec<f64>>,
}

impl Default for PrCurveOptions {
    fn default() -> Self {
        PrCurveOptions {
            num_thresholds: DEFAULT_PR_THRESHOLDS,
            weights: None,
        }
    }
}

impl PrCurveOptions {
    /// The number of thresholds, 2 to [`MAX_PR_THRESHOLDS`]; 127 by
    /// default.
    pub fn num_thresholds(mut self, n: u32) -> Self {
        self.num_thresholds = n;
        self
    }

    /// A weight per example (finite and not negative; one per label):
    /// each example counts as `weight` examples. All 1 by default.
    pub fn weights<W: Scalar>(mut self, weights: &[W]) -> Self {
        self.weights = Some(weights.iter().map(|w| w.to_f64()).collect());
        self
    }

    /// The number of thresholds set.
    pub fn thresholds(&self) -> u32 {
        self.num_thresholds
    }

    /// The weights set, if any.
    pub(crate) fn weight_values(&self) -> Option<&[f64]> {
        self.weights.as_deref()
    }
}

/// Computes a PR curve from binary labels and predictions in `[0, 1]`,
/// exactly as `tensorboard.plugins.pr_curve.summary.pb` does (see
/// [`pr_curve_weighted`], of which this is the unweighted `bool`/`f32`
/// case).
pub fn pr_curve_counts(
    labels: &[bool],
    predictions: &[f32],
    num_thresholds: u32,
) -> Result<PrCurve, (&'static str, String)> {
    pr_curve_weighted(labels, predictions, None, num_thresholds)
}

/// Computes a PR curve from labels ([`PrLabel`]: `bool`, or numbers in
/// `[0, 1]`), predictions of any number type in `[0, 1]` and optional
/// weights, exactly as `tensorboard.plugins.pr_curve.summary.pb` and
/// PyTorch's `add_pr_curve` do:
///
/// 1. each prediction falls into bucket `floor(p * (n - 1))`, computed in
///    the prediction's precision (`f32` for `f32` predictions, as numpy
///    does for a float32 array; `f64` for `f64`); predictions outside
///    `[0, 1]` and NaN fall outside every bucket and are ignored, as
///    `np.histogram` ignores them;
/// 2. an example adds `label · weight` to its bucket's positives and
///    `(1 - label) · weight` to its negatives; TP/FP at threshold `i`
///    count the positives/negatives in buckets `≥ i` (a reverse
///    cumulative sum); TN = FP\[0\] − FP, FN = TP\[0\] − TP;
/// 3. precision and recall divide by `max(1e-7, denominator)`, in f64, and
///    everything is stored as f32.
///
/// `labels`, `predictions` and `weights` must have the same length,
/// labels lie in `[0, 1]`, weights are finite and not negative, and
/// `2 ≤ num_thresholds ≤` [`MAX_PR_THRESHOLDS`]; the error names the
/// argument that is wrong and why.
pub fn pr_curve_weighted<L: PrLabel, P: Scalar>(
    labels: &[L],
    predictions: &[P],
    weights: Option<&[f64]>,
    num_thresholds: u32,
) -> Result<PrCurve, (&'static str, String)> {
    if labels.len() != predictions.len() {
        return Err((
            "labels",
            format!(
                "{} labels but {} predictions, expected one label per prediction",
                labels.len(),
                predictions.len()
            ),
        ));
    }
    if let Some(weights) = weights {
        if weights.len() != labels.len() {
            return Err((
                "weights",
                format!(
                    "{} weights but {} labels, expected one weight per label",
                    weights.len(),
                    labels.len()
                ),
            ));
        }
        if let Some(i) = weights.iter().position(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err((
                "weights",
                format!(
                    "weight {i} is {}, expected a finite number >= 0",
                    weights[i]
                ),
            ));
        }
    }
    if !(2..=MAX_PR_THRESHOLDS).contains(&num_thresholds) {
        return Err((
            "num_thresholds",
            format!("{num_thresholds} is outside 2..={MAX_PR_THRESHOLDS}"),
        ));
    }
    let n = num_thresholds as usize;
    let mut tp_buckets = vec![0f64; n];
    let mut fp_buckets = vec![0f64; n];
    for (i, (&label, &p)) in labels.iter().zip(predictions).enumerate() {
        let share = label.positive_share();
        // A range check that also rejects NaN.
        if !(0.0..=1.0).contains(&share) {
            return Err((
                "labels",
                format!("label {i} is {share}, expected a bool or a number in [0, 1]"),
            ));
        }
        let Some(index) = bucket(p, num_thresholds) else {
            continue;
        };
        let weight = weights.map_or(1.0, |w| w[i]);
        tp_buckets[index] += share * weight;
        fp_buckets[index] += (1.0 - share) * weight;
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

/// The bucket `floor(p * (n - 1))` of prediction `p`, in `p`'s precision;
/// `None` outside `[0, 1]` and for NaN.
fn bucket<P: Scalar>(p: P, num_thresholds: u32) -> Option<usize> {
    let index = if !P::EXACT_IN_F32 {
        let scale = f64::from(num_thresholds - 1);
        let index = (p.to_f64() * scale).floor();
        (0.0..=scale).contains(&index).then_some(index)
    } else {
        let scale = (num_thresholds - 1) as f32;
        let index = (p.to_f32() * scale).floor();
        (0.0..=scale).contains(&index).then_some(f64::from(index))
    };
    index.map(|i| i as usize)
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
            pr_curve_weighted(&[2u8], &[0.5f32], None, 3).unwrap_err(),
            (
                "labels",
                "label 0 is 2, expected a bool or a number in [0, 1]".to_owned()
            )
        );
        assert_eq!(
            pr_curve_weighted(&[1u8], &[0.5f32], Some(&[]), 3)
                .unwrap_err()
                .0,
            "weights"
        );
        assert_eq!(
            pr_curve_weighted(&[1u8, 0], &[0.5f32, 0.1], Some(&[1.0, -1.0]), 3).unwrap_err(),
            (
                "weights",
                "weight 1 is -1, expected a finite number >= 0".to_owned()
            )
        );
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

    #[test]
    fn numeric_labels_and_predictions_match_bools_and_f32() {
        let labels = [true, true, false, false, true];
        let predictions = [0.1f32, 0.6, 0.4, 0.9, 1.0];
        let want = pr_curve_counts(&labels, &predictions, 3).unwrap();
        let int_labels = [1u8, 1, 0, 0, 1];
        let f64_predictions: Vec<f64> = predictions.iter().map(|&p| f64::from(p)).collect();
        assert_eq!(
            pr_curve_weighted(&int_labels, &f64_predictions, None, 3).unwrap(),
            want
        );
        let float_labels = [1.0f32, 1.0, 0.0, 0.0, 1.0];
        assert_eq!(
            pr_curve_weighted(&float_labels, &predictions, Some(&[1.0; 5]), 3).unwrap(),
            want
        );
        // Integer predictions: 0 and 1 are the extreme buckets.
        let c = pr_curve_weighted(&[true, false], &[1u32, 0], None, 3).unwrap();
        assert_eq!(c.true_positives, [1.0, 1.0, 1.0]);
        assert_eq!(c.false_positives, [1.0, 0.0, 0.0]);
    }

    #[test]
    fn predictions_are_bucketed_in_their_own_precision() {
        // 0.145 * 200 is 29.0 in f32 but 28.999999999999996 in f64, as
        // numpy computes it for float32 and float64 arrays: bucket 29 vs 28.
        let f32_curve = pr_curve_weighted(&[true], &[0.145f32], None, 201).unwrap();
        let f64_curve = pr_curve_weighted(&[true], &[0.145f64], None, 201).unwrap();
        assert_eq!(f32_curve.true_positives[29], 1.0);
        assert_eq!(f64_curve.true_positives[29], 0.0);
        assert_eq!(f64_curve.true_positives[28], 1.0);
    }

    #[test]
    fn weights_scale_each_example_as_torch_does() {
        // torch: tp_buckets = histogram(bucket, weights=labels * w),
        // fp_buckets = histogram(bucket, weights=(1 - labels) * w).
        let labels = [1.0f64, 0.0, 0.25];
        let predictions = [0.9f32, 0.9, 0.1];
        let weights = [2.0, 3.0, 4.0];
        let c = pr_curve_weighted(&labels, &predictions, Some(&weights), 3).unwrap();
        // Bucket 0 (p=0.1): tp 0.25*4 = 1, fp 0.75*4 = 3; bucket 1 (p=0.9):
        // tp 2, fp 3; bucket 2 empty.
        assert_eq!(c.true_positives, [3.0, 2.0, 0.0]);
        assert_eq!(c.false_positives, [6.0, 3.0, 0.0]);
        assert_eq!(c.true_negatives, [0.0, 3.0, 6.0]);
        assert_eq!(c.false_negatives, [0.0, 1.0, 3.0]);
        assert_eq!(c.precision, [1.0 / 3.0, 0.4, 0.0]);
        assert_eq!(c.recall, [1.0, 2.0 / 3.0, 0.0]);
    }

    #[test]
    fn options_default_to_127_thresholds_and_no_weights() {
        let options = PrCurveOptions::default();
        assert_eq!(options.thresholds(), 127);
        assert_eq!(options.weights, None);
        let options = options.weights(&[1u8, 2]);
        assert_eq!(options.weights, Some(vec![1.0, 2.0]));
    }
}
