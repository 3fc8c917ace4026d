//! The asynchronous [`SummaryWriter`].
//!
//! Design: callers encode each event straight into a byte buffer
//! (`pending`, behind a mutex that is uncontended in the common case and
//! held for a few dozen nanoseconds per scalar). When the buffer holds
//! 256 KiB (or a quarter of the queue capacity in events), the caller that
//! filled it hands it to the writer thread through a bounded channel and
//! takes a recycled empty buffer back. The writer thread writes each batch
//! in one `write` call. So a scalar costs the caller one lock, a clock read
//! and ~50 bytes of encoding, the disk sees few large writes, and the hot
//! path never waits for the writer thread to be scheduled: the thread
//! touches the callers' lock only when the flush interval passes with data
//! still pending, and then only with `try_lock`.
//!
//! Images, histograms and PR curves are computed (PNG-encoded, bucketed) on
//! the calling thread before the lock is taken; only the copy into the
//! buffer happens under it.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[cfg(feature = "png")]
use image::{ImageBuffer, Pixel, PixelWithColorType};
use prost::Message;

#[cfg(feature = "png")]
use super::encode_png;
use super::event_writer::{file_version_event, session_start_event, EventEncoder};
use super::hparams::{HParamValue, SessionStatus};
use super::values::{self, Summary};
use super::{histogram_buckets, pr_curve_counts, SummaryError};
use crate::proto::tensorflow::{event, Event, GraphDef};

/// Default time after which queued events are written and flushed even if
/// nobody calls [`SummaryWriter::flush`]. TensorFlow uses 120 s, which
/// leaves short runs empty on screen; 2 s keeps TensorBoard current at the
/// cost of a write every 2 s.
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(2);

/// Default number of events that may wait in memory before `add_*` calls
/// block until the writer thread catches up: about 50 MB of scalars at
/// most. The writer thread is woken every 256 KiB, so the queue is normally
/// nearly empty; the headroom absorbs the times the thread is not scheduled
/// for a while (a busy machine), which would otherwise stall the caller.
pub const DEFAULT_QUEUE_CAPACITY: usize = 1 << 20;

/// Bytes after which a caller hands its buffer to the writer thread.
const BATCH_BYTES: usize = 256 << 10;

/// Most events in one batch (fewer if the queue capacity is small).
const MAX_BATCH_EVENTS: usize = 8192;

/// Per-process counter in event file names, so two writers created in the
/// same second never pick the same name.
static FILE_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The TensorBoard file name
/// `events.out.tfevents.<10-digit unix secs>.<hostname>.<pid>.<counter><suffix>`.
pub fn event_file_name(
    unix_secs: u64,
    hostname: &str,
    pid: u32,
    counter: u64,
    suffix: &str,
) -> String {
    format!("events.out.tfevents.{unix_secs:010}.{hostname}.{pid}.{counter}{suffix}")
}

fn wall_time() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Options for a [`SummaryWriter`]; from [`SummaryWriter::builder`].
#[derive(Debug, Clone)]
pub struct SummaryWriterBuilder {
    logdir: PathBuf,
    flush_interval: Duration,
    queue_capacity: usize,
    filename_suffix: String,
    purge_step: Option<i64>,
}

impl SummaryWriterBuilder {
    /// How long events may wait in memory before the writer thread writes
    /// and flushes them. By default 2 s.
    /// Intervals under 1 ms are raised to 1 ms.
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// How many events may wait in memory before `add_*` calls block. By
    /// default 1,048,576; at least 1. Events
    /// travel in batches of 256 KiB or `events / 4` events (at most 8,192),
    /// whichever fills first, and at most `events / batch` batches wait; an
    /// event over 256 KiB (a large image) is a batch of its own.
    pub fn queue_capacity(mut self, events: usize) -> Self {
        self.queue_capacity = events.max(1);
        self
    }

