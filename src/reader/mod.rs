//! Reading event files back, one file, a whole log directory, or a run
//! that is still being written.
//!
//! [`EventFileReader`] decodes the `tensorflow.Event` records of one file.
//! A torn final record, as left by a writer that crashed or is still
//! writing, ends the file normally and is reported as [`FileEnd::TornTail`]
//! rather than as corruption. A record with a bad data checksum or one that
//! is not an `Event` is skipped and reported with its byte offset, so one
//! bad record does not hide the rest of the file; a bad length checksum
//! ends the file, since the next record cannot be found.
//!
//! [`Logdir::scan`] walks a directory the way TensorBoard does (every file
//! whose name contains `tfevents` belongs to the run named by its
//! directory) and keeps every tag of every run: scalars as numbers, every
//! other kind (images, histograms, text, PR curves, audio, hparams ...) as
//! the logged value with its plugin's metadata, plus graphs and session
//! logs. A `SessionLog START` drops the earlier points at or after its
//! step, as TensorBoard does, so a resumed run reads as one curve.
//! [`LogdirWatcher`] does the same incrementally for a run still being
//! written. `tbseg inspect` prints a [`Logdir`].

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use prost::Message;

use crate::proto::tensorflow::session_log::SessionStatus;
use crate::proto::tensorflow::summary::value::Value as ValueKind;
use crate::proto::tensorflow::{
    event, summary, DataType, Event, SessionLog, SummaryMetadata, TensorProto,
};
use crate::record::{OpenError, ReadRecordError, RecordReader};

mod follow;
pub use follow::{LogdirWatcher, NewEvent};

/// Reading one event failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadEventError {
    /// The file could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The record framing is damaged, torn or unreadable; see
    /// [`ReadRecordError`] for which cases are fatal.
    #[error(transparent)]
    Record(#[from] ReadRecordError),
    /// The record at `offset` is intact but is not a `tensorflow.Event`.
    ///
    /// Retryable: the next record can still be read.
    #[error("record at byte {offset} is not an Event")]
    Decode {
        /// Byte offset of the record.
        offset: u64,
        /// The decoding error.
        #[source]
        source: prost::DecodeError,
    },
    /// The event at `offset` has a NaN `wall_time`, which TensorBoard
    /// rejects because it cannot order it.
    ///
    /// Retryable: the next record can still be read.
    #[error("event at byte {offset} (step {step}) has a NaN wall_time")]
    NanWallTime {
        /// Byte offset of the record.
        offset: u64,
        /// The event's step.
        step: i64,
    },
}

/// How an event file ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileEnd {
    /// At a record boundary.
    Clean,
    /// Inside the record that starts at `offset`: the writer crashed or is
    /// still writing. The events before it are all intact.
    TornTail {
        /// Byte offset of the torn record.
        offset: u64,
    },
}

/// How many skipped-record errors a reader keeps in full; past this only
/// [`EventFileReader::skipped_count`] grows, so a file of nothing but
/// damaged records cannot fill memory with error values.
pub const MAX_SKIPPED_KEPT: usize = 100;

/// Reads the `tensorflow.Event`s of one event file.
///
/// [`read_event`](Self::read_event) returns every error as it comes;
/// [`for_each`](Self::for_each) and [`read_all`](Self::read_all) skip the
/// retryable ones (a record with a bad data checksum, a record that is not
/// an `Event`, a NaN wall time), so one bad record does not hide the rest of
/// the file, and keep them for [`skipped`](Self::skipped).
#[derive(Debug)]
pub struct EventFileReader<R> {
    records: RecordReader<R>,
    skipped: Vec<ReadEventError>,
    skipped_count: u64,
}

impl EventFileReader<BufReader<File>> {
    /// Opens an event file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        Ok(Self::from_records(RecordReader::open(path)?))
    }
}

impl<R: Read> EventFileReader<R> {
    /// Reads events from `inner`.
    pub fn new(inner: R) -> Self {
        Self::from_records(RecordReader::new(inner))
    }

    /// The input, for callers that feed it more bytes between reads.
    #[cfg(feature = "object-store")]
    pub(crate) fn get_mut(&mut self) -> &mut R {
        self.records.get_mut()
    }

    fn from_records(records: RecordReader<R>) -> Self {
        EventFileReader {
            records,
            skipped: Vec::new(),
            skipped_count: 0,
        }
    }

