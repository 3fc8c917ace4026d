//! The asynchronous [`SummaryWriter`], one file per job:
//!
//! - this file: the writer handle and what every kind goes through
//!   (`add_scalar`, `add_summary`, `add_value`, `flush`, `sync`, `close`);
//! - `builder`: [`SummaryWriterBuilder`], the options and destinations;
//! - `file_names`: event file names and PyTorch's default log directory;
//! - `worker`: the queue and the background writer thread (its design);
//! - one file per family of `add_*` methods: `images`, `histograms`,
//!   `pr_curves`, `hparams`, `text`, `media` (audio, video, meshes),
//!   `embeddings`, `graph_and_layout` (graphs, custom-scalar layouts);
//!   `add_scalars` lives with its sub-runs in `summary::multi_scalars`.
//!
//! Images, histograms and PR curves are computed (PNG-encoded, bucketed) on
//! the calling thread before the queue's lock is taken; only the copy into
//! the buffer happens under it.

mod builder;
mod embeddings;
mod file_names;
mod graph_and_layout;
mod histograms;
mod hparams;
mod images;
mod media;
mod pr_curves;
#[cfg(test)]
mod test_support;
mod text;
mod worker;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::summary::inputs::{Scalar, Step};
use crate::summary::multi_scalars::SubRuns;
use crate::summary::values::{self, Summary};
use crate::summary::SummaryError;
use worker::{Inner, Msg};

pub use builder::{SummaryWriterBuilder, DEFAULT_FLUSH_INTERVAL, DEFAULT_MAX_QUEUE_BYTES};
pub use file_names::{event_file_name, is_event_file_name};

/// [`Scalar::STORED_AS_DOUBLE`] of a value's type.
fn stored_as_double<V: Scalar>(_: &V) -> bool {
    V::STORED_AS_DOUBLE
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Puts the summary's tag into an argument error raised by an encoder that
/// does not know it.
fn retag(error: SummaryError, tag: &str) -> SummaryError {
    match error {
        SummaryError::InvalidArgument { what, reason, .. } => SummaryError::InvalidArgument {
            tag: tag.to_owned(),
            what,
            reason,
        },
        other => other,
    }
}

/// Writes one TensorBoard event file (one "run") from a background thread.
///
/// A `SummaryWriter` is a cheap handle: `Clone`, `Send` and `Sync`. All
/// clones feed the same file through the same writer thread, so a data
/// loader thread and the training loop can log to one run. The file is
/// flushed and closed when the last clone is dropped, or by
/// [`SummaryWriter::close`] on any clone (the others then get
/// [`SummaryError::Closed`]).
///
/// Every `add_*` call takes a step as `impl Into<`[`Step`]`>`: a plain
/// integer, or a [`Step`] with an explicit wall time. TensorBoard keeps
/// only the last value written at or after a given step, so logging
/// without increasing steps loses data. Without an explicit wall time each
/// event gets the time of its `add_*` call.
///
/// Errors: an I/O failure in the writer thread is returned by the next
/// `add_*`, [`SummaryWriter::flush`], [`SummaryWriter::sync`] or
/// [`SummaryWriter::close`] call, and by every call after it (the writer
/// stays failed). A rejected argument (mismatched lengths, an image that
/// cannot be encoded) returns an error for that call only. Nothing panics.
///
/// Dropping the last clone flushes and closes the file, ignoring errors;
/// call [`SummaryWriter::close`] to see them.
///
/// ```
/// use tbseg::summary::SummaryWriter;
/// # let dir = std::env::temp_dir().join(format!("tbseg-clone-{}", std::process::id()));
/// let writer = SummaryWriter::new(&dir)?;
/// let loader_log = writer.clone();
/// std::thread::spawn(move || loader_log.add_scalar("data/queue", 12u32, 0))
///     .join()
///     .unwrap()?;
/// writer.add_scalar("loss", 0.7f64, 0)?;
/// writer.close()?; // one file, both scalars
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), tbseg::summary::SummaryError>(())
/// ```
#[derive(Clone)]
pub struct SummaryWriter {
    inner: Arc<Inner>,
}