    /// Text appended to the file name (TensorFlow uses `.v2`). Empty by
    /// default.
    pub fn filename_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.filename_suffix = suffix.into();
        self
    }

    /// Marks this file as the restart of a run at `step`: right after the
    /// `file_version` record the writer writes a `SessionLog START` event at
    /// that step. TensorBoard's loader then drops the points at `step` and
    /// after that earlier files of the same run hold (those a crashed run
    /// logged after its last checkpoint), so a resumed run shows one curve
    /// per tag instead of a zig-zag. This is tensorboardX's `purge_step`.
    /// Unset by default.
    pub fn purge_step(mut self, step: i64) -> Self {
        self.purge_step = Some(step);
        self
    }

    /// Creates the log directory (and its parents), creates a new event
    /// file in it (never overwriting or appending to an existing one),
    /// writes and flushes the `file_version` record, and starts the writer
    /// thread.
    pub fn build(self) -> Result<SummaryWriter, SummaryError> {
        fs::create_dir_all(&self.logdir).map_err(|e| SummaryError::CreateDir {
            path: self.logdir.clone(),
            source: Arc::new(e),
        })?;
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let host = gethostname::gethostname();
        let name = event_file_name(
            secs,
            &host.to_string_lossy(),
            std::process::id(),
            FILE_COUNTER.fetch_add(1, Ordering::Relaxed),
            &self.filename_suffix,
        );
        let path = self.logdir.join(name);
        let file = create_new(&path)?;
        // The directory entry of the new file is made durable with the
        // first `sync`, not here: creating a writer stays cheap.
        let logdir = self.logdir.clone();
        let mut dir_synced = false;
        self.spawn(file, path, move |file: &mut File| {
            file.sync_data()?;
            if !dir_synced {
                File::open(&logdir)?.sync_all()?;
                dir_synced = true;
            }
            Ok(())
        })
    }

    /// Like [`SummaryWriterBuilder::build`] but writes to `writer` instead
    /// of a new file in the log directory (which is then not used). `label`
    /// names the destination in errors. For tests and special sinks; the
    /// writer is driven by the background thread, so it should not buffer
    /// much itself: writes arrive in batches of hundreds of KiB.
    /// [`SummaryWriter::sync`] only flushes such a writer.
    pub fn build_with_writer<W: Write + Send + 'static>(
        self,
        writer: W,
        label: impl Into<PathBuf>,
    ) -> Result<SummaryWriter, SummaryError> {
        self.spawn(writer, label.into(), |_: &mut W| Ok(()))
    }

    /// Writes the file's first records and starts the writer thread;
    /// `sync` makes what was flushed durable.
    fn spawn<W, S>(
        self,
        mut writer: W,
        path: PathBuf,
        sync: S,
    ) -> Result<SummaryWriter, SummaryError>
    where
        W: Write + Send + 'static,
        S: FnMut(&mut W) -> std::io::Result<()> + Send + 'static,
    {
        let mut first = Vec::with_capacity(64);
        let mut encoder = EventEncoder::new();
        let now = wall_time();
        encoder.event_record(&mut first, &file_version_event(now));
        if let Some(step) = self.purge_step {
            encoder.event_record(&mut first, &session_start_event(now, step));
        }
        writer.write_all(&first).map_err(|e| SummaryError::Write {
            path: path.clone(),
            source: Arc::new(e),
        })?;
        writer.flush().map_err(|e| SummaryError::Flush {
            path: path.clone(),
            source: Arc::new(e),
        })?;
        // The queue is a channel of batches: `batch_events` events per
        // batch at most, and enough batches in flight for `queue_capacity`
        // events (about 50 MB of scalars with the defaults; an event over
        // 256 KiB, such as a large image, is a batch of its own).
        let batch_events = (self.queue_capacity / 4).clamp(1, MAX_BATCH_EVENTS);
        let max_batches = self.queue_capacity.div_ceil(batch_events);
        let (sender, receiver) = mpsc::sync_channel(max_batches);
        let (recycle, recycled) = mpsc::channel();
        let shared = Arc::new(Shared {
            error: OnceLock::new(),
            path: path.clone(),
            state: Mutex::new(State {
                encoder,
                pending: Vec::with_capacity(BATCH_BYTES + (BATCH_BYTES >> 2)),
                pending_events: 0,
                sender: Some(sender),
                recycled,
            }),
        });
        let worker_shared = Arc::clone(&shared);
        let interval = self.flush_interval;
        let worker = std::thread::Builder::new()
            .name("tbseg-summary".into())
            .spawn(move || run_worker(&worker_shared, receiver, recycle, writer, sync, interval))
            .map_err(|e| SummaryError::Spawn {
                path: path.clone(),
                source: Arc::new(e),
            })?;
        Ok(SummaryWriter {
            shared,
            worker: Mutex::new(Some(worker)),
            path,
            batch_events,
        })
    }
}

fn create_new(path: &Path) -> Result<File, SummaryError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| SummaryError::CreateFile {
            path: path.to_owned(),
            source: Arc::new(e),
        })
}

/// Writes one TensorBoard event file (one "run") from a background thread.
///
/// All methods take `&self`, so the writer can be shared between threads
/// (in an `Arc`). Every `add_*` call takes an explicit step: TensorBoard
/// keeps only the last value written at or after a given step, so logging
/// without increasing steps loses data. Each event gets the current wall
/// time.
///
/// Errors: an I/O failure in the writer thread is returned by the next
/// `add_*`, [`SummaryWriter::flush`] or [`SummaryWriter::close`] call, and
/// by every call after it (the writer stays failed). A rejected argument
/// (mismatched lengths, an image that cannot be encoded) returns an error
/// for that call only. Nothing panics.
///
/// Dropping the writer flushes and closes it, ignoring errors; call
/// [`SummaryWriter::close`] to see them.
pub struct SummaryWriter {
    shared: Arc<Shared>,
    worker: Mutex<Option<JoinHandle<()>>>,
    path: PathBuf,
    batch_events: usize,
}