    /// Reads the next event; `Ok(None)` at a clean end of input. A torn
    /// tail is `Err(ReadEventError::Record(ReadRecordError::Truncated {..}))`
    /// and, like the record reader, this reader resumes once the file grows.
    pub fn read_event(&mut self) -> Result<Option<Event>, ReadEventError> {
        let Some(data) = self.records.read_record()? else {
            return Ok(None);
        };
        let decoded = Event::decode(data);
        let offset = self.records.record_offset();
        let event = decoded.map_err(|source| ReadEventError::Decode { offset, source })?;
        if event.wall_time.is_nan() {
            return Err(ReadEventError::NanWallTime {
                offset,
                step: event.step,
            });
        }
        Ok(Some(event))
    }

    /// Calls `visit` with every remaining event, and says how the file
    /// ended. Retryable errors are skipped and kept (see
    /// [`skipped`](Self::skipped)); a torn tail ends the file normally
    /// (`Ok(FileEnd::TornTail)`), and calling again once the file has grown
    /// continues after the last complete record. `Err` is a fatal framing
    /// error (the rest of the file cannot be found) or an I/O error; the
    /// events before it have been visited.
    pub fn for_each(&mut self, mut visit: impl FnMut(Event)) -> Result<FileEnd, ReadEventError> {
        loop {
            match self.read_event() {
                Ok(Some(event)) => visit(event),
                Ok(None) => return Ok(FileEnd::Clean),
                Err(ReadEventError::Record(ReadRecordError::Truncated { offset })) => {
                    return Ok(FileEnd::TornTail { offset })
                }
                Err(e) if e.is_retryable() => self.skip(e),
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads every remaining event into memory; see
    /// [`for_each`](Self::for_each) for which errors end the file.
    pub fn read_all(&mut self) -> Result<(Vec<Event>, FileEnd), ReadEventError> {
        let mut events = Vec::new();
        let end = self.for_each(|event| events.push(event))?;
        Ok((events, end))
    }

    /// The records [`for_each`](Self::for_each) skipped, each error with its
    /// byte offset, in file order; at most [`MAX_SKIPPED_KEPT`] of them.
    pub fn skipped(&self) -> &[ReadEventError] {
        &self.skipped
    }

    /// How many records were skipped in all (may exceed
    /// [`skipped`](Self::skipped)'s length).
    pub fn skipped_count(&self) -> u64 {
        self.skipped_count
    }

    /// Takes the kept skipped-record errors out of the reader (the count
    /// stays), for a caller that reports them as they come.
    pub fn take_skipped(&mut self) -> Vec<ReadEventError> {
        std::mem::take(&mut self.skipped)
    }

    fn skip(&mut self, error: ReadEventError) {
        self.skipped_count += 1;
        if self.skipped.len() < MAX_SKIPPED_KEPT {
            self.skipped.push(error);
        }
    }
}

impl ReadEventError {
    /// Whether reading can go on after this error with the next record:
    /// a bad data checksum, an undecodable record or a NaN wall time affect
    /// only their own record.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ReadEventError::Record(ReadRecordError::BadDataCrc { .. })
                | ReadEventError::Decode { .. }
                | ReadEventError::NanWallTime { .. }
        )
    }

    /// The byte offset of the record concerned, where there is one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            ReadEventError::Open(_) => None,
            ReadEventError::Record(e) => e.offset(),
            ReadEventError::Decode { offset, .. } | ReadEventError::NanWallTime { offset, .. } => {
                Some(*offset)
            }
        }
    }
}

/// Which dashboard a tag's values belong to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SeriesKind {
    /// Scalars: `plugin_name` "scalars" or a legacy `simple_value`.
    Scalar,
    /// Images: "images" or a legacy `Summary.Image`.
    Image,
    /// Histograms: "histograms" or a legacy `HistogramProto`.
    Histogram,
    /// Text: "text".
    Text,
    /// Audio: "audio" or a legacy `Summary.Audio`.
    Audio,
    /// Precision-recall curves: "pr_curves".
    PrCurve,
    /// Hyperparameters: "hparams".
    Hparams,
    /// A tensor with no plugin name.
    Tensor,
    /// Another plugin, by name.
    Other(String),
}

