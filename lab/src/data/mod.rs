//! The lab's data: its TFRecord schema, a synthetic cardiac MRI generator
//! and the Sunnybrook converter. None of it needs libtorch.
//!
//! - [`LabSlice`] is one slice as stored (raw 16-bit-ish intensities as
//!   `i64`, a 0/1 label); [`LabImage`] is what the networks read (the raw
//!   value divided by 1024 as `f32`, the same label).
//! - [`write_lab_file`] and [`read_lab_file`] write and read the lab's
//!   `train_images.tfrecords` / `val_images.tfrecords` files.
//! - [`synth`] draws deterministic short-axis slices with an LV label, so
//!   the lab runs without the (non-redistributable) Sunnybrook data;
//!   [`synth_hard`] draws harder ones, from patients, measured against
//!   the lab's Sunnybrook figures ([`SynthStyle`] picks one);
//!   [`ensure_synthetic`] creates a train/val pair once.
//! - [`sunnybrook`] turns the real Sunnybrook DICOM + contour tree into the
//!   same two files.
//! - [`polygon`] is `cv2.fillPoly` reimplemented pixel for pixel, shared by
//!   the generator and the converter.

use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

use tbseg::example::FeatureError;
use tbseg::record::ReadRecordError;

pub mod dicom;
pub mod polygon;
mod schema;
pub mod sunnybrook;
pub mod synth;
pub mod synth_hard;

pub use schema::{
    decode_example, encode_example, lab_slices_from_bytes, read_lab_file, read_lab_slices,
    read_local_lab_slices, write_lab_file, LabImage, LabSlice,
};

/// Which synthetic generator draws the slices (`--style` of `tbseg data
/// synth`).
#[derive(Clone, Copy, Debug, Default, PartialEq, clap::ValueEnum)]
pub enum SynthStyle {
    /// The original generator: independent slices with a bright,
    /// well-separated LV (easier than real MRI).
    #[default]
    Classic,
    /// Patients sliced base to apex, RV and vessels as bright as the LV,
    /// trabeculation, strong bias, blur and noise (see `synth_hard`).
    Hard,
}

