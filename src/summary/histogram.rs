//! Histogram bucketing as TensorBoard's `tf.summary.histogram` (v2) does it.

/// Number of equal-width buckets, TensorBoard's `DEFAULT_BUCKET_COUNT`.
pub const HISTOGRAM_BUCKETS: usize = 30;

/// Buckets `values` into [`HISTOGRAM_BUCKETS`] rows of
/// `[left_edge, right_edge, count]`, the layout of TensorBoard's v2
/// histogram tensor.
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
    let mut min = f64::INFINITY;
    let mut max = f64::NEG_INFINITY;
    let mut finite = 0u64;
    for v in values.clone().into_iter().filter(|v| v.is_finite()) {
        min = min.min(v);
        max = max.max(v);
        finite += 1;
    }
    let k = HISTOGRAM_BUCKETS;
    if finite == 0 {
        return vec![[0.0; 3]; k];
    }
    let range = max - min;
    if range == 0.0 {
        let mut rows = vec![[max, max, 0.0]; k];
        rows[k - 1][2] = finite as f64;
        return rows;
    }
    let width = range / k as f64;
    let mut counts = vec![0u64; k];
    for v in values.into_iter().filter(|v| v.is_finite()) {
        let index = ((v - min) / width).floor() as usize;
        counts[index.min(k - 1)] += 1;
    }
    (0..k)
        .map(|i| {
            let left = min + i as f64 * width;
            let right = if i + 1 == k {
                max
            } else {
                min + (i + 1) as f64 * width
            };
            [left, right, counts[i] as f64]
        })
        .collect()
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
}