impl SummaryWriter {
    /// Options for a writer of a new event file in `logdir`.
    pub fn builder(logdir: impl Into<PathBuf>) -> SummaryWriterBuilder {
        SummaryWriterBuilder::new(logdir.into())
    }

    /// A writer of a new event file in `logdir` with default options
    /// (see [`SummaryWriterBuilder`]). An empty `logdir` is an
    /// [`SummaryError::InvalidArgument`].
    pub fn new(logdir: impl Into<PathBuf>) -> Result<Self, SummaryError> {
        Self::builder(logdir).build()
    }

    /// A writer with default options over any `writer` (a `File`, a pipe, a
    /// test double); `label` names it in errors.
    pub fn with_writer<W: Write + Send + 'static>(
        writer: W,
        label: impl Into<PathBuf>,
    ) -> Result<Self, SummaryError> {
        Self::builder(PathBuf::new()).build_with_writer(writer, label)
    }

    /// The event file's path (or the label given to
    /// [`SummaryWriter::with_writer`]).
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Logs a scalar of any number type ([`Scalar`]: every integer and
    /// float), stored as a DT_FLOAT rank-0 tensor with the `scalars`
    /// plugin metadata on the tag's first value in this file; a
    /// [`crate::summary::Double`] is stored as DT_DOUBLE instead, at full
    /// precision (which TensorBoard's default Rust loader does not read;
    /// see there). NaN and infinities are written as they are.
    ///
    /// ```
    /// # use tbseg::summary::{Step, SummaryWriter};
    /// # let writer = SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// writer.add_scalar("loss", 0.25f32, 10)?;
    /// writer.add_scalar("lr", 1e-3f64, 10)?;
    /// writer.add_scalar("epoch", 2usize, 10)?;
    /// writer.add_scalar("energy", tbseg::summary::Double(1e300), 10)?;
    /// writer.add_scalar("loss", 0.5, Step::new(9).wall_time(1.7e9))?;
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn add_scalar(
        &self,
        tag: &str,
        value: impl Scalar,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        let (step, wall_time) = step.into().resolve(tag, now)?;
        // Decided by the type at compile time: the f32 path is unchanged.
        if stored_as_double(&value) {
            let value = value.to_f64();
            self.inner
                .push(|encoder, out| encoder.scalar_record_f64(out, wall_time, step, tag, value))
        } else {
            let value = value.to_f32();
            self.inner
                .push(|encoder, out| encoder.scalar_record(out, wall_time, step, tag, value))
        }
    }

    /// Logs every value of `summary` in one event at `step` (see
    /// [`crate::summary::values`]). Metadata is kept only on a tag's first
    /// value in this file.
    ///
    /// A step outside `i64`'s range and a NaN or negative-infinite wall
    /// time are an [`SummaryError::InvalidArgument`] naming the first
    /// value's tag, and nothing is written.
    ///
    /// ```
    /// use tbseg::reader::Logdir;
    /// use tbseg::summary::values::{self, Summary};
    /// use tbseg::summary::SummaryWriter;
    /// # let dir = std::env::temp_dir().join(format!("tbseg-doc-add-summary-{}", std::process::id()));
    /// let writer = SummaryWriter::new(&dir)?;
    /// // Two values in one event, as TensorFlow writes a step's summaries.
    /// let value = vec![values::scalar("loss", 0.5), values::text("note", "step 3")];
    /// writer.add_summary(Summary { value }, 3)?;
    /// writer.close()?;
    /// let run = &Logdir::scan(&dir)?.runs["."];
    /// assert_eq!(run.scalars("loss"), Some(vec![(3, 0.5)]));
    /// assert_eq!(run.texts("note")?[0].value.as_markdown(), "step 3");
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_summary(&self, summary: Summary, step: impl Into<Step>) -> Result<(), SummaryError> {
        let tag = summary.value.first().map_or("", |value| value.tag.as_str());
        let (step, wall_time) = step.into().resolve(tag, now)?;
        self.inner
            .push(|encoder, out| encoder.summary_record(out, wall_time, step, summary))
    }

    /// Logs one summary value (see [`crate::summary::values`]) at `step`.
    ///
    /// ```
    /// use tbseg::reader::Logdir;
    /// use tbseg::summary::{values, SummaryWriter};
    /// # let dir = std::env::temp_dir().join(format!("tbseg-doc-add-value-{}", std::process::id()));
    /// let writer = SummaryWriter::new(&dir)?;
    /// writer.add_value(values::scalar("dice", 0.875), 40)?;
    /// writer.close()?;
    /// let run = &Logdir::scan(&dir)?.runs["."];
    /// assert_eq!(run.scalars("dice"), Some(vec![(40, 0.875)]));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_value(
        &self,
        value: values::Value,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        self.add_summary(Summary { value: vec![value] }, step)
    }

    /// Returns once every event queued before the call is written to the
    /// file and the file is flushed (and the same for the sub-runs of
    /// [`SummaryWriter::add_scalars`]), or with the writer's error.
    ///
    /// After `flush` the events are in the operating system's hands: a
    /// killed process (even SIGKILL) loses none of them, a power cut or
    /// kernel crash may. [`SummaryWriter::sync`] covers those too.
    pub fn flush(&self) -> Result<(), SummaryError> {
        self.inner.round_trip(Msg::Flush)?;
        self.inner.sub_runs.flush()
    }

    /// Like [`SummaryWriter::flush`], then makes the file durable
    /// (`fsync` of the file, and of its directory the first time, as
    /// TensorFlow's writer does), so the events survive a power cut.
    /// Costs a disk round trip (milliseconds); call it at checkpoints and
    /// before exiting, not every step.
    ///
    /// What a crash can lose:
    /// - SIGKILL, `abort`, a panic that aborts: the events logged since the
    ///   writer thread last wrote, at most the last flush interval's worth
    ///   (2 s by default) or whatever came after the last `flush`/`sync`
    ///   returned. What was written before is in the page cache and stays.
    ///   The file always ends on a whole record or a torn last record,
    ///   which TensorBoard and [`crate::reader`] skip.
    /// - A power cut or kernel crash: everything since the last `sync`
    ///   returned (the kernel may have written more, but nothing later is
    ///   promised).
    pub fn sync(&self) -> Result<(), SummaryError> {
        self.inner.round_trip(Msg::Sync)?;
        self.inner.sub_runs.sync()
    }

    /// Writes and flushes everything queued, stops the writer thread and
    /// closes the file, for every clone of this writer, and closes the
    /// sub-runs of [`SummaryWriter::add_scalars`]. Later `add_*`
    /// calls return [`SummaryError::Closed`]. Returns the writer's I/O
    /// error, if any (also on repeated calls).
    pub fn close(&self) -> Result<(), SummaryError> {
        self.inner.close()
    }

    /// The sub-runs of [`SummaryWriter::add_scalars`].
    pub(super) fn sub_runs(&self) -> &SubRuns {
        &self.inner.sub_runs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::tensorflow::DataType;
    use crate::summary::writer::test_support::*;
    use std::io;

    #[test]
    fn bad_arguments_do_not_break_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::new(dir.path()).unwrap();
        let err = writer
            .add_pr_curve("pr", &[true], &[0.5, 0.1], 0)
            .unwrap_err();
        assert!(!err.is_fatal());
        writer.add_scalar("x", 1.0, 0).unwrap();
        writer.close().unwrap();
        assert_eq!(read_events(writer.path()).len(), 2);
    }

    #[test]
    fn histograms_and_scalars_take_any_number_type() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::new(dir.path()).unwrap();
        writer.add_scalar("s", 3u8, 1).unwrap();
        writer.add_scalar("s", -2i64, 2).unwrap();
        writer.add_scalar("s", 0.1f64, 3).unwrap();
        writer.add_scalar("s", 7usize, 4u32).unwrap();
        writer
            .add_scalar("s", crate::summary::Double(1e300), 5)
            .unwrap();
        writer.add_histogram("h32", &[1.0f32, 2.0], 1).unwrap();
        writer.add_histogram("h64", &[1.0f64, 2.0], 1).unwrap();
        writer.add_histogram("hint", &[1i32, 2], 1).unwrap();
        writer.close().unwrap();
        let summaries = summaries(writer.path());
        // Every primitive type as DT_FLOAT; a Double as DT_DOUBLE, exactly.
        let scalars: Vec<(i64, i32, f64)> = summaries[..5]
            .iter()
            .map(|(e, v)| {
                let t = tensor(v);
                let value = match t.tensor_content.len() {
                    4 => f64::from(f32::from_le_bytes(t.tensor_content[..].try_into().unwrap())),
                    _ => f64::from_le_bytes(t.tensor_content[..].try_into().unwrap()),
                };
                (e.step, t.dtype, value)
            })
            .collect();
        let (float, double) = (DataType::DtFloat as i32, DataType::DtDouble as i32);
        assert_eq!(
            scalars,
            [
                (1, float, 3.0),
                (2, float, -2.0),
                (3, float, f64::from(0.1f32)),
                (4, float, 7.0),
                (5, double, 1e300)
            ]
        );
        let contents: Vec<&Vec<u8>> = summaries[5..]
            .iter()
            .map(|(_, v)| &tensor(v).tensor_content)
            .collect();
        assert_eq!(contents[0], contents[1]);
        assert_eq!(contents[0], contents[2]);
    }

    #[test]
    fn an_explicit_wall_time_is_written_as_given() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::new(dir.path()).unwrap();
        writer
            .add_scalar("x", 1.0, Step::new(5).wall_time(1234.5))
            .unwrap();
        writer
            .add_text("t", "hi", Step::new(6).wall_time(99.0))
            .unwrap();
        writer.add_scalar("x", 2.0, 7).unwrap();
        writer.close().unwrap();
        let times: Vec<(i64, f64)> = summaries(writer.path())
            .iter()
            .map(|(e, _)| (e.step, e.wall_time))
            .collect();
        assert_eq!(times[..2], [(5, 1234.5), (6, 99.0)]);
        assert_eq!(times[2].0, 7);
        assert!(times[2].1 > 1.6e9);
    }

    #[test]
    #[cfg(feature = "png")]
    fn all_kinds_round_trip_through_a_file() {
        use crate::proto::tensorflow::{event, GraphDef};
        use crate::summary::{HParamValue, ImageLayout, PrCurveOptions, SessionStatus};
        use prost::Message;
        use std::collections::BTreeMap;
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::builder(dir.path())
            .max_queue_bytes(2)
            .build()
            .unwrap();
        let pixels: Vec<u8> = (0..6).map(|i| i * 40).collect();
        writer
            .add_image("gray", &pixels, ImageLayout::Hw(2, 3), 1)
            .unwrap();
        writer.add_histogram("h", &[1.0, 2.0, 3.0], 1).unwrap();
        writer
            .add_pr_curve_with(
                "pr",
                &[true, false],
                &[0.9, 0.1],
                &PrCurveOptions::default().num_thresholds(3),
                1,
            )
            .unwrap();
        let mut graph = crate::summary::GraphBuilder::new();
        graph.add_node(crate::summary::Node::new("a", "Op"));
        writer.add_graph(&graph.into_graph_def()).unwrap();
        let mut hp = BTreeMap::new();
        hp.insert("lr".to_owned(), HParamValue::Float(0.1));
        writer
            .add_hparams(&hp, crate::summary::NO_METRICS, 0)
            .unwrap();
        writer.end_hparams(SessionStatus::Success).unwrap();
        writer.close().unwrap();
        let events = read_events(writer.path());
        assert_eq!(events.len(), 7);
        let tags: Vec<String> = events
            .iter()
            .filter_map(|e| match &e.what {
                Some(event::What::Summary(s)) => Some(s.value[0].tag.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            tags,
            [
                "gray",
                "h",
                "pr",
                "_hparams_/session_start_info",
                "_hparams_/session_end_info"
            ]
        );
        let Some(event::What::Summary(s)) = &events[1].what else {
            panic!()
        };
        assert_eq!(
            decode_png(&tensor(&s.value[0]).string_val[2]),
            (3, 2, 1, pixels)
        );
        let Some(event::What::GraphDef(bytes)) = &events[4].what else {
            panic!()
        };
        assert_eq!(
            GraphDef::decode(bytes.as_slice()).unwrap().node[0].name,
            "a"
        );
        assert!(events[4].wall_time > 1.6e9);
    }

    #[test]
    fn error_messages_name_the_path_and_the_os_cause() {
        use std::error::Error as _;
        let io = || Arc::new(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
        let path = PathBuf::from("runs/a/events.out.tfevents.1");
        let cases = [
            (
                SummaryError::CreateDir {
                    path: "runs/a".into(),
                    source: io(),
                },
                "cannot create log directory runs/a: disk full",
            ),
            (
                SummaryError::CreateFile {
                    path: path.clone(),
                    source: io(),
                },
                "cannot create event file runs/a/events.out.tfevents.1: disk full",
            ),
            (
                SummaryError::Write {
                    path: path.clone(),
                    source: io(),
                },
                "cannot write to event file runs/a/events.out.tfevents.1: disk full",
            ),
            (
                SummaryError::Flush {
                    path: path.clone(),
                    source: io(),
                },
                "cannot flush event file runs/a/events.out.tfevents.1: disk full",
            ),
            (
                SummaryError::Sync {
                    path: path.clone(),
                    source: io(),
                },
                "cannot sync event file runs/a/events.out.tfevents.1: disk full",
            ),
            (
                SummaryError::Spawn {
                    path: path.clone(),
                    source: io(),
                },
                "cannot start the writer thread for runs/a/events.out.tfevents.1: disk full",
            ),
            (
                SummaryError::WriteAsset {
                    path: "runs/a/projector_config.pbtxt".into(),
                    source: io(),
                },
                "cannot write runs/a/projector_config.pbtxt: disk full",
            ),
        ];
        for (err, message) in cases {
            // A plain `{e}` names the OS cause; the source stays
            // available for code that inspects it.
            assert_eq!(err.to_string(), message);
            assert_eq!(err.source().unwrap().to_string(), "disk full");
            assert_eq!(err.io_kind(), Some(io::ErrorKind::StorageFull));
        }
        // A real OS error, as the writer reports it.
        let file = tempfile::NamedTempFile::new().unwrap();
        let err = SummaryWriter::new(file.path().join("run")).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("cannot create log directory ") && message.contains("(os error"),
            "{message}"
        );
        for (err, message) in [
            (
                SummaryError::WorkerPanicked { path: path.clone() },
                "the writer thread for runs/a/events.out.tfevents.1 panicked",
            ),
            (
                SummaryError::Closed { path },
                "summary writer for runs/a/events.out.tfevents.1 is closed",
            ),
            (
                SummaryError::InvalidArgument {
                    tag: "pr".into(),
                    what: "labels",
                    reason: "2 labels, 3 predictions".into(),
                },
                "invalid labels for summary \"pr\": 2 labels, 3 predictions",
            ),
            (
                SummaryError::ImageEncode {
                    tag: "img".into(),
                    message: "too large".into(),
                },
                "cannot encode image \"img\" as PNG: too large",
            ),
        ] {
            assert_eq!(err.to_string(), message);
            assert!(err.source().is_none());
        }
    }
}