/// Slices `first .. first + count` of `seed` in `style`; `difficulty`
/// scales the hard style's noise, bias and blur (1 = the default level) and is
/// ignored by the classic one.
///
/// The slices come in order but are made a few at a time on every core:
/// each has its own seed, so they do not depend on how many threads made
/// them.
pub fn synthetic_slices(
    style: SynthStyle,
    seed: u64,
    count: usize,
    first: u64,
    difficulty: f64,
) -> impl Iterator<Item = LabSlice> {
    let make = move |index| match style {
        SynthStyle::Classic => synth::generate_slice(seed, index),
        SynthStyle::Hard => synth_hard::generate_slice(seed, index, difficulty),
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let batch = threads * 8;
    let end = first + count as u64;
    (first..end)
        .step_by(batch)
        .flat_map(move |start| in_parallel(start..end.min(start + batch as u64), threads, make))
}

/// `make(index)` for every index of `indices`, in order, split across
/// `threads` threads.
fn in_parallel<F>(indices: Range<u64>, threads: usize, make: F) -> Vec<LabSlice>
where
    F: Fn(u64) -> LabSlice + Copy + Send,
{
    let per_thread = (indices.end - indices.start)
        .div_ceil(threads.max(1) as u64)
        .max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = indices
            .clone()
            .step_by(per_thread as usize)
            .map(|start| {
                let stop = indices.end.min(start + per_thread);
                scope.spawn(move || (start..stop).map(make).collect::<Vec<_>>())
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|part| {
                part.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Width and height of every lab image, in pixels.
pub const SIZE: usize = 256;

/// Pixels in one lab image (`SIZE * SIZE`).
pub const PIXELS: usize = SIZE * SIZE;

/// The lab scales raw intensities by this before they reach the network
/// (`image * (1/1024)` in its reader).
pub const INTENSITY_SCALE: f32 = 1024.0;

/// File name of the training set inside a data directory.
pub const TRAIN_FILE: &str = "train_images.tfrecords";

/// File name of the validation set inside a data directory.
pub const VAL_FILE: &str = "val_images.tfrecords";

/// Everything that can go wrong reading, writing or making lab data.
///
/// Record-level variants name the file and the zero-based record index, so
/// a message points at the exact slice to look at. A variant with a
/// `source` keeps the cause there and out of its own message; print the
/// whole chain (`{:#}` with anyhow) to see both.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// An I/O error on `path`.
    #[error("{}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A record's TFRecord framing is broken: a checksum does not match or
    /// the length is impossible (a corrupt file, or not a TFRecord file).
    #[error("{}: record {index}", path.display())]
    Framing {
        /// The file.
        path: PathBuf,
        /// Zero-based record index.
        index: usize,
        /// Byte offset of the record's header.
        offset: u64,
        /// What is wrong, with the checksums stored and computed.
        source: ReadRecordError,
    },
    /// The file ends inside a record (a torn write).
    #[error(
        "{}: record {index} at byte {offset} is torn: the file ends {present} bytes into it",
        path.display()
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Zero-based record index.
        index: usize,
        /// Byte offset of the record's header.
        offset: u64,
        /// Bytes of the record (header included) present in the file.
        present: u64,
    },
    /// A record is not a `tf.train.Example`, or a feature the schema needs
    /// is missing or holds the wrong kind or number of values.
    #[error("{}: record {index}", path.display())]
    Feature {
        /// The file.
        path: PathBuf,
        /// Zero-based record index.
        index: usize,
        /// Which feature, and what it holds instead.
        source: FeatureError,
    },
    /// A bytes feature has the wrong length.
    #[error(
        "{}: record {index}: feature `{key}` has {got} bytes, expected {expected}",
        path.display()
    )]
    ByteLength {
        /// The file.
        path: PathBuf,
        /// Zero-based record index.
        index: usize,
        /// The feature.
        key: String,
        /// Bytes expected.
        expected: usize,
        /// Bytes present.
        got: usize,
    },
    /// `height`, `width` or `depth` is not what the lab uses.
    #[error("{}: record {index}: `{key}` is {got}, expected {expected}", path.display())]
    Dimension {
        /// The file.
        path: PathBuf,
        /// Zero-based record index.
        index: usize,
        /// `height`, `width` or `depth`.
        key: &'static str,
        /// The lab's value.
        expected: i64,
        /// The record's value.
        got: i64,
    },
    /// A label pixel is neither 0 nor 1.
    #[error(
        "{}: record {index}: label pixel {pixel} (row {}, column {}) is {value}, expected 0 or 1",
        path.display(),
        pixel / SIZE,
        pixel % SIZE
    )]
    LabelValue {
        /// The file.
        path: PathBuf,
        /// Zero-based record index.
        index: usize,
        /// Row-major pixel index of the first bad value.
        pixel: usize,
        /// The bad value.
        value: u8,
    },
    /// A slice handed to the writer does not fit the schema.
    #[error("slice {index}: {problem}")]
    InvalidSlice {
        /// Zero-based position of the slice in the input.
        index: usize,
        /// What is wrong.
        problem: String,
    },
    /// A DICOM file cannot be used (unreadable, compressed, wrong size...).
    #[error("{}: {problem}", path.display())]
    Dicom {
        /// The DICOM file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A contour file cannot be parsed.
    #[error("{}: line {line}: {problem}", path.display())]
    Contour {
        /// The contour file.
        path: PathBuf,
        /// One-based line number.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// The Sunnybrook tree has nothing to convert.
    #[error("{}: {problem}", root.display())]
    Sunnybrook {
        /// The data root.
        root: PathBuf,
        /// What is wrong.
        problem: String,
    },
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Makes sure `dir` holds a synthetic train/val pair and returns the two
/// paths (train, val).
///
/// Each file is generated only if it is absent (the training set from
/// `seed` with slice indices `0..n_train`, the validation set with indices
/// starting at [`synth::VAL_FIRST_INDEX`]); an existing file is used as it
/// is, whatever its content, so a user can drop real data in its place.
/// `dir` is created if needed.
pub fn ensure_synthetic(
    dir: &Path,
    seed: u64,
    n_train: usize,
    n_val: usize,
) -> Result<(PathBuf, PathBuf), DataError> {
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    let train = dir.join(TRAIN_FILE);
    let val = dir.join(VAL_FILE);
    for (path, count, first) in [(&train, n_train, 0), (&val, n_val, synth::VAL_FIRST_INDEX)] {
        if !path.exists() {
            write_lab_file(path, synth::iter(seed, count, first))?;
        }
    }
    Ok((train, val))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_made_in_parallel_keep_the_order_of_one_thread() {
        let classic = |index| synth::generate_slice(5, index);
        let one_by_one: Vec<LabSlice> = (40..47).map(classic).collect();
        for threads in [1, 2, 3, 8] {
            assert_eq!(
                in_parallel(40..47, threads, classic),
                one_by_one,
                "{threads} threads"
            );
        }
        // Batches too: more slices than one batch of this machine, both styles.
        let count = std::thread::available_parallelism().map_or(1, |n| n.get()) * 8 + 3;
        for style in [SynthStyle::Classic, SynthStyle::Hard] {
            let streamed: Vec<LabSlice> = synthetic_slices(style, 5, count, 40, 1.5).collect();
            let expected: Vec<LabSlice> = (40..40 + count as u64)
                .map(|index| match style {
                    SynthStyle::Classic => synth::generate_slice(5, index),
                    SynthStyle::Hard => synth_hard::generate_slice(5, index, 1.5),
                })
                .collect();
            assert_eq!(streamed, expected, "{style:?}");
        }
    }

    #[test]
    fn ensure_synthetic_creates_once() {
        let dir = tempfile::tempdir().unwrap();
        let (train, val) = ensure_synthetic(dir.path(), 5, 3, 2).unwrap();
        assert_eq!(read_lab_file(&train).unwrap().len(), 3);
        assert_eq!(read_lab_file(&val).unwrap().len(), 2);
        // An existing file is left alone, even if a different count is asked.
        let before = std::fs::read(&train).unwrap();
        ensure_synthetic(dir.path(), 5, 4, 2).unwrap();
        assert_eq!(std::fs::read(&train).unwrap(), before);
    }

    #[test]
    fn label_error_names_row_and_column() {
        let err = DataError::LabelValue {
            path: "x.tfrecords".into(),
            index: 3,
            pixel: 2 * SIZE + 5,
            value: 7,
        };
        assert_eq!(
            err.to_string(),
            "x.tfrecords: record 3: label pixel 517 (row 2, column 5) is 7, expected 0 or 1"
        );
    }
}