impl SeriesKind {
    /// The kind TensorBoard would pick for a summary value: the plugin
    /// named in its metadata, or else the legacy field it sets.
    pub fn of(value: &summary::Value) -> Self {
        let plugin = value
            .metadata
            .as_ref()
            .and_then(|m| m.plugin_data.as_ref())
            .map(|p| p.plugin_name.as_str())
            .unwrap_or("");
        match plugin {
            "scalars" => SeriesKind::Scalar,
            "images" => SeriesKind::Image,
            "histograms" => SeriesKind::Histogram,
            "text" => SeriesKind::Text,
            "audio" => SeriesKind::Audio,
            "pr_curves" => SeriesKind::PrCurve,
            "hparams" => SeriesKind::Hparams,
            "" => match &value.value {
                Some(ValueKind::SimpleValue(_)) => SeriesKind::Scalar,
                Some(ValueKind::Image(_)) => SeriesKind::Image,
                Some(ValueKind::Histo(_)) | Some(ValueKind::ObsoleteOldStyleHistogram(_)) => {
                    SeriesKind::Histogram
                }
                Some(ValueKind::Audio(_)) => SeriesKind::Audio,
                Some(ValueKind::Tensor(_)) | None => SeriesKind::Tensor,
            },
            other => SeriesKind::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for SeriesKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SeriesKind::Scalar => "scalar",
            SeriesKind::Image => "image",
            SeriesKind::Histogram => "histogram",
            SeriesKind::Text => "text",
            SeriesKind::Audio => "audio",
            SeriesKind::PrCurve => "pr_curve",
            SeriesKind::Hparams => "hparams",
            SeriesKind::Tensor => "tensor",
            SeriesKind::Other(name) => name,
        })
    }
}

/// The value of a scalar summary, in either form TensorBoard reads: a
/// legacy `simple_value`, or a rank-0 (one element) `DT_FLOAT` or
/// `DT_DOUBLE` tensor in `tensor_content` or `float_val`/`double_val`.
pub fn scalar_value(value: &summary::Value) -> Option<f32> {
    match value.value.as_ref()? {
        ValueKind::SimpleValue(x) => Some(*x),
        ValueKind::Tensor(tensor) => tensor_scalar(tensor),
        _ => None,
    }
}

fn tensor_scalar(tensor: &TensorProto) -> Option<f32> {
    let one_element = tensor
        .tensor_shape
        .as_ref()
        .is_none_or(|shape| shape.dim.iter().all(|d| d.size == 1));
    if !one_element {
        return None;
    }
    let content = tensor.tensor_content.as_slice();
    match DataType::try_from(tensor.dtype).ok()? {
        DataType::DtFloat => match content.try_into() {
            Ok(bytes) => Some(f32::from_le_bytes(bytes)),
            Err(_) => match tensor.float_val.as_slice() {
                [x] => Some(*x),
                _ => None,
            },
        },
        DataType::DtDouble => match content.try_into() {
            Ok(bytes) => Some(f64::from_le_bytes(bytes) as f32),
            Err(_) => match tensor.double_val.as_slice() {
                [x] => Some(*x as f32),
                _ => None,
            },
        },
        _ => None,
    }
}

/// One non-scalar value of a series, as it was logged.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedValue {
    /// The event's step.
    pub step: i64,
    /// The event's wall time, in seconds since the Unix epoch.
    pub wall_time: f64,
    /// The value: a tensor for every summary written the TensorFlow 2 way
    /// (images, histograms, text, PR curves, audio, hparams ...), or a
    /// legacy `Summary.Image`, `HistogramProto` or `Summary.Audio`.
    pub value: ValueKind,
}

/// The values of one tag in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The dashboard, taken from the tag's first value.
    pub kind: SeriesKind,
    /// How many values the tag has (after any purge).
    pub count: u64,
    /// Step of the first value, in file order.
    pub first_step: i64,
    /// Step of the last value, in file order.
    pub last_step: i64,
    /// The metadata of the tag's first value (plugin name and content,
    /// display name), which is the one TensorBoard keeps too.
    pub metadata: Option<SummaryMetadata>,
    points: Vec<(i64, f32)>,
    values: Vec<TimedValue>,
}

impl Series {
    fn new(value: &summary::Value, step: i64) -> Self {
        Series {
            kind: SeriesKind::of(value),
            count: 0,
            first_step: step,
            last_step: step,
            metadata: value.metadata.clone(),
            points: Vec::new(),
            values: Vec::new(),
        }
    }

