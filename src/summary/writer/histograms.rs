//! Histograms of any number type, in TensorFlow's buckets or others.

use super::SummaryWriter;
use crate::summary::histogram::{bucket_values, Bins};
use crate::summary::inputs::{Scalar, Step};
use crate::summary::values;
use crate::summary::SummaryError;

impl SummaryWriter {
    /// Logs a histogram of `values`, of any number type, in TensorFlow's
    /// default exponential buckets, as PyTorch's `add_histogram` does by
    /// default (see [`Bins::TensorFlow`];
    /// [`SummaryWriter::add_histogram_with_bins`] takes other bins).
    ///
    /// Returns how many values were left out: NaN and ±inf, which
    /// TensorBoard cannot chart (PyTorch raises an error for them, and
    /// TensorFlow would write NaN edges). A non-zero count is worth a look
    /// (a diverging model); the rest of the values are logged either way.
    ///
    /// ```
    /// # use tbseg::summary::SummaryWriter;
    /// # let writer = SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// writer.add_histogram("weights", &[0.1f32, -0.2, 0.05], 1)?;
    /// writer.add_histogram("labels", &[0u8, 1, 1, 3], 1)?;
    /// let left_out = writer.add_histogram("grads", &[1e-3f64, f64::NAN], 1)?;
    /// assert_eq!(left_out, 1);
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn add_histogram<T: Scalar>(
        &self,
        tag: &str,
        values: &[T],
        step: impl Into<Step>,
    ) -> Result<usize, SummaryError> {
        self.add_histogram_with_bins(tag, values, Bins::TensorFlow, step)
    }

    /// Like [`SummaryWriter::add_histogram`] with the buckets of `bins`:
    /// TensorFlow's default ones, `n` equal-width buckets (what
    /// `tf.summary.histogram` makes; tbseg's default before 1.0 was 30),
    /// or explicit edges (PyTorch's `bins=` array). Returns how many values
    /// were left out: NaN, ±inf, and for explicit edges the values outside
    /// them. Bad bins (`Equal(0)`, fewer than two edges, edges not
    /// finite or not increasing) are an [`SummaryError::InvalidArgument`]
    /// and nothing is written.
    ///
    /// ```
    /// use tbseg::reader::Logdir;
    /// use tbseg::summary::{Bins, SummaryWriter};
    /// # let dir = std::env::temp_dir().join(format!("tbseg-doc-histogram-bins-{}", std::process::id()));
    /// let writer = SummaryWriter::new(&dir)?;
    /// let scores = [0.1f32, 0.4, 0.45, 0.9, 2.0];
    /// let left_out = writer.add_histogram_with_bins("scores", &scores, Bins::Edges(&[0.0, 0.5, 1.0]), 1)?;
    /// assert_eq!(left_out, 1); // 2.0 is beyond the last edge
    /// writer.add_histogram_with_bins("classes", &[0u8, 1, 1, 3], Bins::Equal(3), 1)?;
    /// assert!(writer.add_histogram_with_bins("bad", &scores, Bins::Equal(0), 1).is_err());
    /// writer.close()?;
    /// let run = &Logdir::scan(&dir)?.runs["."];
    /// let counts = |tag| -> Result<Vec<f64>, Box<dyn std::error::Error>> {
    ///     Ok(run.histograms(tag)?[0].value.buckets.iter().map(|b| b.count).collect())
    /// };
    /// assert_eq!(counts("scores")?, [3.0, 1.0]);
    /// assert_eq!(counts("classes")?.len(), 3);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_histogram_with_bins<T: Scalar>(
        &self,
        tag: &str,
        values: &[T],
        bins: Bins<'_>,
        step: impl Into<Step>,
    ) -> Result<usize, SummaryError> {
        let buckets =
            bucket_values(values.iter().map(|&v| v.to_f64()), bins).map_err(|(what, reason)| {
                SummaryError::InvalidArgument {
                    tag: tag.to_owned(),
                    what,
                    reason,
                }
            })?;
        self.add_value(values::histogram(tag, &buckets.rows), step)?;
        Ok(buckets.left_out)
    }
}