/// What callers and the writer thread share.
struct Shared {
    /// The first I/O error; once set, every call returns it.
    error: OnceLock<SummaryError>,
    path: PathBuf,
    state: Mutex<State>,
}

/// The callers' side, behind the lock.
struct State {
    encoder: EventEncoder,
    /// Framed records not yet handed to the writer thread.
    pending: Vec<u8>,
    pending_events: usize,
    /// `None` once closed.
    sender: Option<SyncSender<Msg>>,
    /// Empty buffers coming back from the writer thread.
    recycled: Receiver<Vec<u8>>,
}

/// Work for the writer thread, in file order.
enum Msg {
    /// Framed records to write.
    Data(Vec<u8>),
    /// Flush the file, then answer (after every earlier message).
    Flush(SyncSender<()>),
    /// Flush the file and make it durable, then answer.
    Sync(SyncSender<()>),
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // No code panics while holding the lock; if something did, the
        // state is still consistent enough to report errors.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The stored I/O error, if any.
    fn check(&self) -> Result<(), SummaryError> {
        match self.error.get() {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    fn closed(&self) -> SummaryError {
        SummaryError::Closed {
            path: self.path.clone(),
        }
    }

    /// The error to report when the writer thread is gone unexpectedly.
    fn worker_gone(&self) -> SummaryError {
        self.error
            .get()
            .cloned()
            .unwrap_or_else(|| SummaryError::WorkerPanicked {
                path: self.path.clone(),
            })
    }

    fn fail(&self, error: SummaryError) {
        let _ = self.error.set(error);
    }
}

impl State {
    /// Hands the pending records (if any) to the writer thread, blocking
    /// while the queue is full.
    fn send_pending(&mut self, shared: &Shared) -> Result<(), SummaryError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let Some(sender) = &self.sender else {
            return Err(shared.closed());
        };
        let fresh = self
            .recycled
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BATCH_BYTES + (BATCH_BYTES >> 2)));
        let batch = std::mem::replace(&mut self.pending, fresh);
        self.pending_events = 0;
        sender
            .send(Msg::Data(batch))
            .map_err(|_| shared.worker_gone())
    }
}