    fn push(&mut self, step: i64, wall_time: f64, value: &summary::Value) {
        if self.count == 0 {
            self.first_step = step;
        }
        self.count += 1;
        self.last_step = step;
        let scalar = match self.kind {
            SeriesKind::Scalar => scalar_value(value),
            _ => None,
        };
        match (scalar, &value.value) {
            (Some(x), _) => self.points.push((step, x)),
            (None, Some(kind)) => self.values.push(TimedValue {
                step,
                wall_time,
                value: kind.clone(),
            }),
            // A value with no payload at all has nothing to keep but its
            // step, which the count and range already hold.
            (None, None) => {}
        }
    }

    /// Drops every value at `step` or later, as TensorBoard does when a
    /// run restarts (`SessionLog START`); returns how many went.
    fn purge_from(&mut self, step: i64) -> u64 {
        let before = self.points.len() + self.values.len();
        self.points.retain(|&(s, _)| s < step);
        self.values.retain(|v| v.step < step);
        let removed = (before - self.points.len() - self.values.len()) as u64;
        if removed > 0 {
            self.count = self.count.saturating_sub(removed);
            let firsts = [
                self.points.first().map(|p| p.0),
                self.values.first().map(|v| v.step),
            ];
            let lasts = [
                self.points.last().map(|p| p.0),
                self.values.last().map(|v| v.step),
            ];
            self.first_step = firsts.into_iter().flatten().min().unwrap_or(step);
            self.last_step = lasts.into_iter().flatten().max().unwrap_or(step);
        }
        removed
    }

    /// Every `(step, value)` of a scalar tag, in file order; empty for
    /// other kinds.
    pub fn points(&self) -> &[(i64, f32)] {
        &self.points
    }

    /// The last scalar value, if this is a scalar tag.
    pub fn last_value(&self) -> Option<f32> {
        self.points.last().map(|&(_, v)| v)
    }

    /// Every non-scalar value (and any scalar value that held no number),
    /// in file order.
    pub fn values(&self) -> &[TimedValue] {
        &self.values
    }

    /// The `(step, tensor)` of every value stored as a tensor, in file
    /// order; read them with the plugin named by
    /// [`plugin_name`](Self::plugin_name).
    pub fn tensors(&self) -> impl Iterator<Item = (i64, &TensorProto)> {
        self.values.iter().filter_map(|v| match &v.value {
            ValueKind::Tensor(tensor) => Some((v.step, tensor)),
            _ => None,
        })
    }

    /// The plugin named in the first value's metadata; `""` when none is.
    pub fn plugin_name(&self) -> &str {
        self.metadata
            .as_ref()
            .and_then(|m| m.plugin_data.as_ref())
            .map_or("", |p| p.plugin_name.as_str())
    }

    /// The steps present more than once, sorted: after a crash and
    /// resume without a purge, TensorBoard would show them twice.
    pub fn duplicate_steps(&self) -> Vec<i64> {
        let mut steps: Vec<i64> = self
            .points
            .iter()
            .map(|p| p.0)
            .chain(self.values.iter().map(|v| v.step))
            .collect();
        steps.sort_unstable();
        let mut dups: Vec<i64> = steps
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .collect();
        dups.dedup();
        dups
    }
}

/// How reading one event file went.
#[derive(Debug)]
pub enum FileStatus {
    /// Read to the end.
    Complete,
    /// Read up to a torn final record at `offset`.
    TornTail {
        /// Byte offset of the torn record.
        offset: u64,
    },
    /// Reading stopped at a fatal error; the events before it were read.
    Failed(ReadEventError),
}

/// One event file of a run.
#[derive(Debug)]
pub struct EventFileSummary {
    /// The file, relative to the log directory.
    pub path: PathBuf,
    /// Events read from it.
    pub events: u64,
    /// How reading it ended.
    pub status: FileStatus,
    /// Records skipped for a retryable error (bad data checksum, not an
    /// `Event`, NaN wall time), each with its byte offset; at most
    /// [`MAX_SKIPPED_KEPT`] are kept.
    pub skipped: Vec<ReadEventError>,
    /// How many records were skipped in all.
    pub skipped_count: u64,
}

