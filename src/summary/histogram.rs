//! Histogram bucketing: TensorFlow's default exponential buckets (what
//! PyTorch's `add_histogram` uses by default), equal-width buckets as
//! `tf.summary.histogram` (v2) makes them, or edges of the caller's choice.

use std::sync::OnceLock;

/// Number of equal-width buckets, TensorBoard's `DEFAULT_BUCKET_COUNT`
/// (the bucket count of [`histogram_buckets`]).
pub const HISTOGRAM_BUCKETS: usize = 30;

/// How [`crate::summary::SummaryWriter::add_histogram_with_bins`] splits
/// the values into buckets.
///
/// ```
/// use tbseg::summary::{Bins, SummaryWriter};
/// # let writer = SummaryWriter::with_writer(std::io::sink(), "sink")?;
/// let weights = [0.1f32, -0.2, 0.05, 0.3];
/// writer.add_histogram_with_bins("w/default", &weights, Bins::TensorFlow, 1)?;
/// writer.add_histogram_with_bins("w/equal", &weights, Bins::Equal(30), 1)?;
/// let edges = [-1.0, -0.1, 0.0, 0.1, 1.0];
/// writer.add_histogram_with_bins("w/edges", &weights, Bins::Edges(&edges), 1)?;
/// # Ok::<(), tbseg::summary::SummaryError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Bins<'a> {
    /// TensorFlow's default buckets, which PyTorch's `add_histogram` uses
    /// by default (`bins='tensorflow'`): edges at 0 and at ±1e-12 · 1.1^k
    /// up to 1e20 (see [`tensorflow_edges`]), fine near zero and coarse
    /// far from it, so the chart keeps its shape when the values shrink
    /// or grow by orders of magnitude. Only the buckets from the first to
    /// the last non-empty one are written, with the minimum and maximum
    /// as the outer edges (the form TensorBoard shows a PyTorch histogram
    /// in); values beyond ±1e20 join the outermost buckets, as in
    /// TensorFlow's own histograms. The default.
    #[default]
    TensorFlow,
    /// This many equal-width buckets between the minimum and the maximum,
    /// as `tf.summary.histogram` (v2) makes them (see
    /// [`histogram_buckets`], whose 30 buckets were tbseg's default before
    /// 1.0). At least 1.
    Equal(usize),
    /// Buckets between these edges: strictly increasing finite numbers,
    /// at least two. As in `numpy.histogram`, each bucket includes its
    /// left edge, the last one its right edge too, and values outside the
    /// edges are left out (and counted as such).
    Edges(&'a [f64]),
}

/// The edges of [`Bins::TensorFlow`]: `-1e20 < … < -1e-12 < 0 < 1e-12 <
/// … < 1e20`, 1549 of them, computed as PyTorch's `SummaryWriter` and
/// TensorBoard's `generate_testdata.py` do (repeated multiplication by
/// 1.1 from 1e-12 while below 1e20, so the values match theirs bit for
/// bit).
pub fn tensorflow_edges() -> &'static [f64] {
    static EDGES: OnceLock<Vec<f64>> = OnceLock::new();
    EDGES.get_or_init(|| {
        let mut positive = Vec::new();
        let mut v = 1e-12f64;
        while v < 1e20 {
            positive.push(v);
            v *= 1.1;
        }
        let mut edges: Vec<f64> = positive.iter().rev().map(|v| -v).collect();
        edges.push(0.0);
        edges.extend_from_slice(&positive);
        edges
    })
}

/// A bucketed histogram: rows `[left_edge, right_edge, count]` (the layout
/// of TensorBoard's v2 histogram tensor) and how many values were left
/// out.
#[derive(Debug, Clone, PartialEq)]
pub struct Buckets {
    /// `[left_edge, right_edge, count]` per bucket, in increasing order.
    pub rows: Vec<[f64; 3]>,
    /// Values in no bucket: NaN and ±inf (TensorBoard cannot chart them),
    /// and with [`Bins::Edges`] the values outside the edges.
    pub left_out: usize,
}