/// The writer thread: writes batches in order, flushes on request and when
/// the flush interval has passed, and collects what callers left pending
/// when they go quiet.
fn run_worker<W: Write>(
    shared: &Shared,
    receiver: Receiver<Msg>,
    recycle: mpsc::Sender<Vec<u8>>,
    mut out: W,
    mut sync: impl FnMut(&mut W) -> std::io::Result<()>,
    interval: Duration,
) {
    let mut last_flush = Instant::now();
    let mut unflushed = false;
    let mut work = Vec::new();
    loop {
        let wait = interval.saturating_sub(last_flush.elapsed());
        match receiver.recv_timeout(wait) {
            Ok(msg) => work.push(msg),
            Err(RecvTimeoutError::Timeout) => {
                // Callers are quiet (or busy right now, in which case their
                // batches will come through the channel anyway). Under
                // their lock nothing can be sent, so whatever is in the
                // channel is older than `pending`.
                if let Ok(mut state) = shared.state.try_lock() {
                    while let Ok(msg) = receiver.try_recv() {
                        work.push(msg);
                    }
                    if !state.pending.is_empty() {
                        let fresh = state.recycled.try_recv().unwrap_or_default();
                        work.push(Msg::Data(std::mem::replace(&mut state.pending, fresh)));
                        state.pending_events = 0;
                    }
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                if shared.error.get().is_none() {
                    if let Err(e) = out.flush() {
                        shared.fail(SummaryError::Flush {
                            path: shared.path.clone(),
                            source: Arc::new(e),
                        });
                    }
                }
                return;
            }
        }
        for msg in work.drain(..) {
            match msg {
                Msg::Data(mut batch) => {
                    if shared.error.get().is_none() {
                        if let Err(e) = out.write_all(&batch) {
                            shared.fail(SummaryError::Write {
                                path: shared.path.clone(),
                                source: Arc::new(e),
                            });
                        }
                        unflushed = true;
                    }
                    batch.clear();
                    let _ = recycle.send(batch);
                }
                Msg::Flush(reply) => {
                    flush_now(shared, &mut out, &mut unflushed, &mut last_flush, true);
                    let _ = reply.send(());
                }
                Msg::Sync(reply) => {
                    flush_now(shared, &mut out, &mut unflushed, &mut last_flush, true);
                    if shared.error.get().is_none() {
                        if let Err(e) = sync(&mut out) {
                            shared.fail(SummaryError::Sync {
                                path: shared.path.clone(),
                                source: Arc::new(e),
                            });
                        }
                    }
                    let _ = reply.send(());
                }
            }
        }
        if last_flush.elapsed() >= interval {
            flush_now(shared, &mut out, &mut unflushed, &mut last_flush, false);
        }
    }
}

fn flush_now<W: Write>(
    shared: &Shared,
    out: &mut W,
    unflushed: &mut bool,
    last_flush: &mut Instant,
    always: bool,
) {
    if (*unflushed || always) && shared.error.get().is_none() {
        if let Err(e) = out.flush() {
            shared.fail(SummaryError::Flush {
                path: shared.path.clone(),
                source: Arc::new(e),
            });
        }
    }
    *unflushed = false;
    *last_flush = Instant::now();
}

impl SummaryWriter {
    /// Options for a writer of a new event file in `logdir`.
    pub fn builder(logdir: impl Into<PathBuf>) -> SummaryWriterBuilder {
        SummaryWriterBuilder {
            logdir: logdir.into(),
            flush_interval: DEFAULT_FLUSH_INTERVAL,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            filename_suffix: String::new(),
            purge_step: None,
        }
    }

    /// A writer of a new event file in `logdir` with default options
    /// (see [`SummaryWriterBuilder`]).
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
        &self.path
    }

    /// Logs a scalar: a DT_FLOAT rank-0 tensor, with the `scalars` plugin
    /// metadata on the tag's first value in this file. NaN and infinities
    /// are written as they are.
    pub fn add_scalar(&self, tag: &str, value: f32, step: i64) -> Result<(), SummaryError> {
        let wall_time = wall_time();
        self.push(|encoder, out| encoder.scalar_record(out, wall_time, step, tag, value))
    }

    /// Logs every value of `summary` in one event at `step` (see
    /// [`crate::summary::values`]). Metadata is kept only on a tag's first
    /// value in this file.
    pub fn add_summary(&self, summary: Summary, step: i64) -> Result<(), SummaryError> {
        let wall_time = wall_time();
        self.push(|encoder, out| encoder.summary_record(out, wall_time, step, summary))
    }

    pub(crate) fn add_value(&self, value: values::Value, step: i64) -> Result<(), SummaryError> {
        self.add_summary(Summary { value: vec![value] }, step)
    }

    #[cfg(feature = "png")]
    /// Logs an 8-bit image (`GrayImage`, `RgbImage`, `RgbaImage`, ...),
    /// PNG-encoded on the calling thread, in the v2 form
    /// `[width, height, png]` (plugin `images`).
    pub fn add_image<P>(
        &self,
        tag: &str,
        image: &ImageBuffer<P, Vec<u8>>,
        step: i64,
    ) -> Result<(), SummaryError>
    where
        P: Pixel<Subpixel = u8> + PixelWithColorType,
    {
        let png = encode_png(image).map_err(|e| SummaryError::ImageEncode {
            tag: tag.to_owned(),
            message: e.to_string(),
        })?;
        self.add_png(tag, image.width(), image.height(), png, step)
    }

    #[cfg(feature = "png")]
    /// Logs several images of one size under one tag, at one step
    /// (TensorBoard shows a sample slider). Images of different sizes, or
    /// none, are an [`SummaryError::InvalidArgument`] and nothing is written.
    pub fn add_images<P>(
        &self,
        tag: &str,
        images: &[ImageBuffer<P, Vec<u8>>],
        step: i64,
    ) -> Result<(), SummaryError>
    where
        P: Pixel<Subpixel = u8> + PixelWithColorType,
    {
        let invalid = |reason: String| SummaryError::InvalidArgument {
            tag: tag.to_owned(),
            what: "images",
            reason,
        };
        let first = images.first().ok_or_else(|| invalid("no images".into()))?;
        let size = first.dimensions();
        let mut pngs = Vec::with_capacity(images.len());
        for (index, image) in images.iter().enumerate() {
            if image.dimensions() != size {
                return Err(invalid(format!(
                    "image {index} is {}x{}, image 0 is {}x{}",
                    image.width(),
                    image.height(),
                    size.0,
                    size.1
                )));
            }
            pngs.push(encode_png(image).map_err(|e| SummaryError::ImageEncode {
                tag: tag.to_owned(),
                message: e.to_string(),
            })?);
        }
        self.add_value(values::images(tag, size.0, size.1, pngs), step)
    }

    /// Logs an already PNG-encoded image of the given size.
    pub fn add_png(
        &self,
        tag: &str,
        width: u32,
        height: u32,
        png: Vec<u8>,
        step: i64,
    ) -> Result<(), SummaryError> {
        self.add_value(values::image(tag, width, height, png), step)
    }

    /// Logs a histogram of `values` (30 equal-width buckets between the
    /// finite minimum and maximum; NaN and ±inf are skipped; see
    /// [`crate::summary::histogram_buckets`]).
    pub fn add_histogram(&self, tag: &str, values: &[f32], step: i64) -> Result<(), SummaryError> {
        let buckets = histogram_buckets(values.iter().map(|&v| f64::from(v)));
        self.add_value(values::histogram(tag, &buckets), step)
    }

    /// [`SummaryWriter::add_histogram`] for f64 values.
    pub fn add_histogram_f64(
        &self,
        tag: &str,
        values: &[f64],
        step: i64,
    ) -> Result<(), SummaryError> {
        let buckets = histogram_buckets(values.iter().copied());
        self.add_value(values::histogram(tag, &buckets), step)
    }

    /// Logs Markdown text (plugin `text`).
    pub fn add_text(&self, tag: &str, markdown: &str, step: i64) -> Result<(), SummaryError> {
        self.add_value(values::text(tag, markdown), step)
    }

    /// Logs a precision-recall curve over `num_thresholds` thresholds
    /// (2 to [`crate::summary::MAX_PR_THRESHOLDS`]; TensorBoard's
    /// computation, see [`crate::summary::pr_curve_counts`]).
    pub fn add_pr_curve(
        &self,
        tag: &str,
        labels: &[bool],
        predictions: &[f32],
        num_thresholds: u32,
        step: i64,
    ) -> Result<(), SummaryError> {
        let curve =
            pr_curve_counts(labels, predictions, num_thresholds).map_err(|(what, reason)| {
                SummaryError::InvalidArgument {
                    tag: tag.to_owned(),
                    what,
                    reason,
                }
            })?;
        self.add_value(values::pr_curve(tag, &curve), step)
    }

    /// Logs the model graph (`Event.graph_def`, step 0; see
    /// [`crate::summary::GraphBuilder`]).
    pub fn add_graph(&self, graph: &GraphDef) -> Result<(), SummaryError> {
        let event = Event {
            wall_time: wall_time(),
            step: 0,
            what: Some(event::What::GraphDef(graph.encode_to_vec())),
            ..Default::default()
        };
        self.push(|encoder, out| encoder.event_record(out, &event))
    }

    /// Records this run's hyperparameters for the HParams dashboard: one
    /// `_hparams_/session_start_info` summary at step 0. Log the metrics as
    /// ordinary scalars of this writer; TensorBoard pairs them with the
    /// hyperparameters by run. `group_name` groups runs of the same
    /// configuration (repeats with other seeds); `None` gives each run its
    /// own group. Call once per writer.
    pub fn add_hparams(
        &self,
        hparams: &BTreeMap<String, HParamValue>,
        group_name: Option<&str>,
    ) -> Result<(), SummaryError> {
        self.add_value(
            values::hparams_session_start(hparams, group_name, wall_time()),
            0,
        )
    }

    /// Records how the run ended (`_hparams_/session_end_info`), after
    /// [`SummaryWriter::add_hparams`].
    pub fn end_hparams(&self, status: SessionStatus) -> Result<(), SummaryError> {
        self.add_value(values::hparams_session_end(status, wall_time()), 0)
    }

    /// Queues one event encoded by `encode` (which appends one framed
    /// record).
    fn push(
        &self,
        encode: impl FnOnce(&mut EventEncoder, &mut Vec<u8>),
    ) -> Result<(), SummaryError> {
        let shared = &*self.shared;
        let mut state = shared.lock();
        shared.check()?;
        if state.sender.is_none() {
            return Err(shared.closed());
        }
        let State {
            encoder, pending, ..
        } = &mut *state;
        encode(encoder, pending);
        state.pending_events += 1;
        if state.pending.len() >= BATCH_BYTES || state.pending_events >= self.batch_events {
            state.send_pending(shared)?;
        }
        Ok(())
    }

    /// Returns once every event queued before the call is written to the
    /// file and the file is flushed, or with the writer's error.
    ///
    /// After `flush` the events are in the operating system's hands: a
    /// killed process (even SIGKILL) loses none of them, a power cut or
    /// kernel crash may. [`SummaryWriter::sync`] covers those too.
    pub fn flush(&self) -> Result<(), SummaryError> {
        self.round_trip(Msg::Flush)
    }

    /// Like [`SummaryWriter::flush`], then makes the file durable
    /// (`fsync` of the file, and of its directory the first time, as
    /// TensorFlow's writer does), so the events survive a power cut.
    /// Costs a disk round trip (milliseconds); call it at checkpoints and
    /// before exiting, not every step. What a crash can lose: events
    /// logged since the last `flush`/`sync` or flush interval (default
    /// 2 s) on SIGKILL; since the last `sync` on a power cut.
    pub fn sync(&self) -> Result<(), SummaryError> {
        self.round_trip(Msg::Sync)
    }

    /// Sends everything pending, then `message`, and waits for the writer
    /// thread's answer.
    fn round_trip(&self, message: fn(SyncSender<()>) -> Msg) -> Result<(), SummaryError> {
        let shared = &*self.shared;
        let (reply, done) = mpsc::sync_channel(1);
        {
            let mut state = shared.lock();
            shared.check()?;
            state.send_pending(shared)?;
            let Some(sender) = &state.sender else {
                return Err(shared.closed());
            };
            sender
                .send(message(reply))
                .map_err(|_| shared.worker_gone())?;
        }
        done.recv().map_err(|_| shared.worker_gone())?;
        shared.check()
    }

    /// Writes and flushes everything queued, stops the writer thread and
    /// closes the file. Later `add_*` calls return
    /// [`SummaryError::Closed`]. Returns the writer's I/O error, if any
    /// (also on repeated calls).
    pub fn close(&self) -> Result<(), SummaryError> {
        let shared = &*self.shared;
        let mut sent = Ok(());
        {
            let mut state = shared.lock();
            if state.sender.is_some() {
                sent = state.send_pending(shared);
                // Dropping the only sender lets the thread finish.
                state.sender = None;
            }
        }
        let handle = self
            .worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = handle {
            if handle.join().is_err() {
                shared.fail(SummaryError::WorkerPanicked {
                    path: self.path.clone(),
                });
            }
        }
        shared.check()?;
        sent
    }
}