/// One run: the event files of one directory, read in file name order.
#[derive(Debug, Default)]
pub struct Run {
    /// Every tag's series.
    pub tags: BTreeMap<String, Series>,
    /// The run's event files, in the order they were read.
    pub files: Vec<EventFileSummary>,
    /// How many events carried a `graph_def`.
    pub graphs: u64,
    /// The last serialized `GraphDef` logged, the one the Graphs dashboard
    /// shows.
    pub graph_def: Option<Vec<u8>>,
    /// Every `SessionLog` event, as `(step, log)`, in file order.
    pub session_logs: Vec<(i64, SessionLog)>,
    /// Values dropped because a `SessionLog START` at an equal or lower
    /// step came after them (a resumed run).
    pub purged: u64,
}

impl Run {
    /// Whether any event of the run carried a graph.
    pub fn has_graph(&self) -> bool {
        self.graphs > 0
    }

    /// The series of `tag`.
    pub fn series(&self, tag: &str) -> Option<&Series> {
        self.tags.get(tag)
    }

    /// Every `(step, value)` of the scalar tag `tag`; `None` when the run
    /// has no scalar tag of that name.
    pub fn scalars(&self, tag: &str) -> Option<&[(i64, f32)]> {
        self.series(tag)
            .filter(|s| s.kind == SeriesKind::Scalar)
            .map(Series::points)
    }

    /// Adds one event's contribution.
    ///
    /// A `SessionLog` with status START at step `s` drops every value
    /// already read at step `s` or later, in every tag, the way
    /// TensorBoard's event loader does: a run that crashed and was resumed
    /// from an earlier checkpoint then reads as one curve, without the
    /// points the crashed process logged after that checkpoint.
    pub fn add_event(&mut self, event: &Event) {
        match &event.what {
            Some(event::What::GraphDef(graph)) => {
                self.graphs += 1;
                self.graph_def = Some(graph.clone());
            }
            Some(event::What::SessionLog(log)) => {
                if log.status == SessionStatus::Start as i32 {
                    self.purge_from(event.step);
                }
                self.session_logs.push((event.step, log.clone()));
            }
            Some(event::What::Summary(summary)) => {
                for value in &summary.value {
                    self.tags
                        .entry(value.tag.clone())
                        .or_insert_with(|| Series::new(value, event.step))
                        .push(event.step, event.wall_time, value);
                }
            }
            _ => {}
        }
    }

    fn purge_from(&mut self, step: i64) {
        for series in self.tags.values_mut() {
            self.purged += series.purge_from(step);
        }
        // A tag all of whose values went is gone from TensorBoard too.
        self.tags.retain(|_, series| series.count > 0);
    }
}

/// Scanning a log directory failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {}", path.display())]
pub struct ScanError {
    /// The directory (or file) that could not be read.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: io::Error,
}

/// A log directory: every run found under it.
#[derive(Debug)]
pub struct Logdir {
    /// The directory scanned.
    pub root: PathBuf,
    /// Runs by name: the directory holding the event files, relative to
    /// the root, with `/` separators; `.` for the root itself.
    pub runs: BTreeMap<String, Run>,
}

impl Logdir {
    /// Walks `root` recursively and reads every file whose name contains
    /// `tfevents`. A file that cannot be read is noted in its run (see
    /// [`FileStatus`]) rather than failing the scan; only a directory that
    /// cannot be listed does. `root` may also be a single event file.
    pub fn scan(root: impl AsRef<Path>) -> Result<Self, ScanError> {
        let mut watcher = LogdirWatcher::new(root.as_ref());
        watcher.poll()?;
        Ok(watcher.into_logdir())
    }

    /// The run named `name`.
    pub fn run(&self, name: &str) -> Option<&Run> {
        self.runs.get(name)
    }

    /// Whether no event file was found.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }
}

/// The error and its causes, `: `-separated, for a one-line note.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

fn step_range(series: &Series) -> String {
    if series.first_step == series.last_step {
        series.first_step.to_string()
    } else {
        format!("{}..{}", series.first_step, series.last_step)
    }
}

