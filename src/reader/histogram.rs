//! Histograms read back as buckets, from TensorBoard's `[k, 3]` tensor
//! (what tbseg and `tf.summary.histogram` write) or from the legacy
//! `HistogramProto` (what torch's `add_histogram` writes).

use crate::proto::tensorflow::{HistogramProto, TensorProto};

use super::tensor::{self, TensorError};

/// One bucket of a [`Histogram`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// The bucket's left edge.
    pub left: f64,
    /// The bucket's right edge.
    pub right: f64,
    /// How many values fell into it (a float: TensorBoard's tensors and
    /// the legacy proto both store counts as floats).
    pub count: f64,
}

/// A logged histogram: its buckets, left to right.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Histogram {
    /// The buckets, in the order logged.
    pub buckets: Vec<Bucket>,
}

impl Histogram {
    /// The number of values counted, the sum of the bucket counts.
    pub fn count(&self) -> f64 {
        self.buckets.iter().map(|b| b.count).sum()
    }

    /// The leftmost edge of a non-empty bucket; `None` when no bucket holds
    /// a value.
    pub fn min(&self) -> Option<f64> {
        self.buckets.iter().find(|b| b.count > 0.0).map(|b| b.left)
    }

    /// The rightmost edge of a non-empty bucket; `None` when no bucket
    /// holds a value.
    pub fn max(&self) -> Option<f64> {
        self.buckets
            .iter()
            .rfind(|b| b.count > 0.0)
            .map(|b| b.right)
    }
}

/// The buckets of a `[k, 3]` tensor of rows `[left, right, count]`.
pub(crate) fn from_tensor(tensor: &TensorProto) -> Result<Histogram, TensorError> {
    let shape = tensor::shape(tensor)?;
    if !matches!(shape.as_slice(), [_, 3]) {
        return tensor::error(format!(
            "a histogram tensor of shape {shape:?}, expected [k, 3]"
        ));
    }
    let numbers = tensor::numbers(tensor)?;
    let buckets = numbers
        .chunks_exact(3)
        .map(|row| Bucket {
            left: row[0],
            right: row[1],
            count: row[2],
        })
        .collect();
    Ok(Histogram { buckets })
}

/// The buckets of a legacy `HistogramProto`, converted the way
/// TensorBoard's `data_compat` converts them: bucket `i` spans from the
/// previous limit (`min` for the first) to its own limit (`max` for the
/// last).
pub(crate) fn from_legacy(histo: &HistogramProto) -> Result<Histogram, TensorError> {
    let (limits, counts) = (&histo.bucket_limit, &histo.bucket);
    if limits.len() != counts.len() {
        return tensor::error(format!(
            "{} bucket limits but {} bucket counts",
            limits.len(),
            counts.len()
        ));
    }
    let k = counts.len();
    let buckets = (0..k)
        .map(|i| Bucket {
            left: if i == 0 { histo.min } else { limits[i - 1] },
            right: if i + 1 == k { histo.max } else { limits[i] },
            count: counts[i],
        })
        .collect();
    Ok(Histogram { buckets })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_buckets_as_tensorboard_converts_them() {
        let histo = HistogramProto {
            min: -1.0,
            max: 2.5,
            num: 6.0,
            bucket_limit: vec![0.0, 1.0, f64::MAX],
            bucket: vec![1.0, 2.0, 3.0],
            ..Default::default()
        };
        let h = from_legacy(&histo).unwrap();
        let rows: Vec<_> = h
            .buckets
            .iter()
            .map(|b| [b.left, b.right, b.count])
            .collect();
        assert_eq!(rows, [[-1.0, 0.0, 1.0], [0.0, 1.0, 2.0], [1.0, 2.5, 3.0]]);
        assert_eq!((h.count(), h.min(), h.max()), (6.0, Some(-1.0), Some(2.5)));
        let bad = HistogramProto {
            bucket: vec![1.0],
            ..Default::default()
        };
        assert_eq!(
            from_legacy(&bad).unwrap_err().0,
            "0 bucket limits but 1 bucket counts"
        );
    }
}