/// Buckets `values` as `bins` says. The error names the argument that is
/// wrong (`"bins"`) and why: `Equal(0)`, or edges that are fewer than two,
/// not finite or not strictly increasing.
///
/// With no value to count, [`Bins::Equal`]`(k)` gives `k` all-zero rows
/// (as `tf.summary.histogram` does) and the other bins no rows (as
/// TensorBoard shows an empty PyTorch histogram).
pub fn bucket_values(
    values: impl IntoIterator<Item = f64> + Clone,
    bins: Bins<'_>,
) -> Result<Buckets, (&'static str, String)> {
    match bins {
        Bins::Equal(0) => Err(("bins", "Equal(0): expected at least 1 bucket".into())),
        Bins::Equal(k) => Ok(equal_width(values, k)),
        Bins::TensorFlow => Ok(between_edges(values, tensorflow_edges(), true)),
        Bins::Edges(edges) => {
            check_edges(edges)?;
            Ok(between_edges(values, edges, false))
        }
    }
}

fn check_edges(edges: &[f64]) -> Result<(), (&'static str, String)> {
    if edges.len() < 2 {
        return Err((
            "bins",
            format!("{} edges, expected at least 2", edges.len()),
        ));
    }
    if let Some(bad) = edges.iter().position(|e| !e.is_finite()) {
        return Err((
            "bins",
            format!("edge {bad} is {}, expected a finite number", edges[bad]),
        ));
    }
    if let Some(i) = edges.windows(2).position(|w| w[0] >= w[1]) {
        return Err((
            "bins",
            format!(
                "edges {i} and {} are {} and {}, expected strictly increasing edges",
                i + 1,
                edges[i],
                edges[i + 1]
            ),
        ));
    }
    Ok(())
}

/// Counts values per bucket of `edges` (numpy's rule: `[e_i, e_i+1)`, the
/// last bucket closed) and keeps the span from the first to the last
/// non-empty bucket. With `open_ends`, values below the first or above
/// the last edge join the outermost buckets and the span's outer edges
/// become the minimum and maximum; without, they are left out.
fn between_edges(values: impl IntoIterator<Item = f64>, edges: &[f64], open_ends: bool) -> Buckets {
    let last = edges.len() - 2; // index of the last bucket
    let mut counts = vec![0u64; last + 1];
    let mut left_out = 0;
    let mut min = f64::INFINITY;
    let mut max = f64::NEG_INFINITY;
    for v in values {
        if !v.is_finite() {
            left_out += 1;
            continue;
        }
        let index = if v < edges[0] {
            open_ends.then_some(0)
        } else if v > edges[last + 1] {
            open_ends.then_some(last)
        } else {
            // The number of edges <= v, less one: v's bucket.
            Some((edges.partition_point(|&e| e <= v) - 1).min(last))
        };
        match index {
            Some(i) => {
                counts[i] += 1;
                min = min.min(v);
                max = max.max(v);
            }
            None => left_out += 1,
        }
    }
    let Some(start) = counts.iter().position(|&c| c > 0) else {
        return Buckets {
            rows: Vec::new(),
            left_out,
        };
    };
    let end = counts.iter().rposition(|&c| c > 0).unwrap_or(start);
    let rows = (start..=end)
        .map(|i| {
            let left = if open_ends && i == start {
                min
            } else {
                edges[i]
            };
            let right = if open_ends && i == end {
                max
            } else {
                edges[i + 1]
            };
            [left, right, counts[i] as f64]
        })
        .collect();
    Buckets { rows, left_out }
}

/// Buckets `values` into [`HISTOGRAM_BUCKETS`] rows of
/// `[left_edge, right_edge, count]`, the layout of TensorBoard's v2
/// histogram tensor ([`Bins::Equal`]`(30)`, without the count of values
/// left out; see [`bucket_values`]).
///
/// Same rules as `tensorboard/plugins/histogram/summary_v2.py`:
///
/// - the range `[min, max]` is split into 30 equal-width buckets; a value
///   lands in `floor((x - min) / width)`, and `max` itself in the last
///   bucket; the last right edge is exactly `max`;
/// - if all values are equal, every bucket is `[v, v]` and the last one
///   holds all the values (so the chart shows a single spike, never NaN);
/// - with no values, 30 all-zero rows.
///
/// Unlike TensorFlow, which would produce NaN edges, non-finite values
/// (NaN, ±inf) are skipped: the counts then sum to the number of finite
/// values.
pub fn histogram_buckets(values: impl IntoIterator<Item = f64> + Clone) -> Vec<[f64; 3]> {
    equal_width(values, HISTOGRAM_BUCKETS).rows
}