/// Prints the runs as an aligned table (one row per tag, plus one per run
/// with a graph), followed by a note for every file that ended in a torn
/// tail or an error.
impl fmt::Display for Logdir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = ["run", "tag", "kind", "points", "steps", "last value"];
        let mut rows: Vec<[String; 6]> = Vec::new();
        for (name, run) in &self.runs {
            for (tag, series) in &run.tags {
                rows.push([
                    name.clone(),
                    tag.clone(),
                    series.kind.to_string(),
                    series.count.to_string(),
                    step_range(series),
                    series
                        .last_value()
                        .map_or_else(String::new, |v| v.to_string()),
                ]);
            }
            if run.has_graph() {
                rows.push([
                    name.clone(),
                    "(graph)".into(),
                    "graph".into(),
                    run.graphs.to_string(),
                    String::new(),
                    String::new(),
                ]);
            }
        }
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let header = header.map(String::from);
        for row in std::iter::once(&header).chain(&rows) {
            let line = format!(
                "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {:<w4$}  {}",
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                row[5],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3],
                w4 = widths[4],
            );
            writeln!(f, "{}", line.trim_end())?;
        }
        for (name, run) in &self.runs {
            if run.purged > 0 {
                writeln!(
                    f,
                    "note: run {name}: {} points dropped by a SessionLog START (a resumed run)",
                    run.purged
                )?;
            }
            for file in &run.files {
                match &file.status {
                    FileStatus::Complete => {}
                    FileStatus::TornTail { offset } => writeln!(
                        f,
                        "note: {}: ends in a torn record at byte {offset} (still being written?)",
                        file.path.display()
                    )?,
                    FileStatus::Failed(e) => writeln!(
                        f,
                        "error: {}: {} (read {} events before it)",
                        file.path.display(),
                        error_chain(e),
                        file.events
                    )?,
                }
                for e in &file.skipped {
                    writeln!(
                        f,
                        "warning: {}: skipped: {}",
                        file.path.display(),
                        error_chain(e)
                    )?;
                }
                let unlisted = file.skipped_count.saturating_sub(file.skipped.len() as u64);
                if unlisted > 0 {
                    writeln!(
                        f,
                        "warning: {}: skipped {unlisted} more damaged records",
                        file.path.display()
                    )?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::tensorflow::{
        summary_metadata::PluginData, HistogramProto, Summary, SummaryMetadata, TensorShapeProto,
    };
    use crate::record::RecordWriter;

    fn event(step: i64, what: event::What) -> Event {
        Event {
            wall_time: 1.5e9 + step as f64,
            step,
            what: Some(what),
            ..Default::default()
        }
    }

    fn value(tag: &str, plugin: Option<&str>, v: ValueKind) -> summary::Value {
        summary::Value {
            tag: tag.into(),
            metadata: plugin.map(|name| SummaryMetadata {
                plugin_data: Some(PluginData {
                    plugin_name: name.into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            value: Some(v),
            ..Default::default()
        }
    }

    fn summary_event(step: i64, values: Vec<summary::Value>) -> Event {
        event(step, event::What::Summary(Summary { value: values }))
    }

    fn float_tensor(x: f32, in_content: bool) -> ValueKind {
        ValueKind::Tensor(TensorProto {
            dtype: DataType::DtFloat as i32,
            tensor_shape: Some(TensorShapeProto::default()),
            tensor_content: if in_content {
                x.to_le_bytes().to_vec()
            } else {
                Vec::new()
            },
            float_val: if in_content { Vec::new() } else { vec![x] },
            ..Default::default()
        })
    }

    fn write_events(path: &Path, events: &[Event]) {
        let mut w = RecordWriter::create(path).unwrap();
        for e in events {
            w.write_record(&e.encode_to_vec()).unwrap();
        }
        w.flush().unwrap();
    }

    fn encode(events: &[Event]) -> Vec<u8> {
        let mut w = RecordWriter::new(Vec::new());
        for e in events {
            w.write_record(&e.encode_to_vec()).unwrap();
        }
        w.into_inner()
    }

    #[test]
    fn reads_events_and_a_torn_tail_is_a_value() {
        let events = vec![
            event(0, event::What::FileVersion("brain.Event:2".into())),
            summary_event(1, vec![value("a", None, ValueKind::SimpleValue(0.5))]),
        ];
        let bytes = encode(&events);
        let (read, end) = EventFileReader::new(&bytes[..]).read_all().unwrap();
        assert_eq!((read, end), (events.clone(), FileEnd::Clean));
        let first_len = events[0].encoded_len() as u64 + 16;
        let (read, end) = EventFileReader::new(&bytes[..bytes.len() - 1])
            .read_all()
            .unwrap();
        assert_eq!(read, events[..1]);
        assert_eq!(end, FileEnd::TornTail { offset: first_len });
    }

    #[test]
    fn rejects_nan_wall_time_and_non_events() {
        let mut nan = summary_event(3, vec![]);
        nan.wall_time = f64::NAN;
        let mut w = RecordWriter::new(Vec::new());
        w.write_record(&nan.encode_to_vec()).unwrap();
        w.write_record(b"\xff\xff\xff").unwrap();
        let bytes = w.into_inner();
        let mut r = EventFileReader::new(&bytes[..]);
        let err = r.read_event().unwrap_err();
        assert!(matches!(
            err,
            ReadEventError::NanWallTime { offset: 0, step: 3 }
        ));
        assert_eq!(
            err.to_string(),
            "event at byte 0 (step 3) has a NaN wall_time"
        );
        let err = r.read_event().unwrap_err();
        assert!(matches!(err, ReadEventError::Decode { .. }));
        let offset = nan.encoded_len() + 16;
        assert_eq!(
            err.to_string(),
            format!("record at byte {offset} is not an Event")
        );
        assert!(r.read_event().unwrap().is_none());
    }

    #[test]
    fn kinds_from_plugin_name_or_legacy_field() {
        let histo = ValueKind::Histo(HistogramProto::default());
        let cases = [
            (
                value("s", Some("scalars"), float_tensor(1.0, true)),
                SeriesKind::Scalar,
            ),
            (
                value("s", None, ValueKind::SimpleValue(1.0)),
                SeriesKind::Scalar,
            ),
            (value("h", None, histo.clone()), SeriesKind::Histogram),
            (
                value("h", Some("histograms"), float_tensor(0.0, true)),
                SeriesKind::Histogram,
            ),
            (
                value("i", None, ValueKind::Image(Default::default())),
                SeriesKind::Image,
            ),
            (
                value("t", Some("text"), float_tensor(0.0, true)),
                SeriesKind::Text,
            ),
            (
                value("p", Some("pr_curves"), float_tensor(0.0, true)),
                SeriesKind::PrCurve,
            ),
            (
                value("x", Some("hparams"), float_tensor(0.0, true)),
                SeriesKind::Hparams,
            ),
            (
                value("x", None, float_tensor(0.0, true)),
                SeriesKind::Tensor,
            ),
            (
                value("m", Some("mesh"), histo),
                SeriesKind::Other("mesh".into()),
            ),
        ];
        for (v, want) in cases {
            assert_eq!(SeriesKind::of(&v), want, "{v:?}");
        }
    }

    #[test]
    fn scalar_values_in_every_form() {
        assert_eq!(
            scalar_value(&value("a", None, ValueKind::SimpleValue(2.5))),
            Some(2.5)
        );
        assert_eq!(
            scalar_value(&value("a", None, float_tensor(-1.25, true))),
            Some(-1.25)
        );
        assert_eq!(
            scalar_value(&value("a", None, float_tensor(7.0, false))),
            Some(7.0)
        );
        let double = ValueKind::Tensor(TensorProto {
            dtype: DataType::DtDouble as i32,
            tensor_content: 0.125f64.to_le_bytes().to_vec(),
            ..Default::default()
        });
        assert_eq!(scalar_value(&value("a", None, double)), Some(0.125));
        let vector = ValueKind::Tensor(TensorProto {
            dtype: DataType::DtFloat as i32,
            tensor_shape: Some(TensorShapeProto {
                dim: vec![Default::default(); 1],
                ..Default::default()
            }),
            float_val: vec![1.0, 2.0],
            ..Default::default()
        });
        assert_eq!(scalar_value(&value("a", None, vector)), None);
    }

    #[test]
    fn scans_a_logdir_into_runs_and_prints_a_table() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("train/sub")).unwrap();
        // The root run, split over two files that must be read in name order.
        let scalars = |steps: std::ops::Range<i64>| -> Vec<Event> {
            steps
                .map(|s| {
                    let v = value(
                        "loss",
                        (s == 0).then_some("scalars"),
                        float_tensor(1.0 / (s + 1) as f32, true),
                    );
                    summary_event(s, vec![v])
                })
                .collect()
        };
        write_events(&root.join("events.out.tfevents.1.a"), &scalars(0..3));
        write_events(&root.join("events.out.tfevents.2.a"), &scalars(3..5));
        let mut train = vec![
            event(0, event::What::GraphDef(vec![1, 2, 3])),
            summary_event(
                0,
                vec![value("w", None, ValueKind::Histo(Default::default()))],
            ),
            summary_event(10, vec![value("acc", None, ValueKind::SimpleValue(0.75))]),
            summary_event(
                20,
                vec![value("w", None, ValueKind::Histo(Default::default()))],
            ),
        ];
        write_events(&root.join("train/sub/x.tfevents.y"), &train);
        // A torn file in its own run, and a file ignored for its name.
        train.truncate(2);
        let bytes = encode(&train);
        std::fs::write(
            root.join("train/events.out.tfevents.torn"),
            &bytes[..bytes.len() - 2],
        )
        .unwrap();
        std::fs::write(root.join("train/notes.txt"), b"ignored").unwrap();

        let logdir = Logdir::scan(root).unwrap();
        assert_eq!(
            logdir.runs.keys().collect::<Vec<_>>(),
            [".", "train", "train/sub"]
        );
        let run = logdir.run(".").unwrap();
        assert_eq!(
            run.scalars("loss").unwrap(),
            [(0, 1.0), (1, 0.5), (2, 1.0 / 3.0), (3, 0.25), (4, 0.2)]
        );
        let loss = run.series("loss").unwrap();
        assert_eq!((loss.count, loss.first_step, loss.last_step), (5, 0, 4));
        assert!(!run.has_graph());
        let sub = logdir.run("train/sub").unwrap();
        assert!(sub.has_graph());
        assert_eq!(sub.series("w").unwrap().kind, SeriesKind::Histogram);
        assert_eq!(sub.series("w").unwrap().last_step, 20);
        assert_eq!(sub.scalars("acc").unwrap(), [(10, 0.75)]);
        assert_eq!(sub.scalars("w"), None);
        let torn = logdir.run("train").unwrap();
        assert_eq!(torn.files.len(), 1);
        assert_eq!(torn.files[0].events, 1);
        assert!(matches!(torn.files[0].status, FileStatus::TornTail { .. }));

        let table = logdir.to_string();
        let want = format!(
            "\
run        tag      kind       points  steps  last value
.          loss     scalar          5  0..4   0.2
train      (graph)  graph           1
train/sub  acc      scalar          1  10     0.75
train/sub  w        histogram       2  0..20
train/sub  (graph)  graph           1
note: train/events.out.tfevents.torn: ends in a torn record at byte {} (still being written?)
",
            train[0].encoded_len() + 16
        );
        assert_eq!(table, want);
    }

    #[test]
    fn scan_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = Logdir::scan(&missing).unwrap_err();
        assert_eq!(err.path, missing);
        assert_eq!(
            err.to_string(),
            format!("cannot read {}", missing.display())
        );
        assert_eq!(err.source.kind(), io::ErrorKind::NotFound);
        assert!(Logdir::scan(dir.path()).unwrap().is_empty());
    }

    #[test]
    fn a_damaged_file_is_noted_with_its_cause() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("image.tfevents.png"),
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        )
        .unwrap();
        let logdir = Logdir::scan(dir.path()).unwrap();
        let file = &logdir.run(".").unwrap().files[0];
        assert!(matches!(
            file.status,
            FileStatus::Failed(ReadEventError::Record(ReadRecordError::BadLengthCrc {
                offset: 0,
                ..
            }))
        ));
        let table = logdir.to_string();
        let note = table.lines().last().unwrap();
        assert!(
            note.starts_with(
                "error: image.tfevents.png: bad length checksum in the record at byte 0"
            ),
            "{note}"
        );
        assert!(
            note.ends_with("(not a TFRecord file?) (read 0 events before it)"),
            "{note}"
        );
    }

    #[test]
    fn a_single_file_is_a_logdir_of_one_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.out.tfevents.z");
        write_events(
            &path,
            &[summary_event(
                4,
                vec![value("a", None, ValueKind::SimpleValue(1.0))],
            )],
        );
        let logdir = Logdir::scan(&path).unwrap();
        assert_eq!(logdir.run(".").unwrap().scalars("a").unwrap(), [(4, 1.0)]);
        assert_eq!(
            logdir.run(".").unwrap().files[0].path,
            Path::new("events.out.tfevents.z")
        );
    }
}
