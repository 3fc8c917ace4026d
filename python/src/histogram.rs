//! torch's `add_histogram` buckets, computed in Rust off the Python thread.
//!
//! torch (`torch.utils.tensorboard.summary.make_histogram`) counts the
//! samples with `np.histogram(values, bins=edges)`, merges buckets when
//! `max_bins` is given, and writes TensorFlow's old `HistogramProto`
//! (right bucket limits, counts, min and max). TensorBoard turns that into
//! rows `[left, right, count]` when it loads it
//! (`tensorboard.data_compat._migrate_histogram_value`): it drops the empty
//! buckets at both ends and uses the samples' minimum and maximum as the
//! outer edges. This module does both steps at once, so the histogram
//! tbseg writes in the tensor form is the one TensorBoard shows for
//! torch's.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::invalid;

/// numpy's `np.histogram(values, bins=edges)` counts: bucket `i` holds
/// the samples in `[edges[i], edges[i + 1])`, the last one also its right
/// edge; NaN and samples outside the edges are not counted.
fn counts(values: &[f64], edges: &[f64]) -> Vec<u64> {
    let buckets = edges.len() - 1;
    let mut counts = vec![0u64; buckets];
    let (first, last) = (edges[0], edges[buckets]);
    for &v in values {
        if !(v >= first && v <= last) {
            continue;
        }
        // The last edge <= v; v equal to the last edge goes to the last
        // bucket, as numpy's closed last bucket.
        let index = edges.partition_point(|&e| e <= v) - 1;
        counts[index.min(buckets - 1)] += 1;
    }
    counts
}

/// torch's `max_bins`: merges every `len / max_bins` neighbouring buckets
/// (the last group padded with empty ones), keeping the first edge of each
/// group and the last edge.
fn merge(counts: Vec<u64>, edges: Vec<f64>, max_bins: usize) -> (Vec<u64>, Vec<f64>) {
    let buckets = counts.len();
    if max_bins == 0 || buckets <= max_bins {
        return (counts, edges);
    }
    let group = buckets / max_bins;
    let merged: Vec<u64> = counts.chunks(group).map(|c| c.iter().sum()).collect();
    let mut limits: Vec<f64> = edges[..buckets].iter().step_by(group).copied().collect();
    limits.push(edges[buckets]);
    (merged, limits)
}

/// The rows `[left, right, count]` TensorBoard shows for torch's
/// histogram of `values` over `edges` (ascending, at least two), or why
/// there is none: no samples, or none inside the edges (torch's
/// `ValueError`s).
pub fn torch_buckets(
    values: &[f64],
    edges: &[f64],
    max_bins: Option<usize>,
) -> Result<Vec<[f64; 3]>, String> {
    if values.is_empty() {
        return Err("the input has no element".into());
    }
    if edges.len() < 2 {
        return Err(format!("{} bin edges, expected at least 2", edges.len()));
    }
    if edges
        .windows(2)
        .any(|w| w[0].partial_cmp(&w[1]).is_none_or(|o| o.is_gt()))
    {
        return Err("bin edges must increase monotonically".into());
    }
    let (counts, edges) = merge(counts(values, edges), edges.to_vec(), max_bins.unwrap_or(0));
    let Some(first) = counts.iter().position(|&c| c > 0) else {
        return Err("no sample lies inside the bin edges (the histogram is empty)".into());
    };
    let last = counts.iter().rposition(|&c| c > 0).unwrap_or(first);
    // numpy's min and max: NaN if any sample is NaN.
    let (min, max) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            if v.is_nan() || lo.is_nan() {
                (f64::NAN, f64::NAN)
            } else {
                (lo.min(v), hi.max(v))
            }
        });
    Ok((first..=last)
        .map(|k| {
            let left = if k == first { min } else { edges[k] };
            let right = if k == last { max } else { edges[k + 1] };
            [left, right, counts[k] as f64]
        })
        .collect())
}

/// `f64`s from native-endian bytes (the Python side passes
/// `numpy.ndarray.tobytes()` of a `float64` array).
pub fn f64s(bytes: &[u8]) -> Vec<f64> {
    bytes
        .chunks_exact(8)
        .map(|c| f64::from_ne_bytes(c.try_into().expect("8 bytes")))
        .collect()
}

/// `histogram_buckets(values, edges, max_bins)`: the rows of
/// [`torch_buckets`] as the bytes of a `float64` array of shape `[k, 3]`
/// (for the Python side's tests and `tbseg.histogram_buckets`).
#[pyfunction]
#[pyo3(signature = (values, edges, max_bins=None))]
pub fn histogram_buckets<'py>(
    py: Python<'py>,
    values: &[u8],
    edges: &[u8],
    max_bins: Option<usize>,
) -> PyResult<Bound<'py, PyBytes>> {
    let (values, edges) = (f64s(values), f64s(edges));
    let rows = py
        .allow_threads(|| torch_buckets(&values, &edges, max_bins))
        .map_err(|reason| invalid("histogram", "values", reason))?;
    let bytes: Vec<u8> = rows
        .iter()
        .flatten()
        .flat_map(|x| x.to_ne_bytes())
        .collect();
    Ok(PyBytes::new(py, &bytes))
}