fn equal_width(values: impl IntoIterator<Item = f64> + Clone, k: usize) -> Buckets {
    let mut min = f64::INFINITY;
    let mut max = f64::NEG_INFINITY;
    let mut finite = 0u64;
    let mut left_out = 0;
    for v in values.clone() {
        if v.is_finite() {
            min = min.min(v);
            max = max.max(v);
            finite += 1;
        } else {
            left_out += 1;
        }
    }
    if finite == 0 {
        return Buckets {
            rows: vec![[0.0; 3]; k],
            left_out,
        };
    }
    let range = max - min;
    if range == 0.0 {
        let mut rows = vec![[max, max, 0.0]; k];
        rows[k - 1][2] = finite as f64;
        return Buckets { rows, left_out };
    }
    let width = range / k as f64;
    let mut counts = vec![0u64; k];
    for v in values.into_iter().filter(|v| v.is_finite()) {
        let index = ((v - min) / width).floor() as usize;
        counts[index.min(k - 1)] += 1;
    }
    let rows = (0..k)
        .map(|i| {
            let left = min + i as f64 * width;
            let right = if i + 1 == k {
                max
            } else {
                min + (i + 1) as f64 * width
            };
            [left, right, counts[i] as f64]
        })
        .collect();
    Buckets { rows, left_out }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(rows: &[[f64; 3]]) -> f64 {
        rows.iter().map(|r| r[2]).sum()
    }

    #[test]
    fn spreads_values_over_thirty_buckets() {
        let values: Vec<f64> = (0..=300).map(|i| i as f64 / 10.0).collect();
        let rows = histogram_buckets(values.iter().copied());
        assert_eq!(rows.len(), 30);
        assert_eq!(total(&rows), 301.0);
        assert_eq!(rows[0][0], 0.0);
        assert_eq!(rows[29][1], 30.0);
        for pair in rows.windows(2) {
            assert_eq!(pair[0][1], pair[1][0]);
        }
        // Bucket i covers [i, i+1): ten values each, and 30.0 joins the last.
        assert_eq!(rows[0][2], 10.0);
        assert_eq!(rows[29][2], 11.0);
    }

    #[test]
    fn equal_values_make_one_spike() {
        let rows = histogram_buckets([2.5f64; 7].iter().copied());
        assert_eq!(rows.len(), 30);
        assert!(rows.iter().all(|r| r[0] == 2.5 && r[1] == 2.5));
        assert_eq!(rows[29][2], 7.0);
        assert_eq!(total(&rows), 7.0);
    }

    #[test]
    fn empty_input_gives_zero_rows() {
        let rows = histogram_buckets(std::iter::empty());
        assert_eq!(rows, vec![[0.0; 3]; 30]);
    }

    #[test]
    fn non_finite_values_are_skipped() {
        let values = [f64::NAN, 1.0, f64::INFINITY, 3.0, f64::NEG_INFINITY];
        let rows = histogram_buckets(values.iter().copied());
        assert_eq!(total(&rows), 2.0);
        assert_eq!(rows[0], [1.0, 1.0 + 2.0 / 30.0, 1.0]);
        assert_eq!(rows[29][1], 3.0);
        assert_eq!(rows[29][2], 1.0);
        let only_nan = histogram_buckets([f64::NAN].iter().copied());
        assert_eq!(total(&only_nan), 0.0);
        assert!(only_nan.iter().flatten().all(|x| x.is_finite()));
    }

    #[test]
    fn one_value_is_a_spike() {
        let rows = histogram_buckets([-4.0f64].iter().copied());
        assert_eq!(rows[29], [-4.0, -4.0, 1.0]);
    }

    #[test]
    fn equal_bins_count_what_they_leave_out() {
        let b = bucket_values([1.0, f64::NAN, 2.0, f64::INFINITY], Bins::Equal(4)).unwrap();
        assert_eq!(b.rows.len(), 4);
        assert_eq!(b.left_out, 2);
        assert_eq!(b.rows[0], [1.0, 1.25, 1.0]);
        assert_eq!(b.rows[3], [1.75, 2.0, 1.0]);
    }

    #[test]
    fn tensorflow_edges_are_torchs() {
        let edges = tensorflow_edges();
        // 774 positive edges (1e-12 · 1.1^k < 1e20 for k = 0..=773), as
        // many negative ones, and zero.
        assert_eq!(edges.len(), 2 * 774 + 1);
        assert_eq!(edges[774], 0.0);
        assert_eq!(edges[775], 1e-12);
        assert_eq!(edges[773], -1e-12);
        assert_eq!(edges[776], 1e-12 * 1.1);
        assert!(*edges.last().unwrap() < 1e20 && edges.last().unwrap() * 1.1 >= 1e20);
        assert!(edges.windows(2).all(|w| w[0] < w[1]));
        assert!(edges.iter().zip(edges.iter().rev()).all(|(a, b)| *a == -b));
    }

    #[test]
    fn tensorflow_bins_keep_the_non_empty_span_with_min_and_max_outside() {
        let edges = tensorflow_edges();
        let values = [0.0, 0.5, 0.5, 2.0, f64::NAN, -f64::INFINITY];
        let b = bucket_values(values, Bins::TensorFlow).unwrap();
        assert_eq!(b.left_out, 2);
        assert_eq!(total(&b.rows), 4.0);
        // Zero falls in [0, 1e-12), the first row; its left edge is the
        // minimum (0) and the last row's right edge the maximum (2).
        assert_eq!(b.rows[0], [0.0, 1e-12, 1.0]);
        assert_eq!(b.rows.last().unwrap()[1], 2.0);
        assert_eq!(b.rows.last().unwrap()[2], 1.0);
        // Inner edges are TensorFlow's, contiguous, and each value sits
        // inside its row.
        for pair in b.rows.windows(2) {
            assert_eq!(pair[0][1], pair[1][0]);
            assert!(edges.contains(&pair[0][1]));
        }
        let half = b.rows.iter().find(|r| r[0] <= 0.5 && 0.5 < r[1]).unwrap();
        assert_eq!(half[2], 2.0);
        // The first and last rows are non-empty; the span is the one from
        // bucket [0, 1e-12) to the bucket of 2.0.
        let two = edges.partition_point(|&e| e <= 2.0) - 1;
        assert_eq!(b.rows.len(), two - 774 + 1);
    }

    #[test]
    fn tensorflow_bins_of_equal_values_and_of_huge_values() {
        let b = bucket_values([-3.0; 5], Bins::TensorFlow).unwrap();
        assert_eq!(b.rows, vec![[-3.0, -3.0, 5.0]]);
        // Beyond the last edge (about 1e20) values join the outermost
        // bucket, as in TensorFlow's histograms, instead of vanishing.
        let b = bucket_values([1e30, -1e300, 1.0], Bins::TensorFlow).unwrap();
        assert_eq!(b.left_out, 0);
        assert_eq!(total(&b.rows), 3.0);
        assert_eq!(b.rows[0][0], -1e300);
        assert_eq!(b.rows.last().unwrap()[1], 1e30);
        let empty = bucket_values([f64::NAN], Bins::TensorFlow).unwrap();
        assert_eq!((empty.rows.len(), empty.left_out), (0, 1));
    }

    #[test]
    fn explicit_edges_follow_numpy() {
        // numpy.histogram([0, 0.5, 1, 1, 2, 3, -1], bins=[0, 1, 2]) gives
        // counts [2, 3]: 2 sits in the closed last bucket, 3 and -1 are
        // outside.
        let edges = [0.0, 1.0, 2.0];
        let values = [0.0, 0.5, 1.0, 1.0, 2.0, 3.0, -1.0];
        let b = bucket_values(values, Bins::Edges(&edges)).unwrap();
        assert_eq!(b.rows, vec![[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]]);
        assert_eq!(b.left_out, 2);
        // Empty leading and trailing buckets are dropped, inner ones kept.
        let edges = [0.0, 1.0, 2.0, 3.0, 4.0];
        let b = bucket_values([1.5, 3.5], Bins::Edges(&edges)).unwrap();
        assert_eq!(
            b.rows,
            vec![[1.0, 2.0, 1.0], [2.0, 3.0, 0.0], [3.0, 4.0, 1.0]]
        );
    }

    #[test]
    fn bad_bins_name_the_problem() {
        let err = |bins| bucket_values([1.0], bins).unwrap_err();
        assert_eq!(
            err(Bins::Equal(0)),
            ("bins", "Equal(0): expected at least 1 bucket".into())
        );
        assert_eq!(err(Bins::Edges(&[1.0])).1, "1 edges, expected at least 2");
        assert_eq!(
            err(Bins::Edges(&[0.0, f64::NAN])).1,
            "edge 1 is NaN, expected a finite number"
        );
        assert_eq!(
            err(Bins::Edges(&[0.0, 2.0, 2.0])).1,
            "edges 1 and 2 are 2 and 2, expected strictly increasing edges"
        );
    }
}
