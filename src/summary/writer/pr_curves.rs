//! Precision-recall curves, computed as TensorBoard computes them.

use super::SummaryWriter;
use crate::summary::inputs::{Scalar, Step};
use crate::summary::pr_curve::{pr_curve_weighted, PrCurveOptions, PrLabel};
use crate::summary::values;
use crate::summary::SummaryError;

impl SummaryWriter {
    /// Logs a precision-recall curve over 127 thresholds (PyTorch's
    /// default, [`crate::summary::DEFAULT_PR_THRESHOLDS`]) from labels and predictions of
    /// any number type: labels `bool` or numbers in `[0, 1]` (see
    /// [`PrLabel`]), predictions in `[0, 1]` (others are ignored, as
    /// TensorBoard ignores them). TensorBoard's computation (see
    /// [`crate::summary::pr_curve_weighted`]);
    /// [`SummaryWriter::add_pr_curve_with`] takes weights and another
    /// threshold count.
    ///
    /// Labels and predictions of different lengths, or a label outside
    /// `[0, 1]`, are an [`SummaryError::InvalidArgument`] and nothing is
    /// written.
    ///
    /// ```
    /// # use tbseg::summary::SummaryWriter;
    /// # let writer = SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// writer.add_pr_curve("pr/lv", &[true, false, true], &[0.9f32, 0.4, 0.6], 1)?;
    /// writer.add_pr_curve("pr/class1", &[1u8, 0, 1], &[0.8f64, 0.1, 0.3], 1)?;
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn add_pr_curve<L: PrLabel, P: Scalar>(
        &self,
        tag: &str,
        labels: &[L],
        predictions: &[P],
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        self.add_pr_curve_with(tag, labels, predictions, &PrCurveOptions::default(), step)
    }

    /// Like [`SummaryWriter::add_pr_curve`], with the threshold count and
    /// per-example weights of `options` (PyTorch's `num_thresholds` and
    /// `weights`). Weights of another length than the labels, negative or
    /// not finite, and threshold counts outside 2 to
    /// [`crate::summary::MAX_PR_THRESHOLDS`] are an
    /// [`SummaryError::InvalidArgument`].
    ///
    /// ```
    /// # use tbseg::summary::{PrCurveOptions, SummaryWriter};
    /// # let writer = SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// let options = PrCurveOptions::default().num_thresholds(11).weights(&[1.0f32, 2.0, 0.5]);
    /// writer.add_pr_curve_with("pr", &[true, false, true], &[0.9f32, 0.4, 0.6], &options, 1)?;
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn add_pr_curve_with<L: PrLabel, P: Scalar>(
        &self,
        tag: &str,
        labels: &[L],
        predictions: &[P],
        options: &PrCurveOptions,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        let curve = pr_curve_weighted(
            labels,
            predictions,
            options.weight_values(),
            options.thresholds(),
        )
        .map_err(|(what, reason)| SummaryError::InvalidArgument {
            tag: tag.to_owned(),
            what,
            reason,
        })?;
        self.add_value(values::pr_curve(tag, &curve), step)
    }
}