impl std::fmt::Debug for SummaryWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("SummaryWriter")
            .field("path", &self.path)
            .field("pending_events", &state.pending_events)
            .field("closed", &state.sender.is_none())
            .field("error", &self.shared.error.get())
            .finish()
    }
}

impl Drop for SummaryWriter {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(feature = "png")]
    use crate::proto::tensorflow::summary;
    use std::io;

    /// A sink that accepts `budget` bytes, then fails every write.
    struct FailAfter {
        budget: usize,
        written: Arc<Mutex<Vec<u8>>>,
    }

    impl Write for FailAfter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if buf.len() > self.budget {
                return Err(io::Error::new(
                    io::ErrorKind::StorageFull,
                    "injected: disk full",
                ));
            }
            self.budget -= buf.len();
            self.written.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn events_in(bytes: &[u8]) -> Vec<Event> {
        crate::summary::event_writer::tests::records(bytes)
            .iter()
            .map(|p| Event::decode(p.as_slice()).unwrap())
            .collect()
    }

    fn read_events(path: &Path) -> Vec<Event> {
        events_in(&fs::read(path).unwrap())
    }

    #[test]
    fn file_name_scheme() {
        assert_eq!(
            event_file_name(12345, "host", 42, 3, ".v2"),
            "events.out.tfevents.0000012345.host.42.3.v2"
        );
    }

    #[test]
    fn creates_logdir_and_a_new_named_file_per_writer() {
        let dir = tempfile::tempdir().unwrap();
        let logdir = dir.path().join("a/b/run");
        let w1 = SummaryWriter::builder(&logdir)
            .filename_suffix(".x")
            .build()
            .unwrap();
        let w2 = SummaryWriter::new(&logdir).unwrap();
        assert_ne!(w1.path(), w2.path());
        let name = w1.path().file_name().unwrap().to_str().unwrap().to_owned();
        let parts: Vec<&str> = name.split('.').collect();
        assert_eq!(&parts[..3], ["events", "out", "tfevents"]);
        assert_eq!(parts[3].len(), 10);
        assert!(parts[3].bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(parts[parts.len() - 3], std::process::id().to_string());
        assert!(name.ends_with(".x"));
        // The file_version record is on disk at once.
        let events = read_events(w1.path());
        assert_eq!(events.len(), 1);
        assert_eq!(
            events[0].what,
            Some(event::What::FileVersion("brain.Event:2".into()))
        );
        assert!(events[0].wall_time > 1.6e9);
    }

    #[test]
    fn create_new_never_clobbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.out.tfevents.1");
        fs::write(&path, b"keep").unwrap();
        let err = create_new(&path).unwrap_err();
        assert_eq!(err.io_kind(), Some(io::ErrorKind::AlreadyExists));
        assert!(matches!(err, SummaryError::CreateFile { .. }));
        assert_eq!(fs::read(&path).unwrap(), b"keep");
    }

    #[test]
    fn flush_puts_every_event_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::builder(dir.path())
            .flush_interval(Duration::from_secs(3600))
            .queue_capacity(1000)
            .build()
            .unwrap();
        for step in 0..5000 {
            writer.add_scalar("loss", step as f32, step).unwrap();
        }
        writer.add_text("notes", "done", 4999).unwrap();
        writer.flush().unwrap();
        let events = read_events(writer.path());
        assert_eq!(events.len(), 5002);
        for (i, e) in events[1..5001].iter().enumerate() {
            assert_eq!(e.step, i as i64);
        }
        // Metadata on the first `loss` only.
        let meta = |e: &Event| match &e.what {
            Some(event::What::Summary(s)) => s.value[0].metadata.is_some(),
            _ => panic!(),
        };
        assert!(meta(&events[1]));
        assert!(events[2..5001].iter().all(|e| !meta(e)));
        writer.close().unwrap();
        assert_eq!(read_events(writer.path()).len(), 5002);
    }

    #[test]
    fn purge_step_writes_session_start_after_the_file_version() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::builder(dir.path())
            .purge_step(1200)
            .build()
            .unwrap();
        writer.add_scalar("loss", 0.5, 1200).unwrap();
        writer.close().unwrap();
        let events = read_events(writer.path());
        assert_eq!(events.len(), 3);
        assert!(matches!(events[0].what, Some(event::What::FileVersion(_))));
        assert_eq!(events[1].step, 1200);
        match &events[1].what {
            Some(event::What::SessionLog(log)) => {
                assert_eq!(
                    log.status,
                    crate::proto::tensorflow::session_log::SessionStatus::Start as i32
                )
            }
            other => panic!("expected a SessionLog, got {other:?}"),
        }
        assert_eq!(events[2].step, 1200);
    }

    #[test]
    fn sync_puts_every_event_on_disk_and_fails_on_a_full_disk() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::builder(dir.path())
            .flush_interval(Duration::from_secs(3600))
            .build()
            .unwrap();
        for step in 0..100 {
            writer.add_scalar("loss", step as f32, step).unwrap();
        }
        writer.sync().unwrap();
        assert_eq!(read_events(writer.path()).len(), 101);
        writer.close().unwrap();

        // A caller-supplied writer that fails: sync reports it, and the
        // writer stays failed.
        let sink = FailAfter {
            budget: 64,
            written: Arc::default(),
        };
        let writer = SummaryWriter::with_writer(sink, "sink").unwrap();
        writer.add_text("notes", &"x".repeat(1000), 1).unwrap();
        let err = writer.sync().unwrap_err();
        assert!(err.is_fatal(), "{err}");
        assert!(writer.add_scalar("x", 1.0, 2).is_err());
    }

    #[test]
    fn flush_interval_writes_without_flush() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::builder(dir.path())
            .flush_interval(Duration::from_millis(20))
            .build()
            .unwrap();
        writer.add_scalar("x", 1.0, 1).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while read_events(writer.path()).len() < 2 {
            assert!(Instant::now() < deadline, "event never reached the file");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn drop_flushes() {
        let dir = tempfile::tempdir().unwrap();
        let path = {
            let writer = SummaryWriter::new(dir.path()).unwrap();
            writer.add_scalar("x", 1.0, 1).unwrap();
            writer.path().to_owned()
        };
        assert_eq!(read_events(&path).len(), 2);
    }

    #[test]
    fn io_error_surfaces_on_the_next_call_and_sticks() {
        let written = Arc::new(Mutex::new(Vec::new()));
        let sink = FailAfter {
            budget: 200,
            written: Arc::clone(&written),
        };
        let writer = SummaryWriter::with_writer(sink, "fake-disk").unwrap();
        for step in 0..20 {
            // Queued in memory: no error yet.
            writer.add_scalar("x", 0.5, step).unwrap();
        }
        let err = writer.flush().unwrap_err();
        assert!(matches!(err, SummaryError::Write { .. }), "{err}");
        assert_eq!(err.io_kind(), Some(io::ErrorKind::StorageFull));
        assert_eq!(err.path(), Some(Path::new("fake-disk")));
        assert!(err.to_string().contains("fake-disk"));
        let again = writer.add_scalar("x", 0.5, 21).unwrap_err();
        assert!(matches!(again, SummaryError::Write { .. }));
        assert!(writer.flush().is_err());
        assert!(writer.close().is_err());
        // Only the file_version record made it.
        assert_eq!(events_in(&written.lock().unwrap()).len(), 1);
    }

    #[test]
    fn dev_full_fails_cleanly() {
        let Ok(file) = OpenOptions::new().write(true).open("/dev/full") else {
            return; // not on Linux
        };
        let err = SummaryWriter::with_writer(file, "/dev/full").unwrap_err();
        assert!(
            matches!(err, SummaryError::Write { .. } | SummaryError::Flush { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("/dev/full"));
    }

    #[test]
    fn uncreatable_logdir_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        fs::write(&blocker, b"").unwrap();
        let err = SummaryWriter::new(blocker.join("run")).unwrap_err();
        assert!(matches!(err, SummaryError::CreateDir { .. }), "{err}");
        assert_eq!(err.path(), Some(blocker.join("run").as_path()));
    }

    #[test]
    fn read_only_logdir_is_an_error() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let ro = dir.path().join("ro");
        fs::create_dir(&ro).unwrap();
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
        // Root ignores permission bits (CI runs as root); /proc/self is a
        // directory that refuses new files to everyone.
        let logdir = if fs::write(ro.join("probe"), b"").is_ok() {
            std::path::PathBuf::from("/proc/self")
        } else {
            ro
        };
        let err = SummaryWriter::new(&logdir).unwrap_err();
        assert!(matches!(err, SummaryError::CreateFile { .. }), "{err}");
        assert!(err.to_string().contains(logdir.to_str().unwrap()), "{err}");
    }

    #[test]
    fn closed_writer_refuses_events() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::new(dir.path()).unwrap();
        writer.close().unwrap();
        writer.close().unwrap();
        let err = writer.add_scalar("x", 1.0, 0).unwrap_err();
        assert!(matches!(err, SummaryError::Closed { .. }));
        assert!(matches!(writer.flush(), Err(SummaryError::Closed { .. })));
    }

    #[test]
    fn bad_arguments_do_not_break_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::new(dir.path()).unwrap();
        let err = writer
            .add_pr_curve("pr", &[true], &[0.5, 0.1], 10, 0)
            .unwrap_err();
        assert!(!err.is_fatal());
        writer.add_scalar("x", 1.0, 0).unwrap();
        writer.close().unwrap();
        assert_eq!(read_events(writer.path()).len(), 2);
    }

    #[test]
    #[cfg(feature = "png")]
    fn several_images_go_under_one_tag_and_sizes_must_match() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::new(dir.path()).unwrap();
        let shade = |v: u8| image::GrayImage::from_pixel(3, 2, image::Luma([v]));
        writer
            .add_images("set", &[shade(10), shade(200)], 4)
            .unwrap();
        let odd = image::GrayImage::new(2, 2);
        let err = writer.add_images("set", &[shade(1), odd], 5).unwrap_err();
        assert!(!err.is_fatal());
        assert!(
            err.to_string().contains("image 1 is 2x2, image 0 is 3x2"),
            "{err}"
        );
        let none: [image::GrayImage; 0] = [];
        assert!(writer.add_images("set", &none, 6).is_err());
        writer.close().unwrap();

        let summaries: Vec<_> = read_events(writer.path())
            .into_iter()
            .filter_map(|e| match e.what {
                Some(event::What::Summary(s)) => Some((e.step, s)),
                _ => None,
            })
            .collect();
        assert_eq!(summaries.len(), 1, "the rejected calls wrote nothing");
        let (step, summary) = &summaries[0];
        assert_eq!(*step, 4);
        let Some(summary::value::Value::Tensor(t)) = &summary.value[0].value else {
            panic!("not a tensor")
        };
        assert_eq!(t.string_val.len(), 4);
        assert_eq!(t.string_val[..2], [b"3".to_vec(), b"2".to_vec()]);
        for (png, shade) in t.string_val[2..].iter().zip([10u8, 200]) {
            let decoded = image::load_from_memory(png).unwrap().to_luma8();
            assert_eq!(decoded.dimensions(), (3, 2));
            assert!(decoded.pixels().all(|p| p.0 == [shade]));
        }
    }

    #[test]
    #[cfg(feature = "png")]
    fn all_kinds_round_trip_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::builder(dir.path())
            .queue_capacity(2)
            .build()
            .unwrap();
        let img = image::GrayImage::from_fn(3, 2, |x, y| image::Luma([(x + 3 * y) as u8 * 40]));
        writer.add_image("gray", &img, 1).unwrap();
        writer.add_histogram("h", &[1.0, 2.0, 3.0], 1).unwrap();
        writer
            .add_pr_curve("pr", &[true, false], &[0.9, 0.1], 3, 1)
            .unwrap();
        let mut graph = crate::summary::GraphBuilder::new();
        graph.add_node(crate::summary::Node::new("a", "Op"));
        writer.add_graph(&graph.into_graph_def()).unwrap();
        let mut hp = BTreeMap::new();
        hp.insert("lr".to_owned(), HParamValue::Float(0.1));
        writer.add_hparams(&hp, None).unwrap();
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
        let Some(summary::value::Value::Tensor(t)) = &s.value[0].value else {
            panic!()
        };
        let png = image::load_from_memory(&t.string_val[2])
            .unwrap()
            .into_luma8();
        assert_eq!(png, img);
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
    fn shared_between_threads() {
        let dir = tempfile::tempdir().unwrap();
        let writer = Arc::new(
            SummaryWriter::builder(dir.path())
                .queue_capacity(64)
                .build()
                .unwrap(),
        );
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = Arc::clone(&writer);
                std::thread::spawn(move || {
                    for step in 0..1000 {
                        writer.add_scalar(&format!("t{t}"), 1.0, step).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        writer.flush().unwrap();
        assert_eq!(read_events(writer.path()).len(), 4001);
    }
}
