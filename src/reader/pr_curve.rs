//! Precision-recall curves read back from the `pr_curves` plugin's
//! `[6, n]` tensor (rows TP, FP, TN, FN, precision, recall), the form
//! tbseg, TensorBoard's `pr_curve` summary and torch's `add_pr_curve`
//! write.

use crate::proto::tensorflow::TensorProto;

use super::tensor::{self, TensorError};

/// A logged PR curve, one entry per threshold.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PrCurve {
    /// The thresholds `i / (n - 1)`, from 0 to 1, as the dashboard labels
    /// the columns.
    pub thresholds: Vec<f64>,
    /// True positives at each threshold.
    pub true_positives: Vec<f64>,
    /// False positives at each threshold.
    pub false_positives: Vec<f64>,
    /// True negatives at each threshold.
    pub true_negatives: Vec<f64>,
    /// False negatives at each threshold.
    pub false_negatives: Vec<f64>,
    /// Precision at each threshold.
    pub precision: Vec<f64>,
    /// Recall at each threshold.
    pub recall: Vec<f64>,
}

/// Reads a `[6, n]` tensor.
pub(crate) fn from_tensor(tensor: &TensorProto) -> Result<PrCurve, TensorError> {
    let shape = tensor::shape(tensor)?;
    let &[6, n] = shape.as_slice() else {
        return tensor::error(format!(
            "a PR curve tensor of shape {shape:?}, expected [6, thresholds]"
        ));
    };
    let numbers = tensor::numbers(tensor)?;
    let row = |i: usize| numbers[i * n..(i + 1) * n].to_vec();
    let thresholds = (0..n)
        .map(|i| {
            if n > 1 {
                i as f64 / (n - 1) as f64
            } else {
                0.0
            }
        })
        .collect();
    Ok(PrCurve {
        thresholds,
        true_positives: row(0),
        false_positives: row(1),
        true_negatives: row(2),
        false_negatives: row(3),
        precision: row(4),
        recall: row(5),
    })
}
