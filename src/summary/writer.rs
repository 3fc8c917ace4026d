//! The asynchronous [`SummaryWriter`].
//!
//! Design: callers encode each event straight into a byte buffer
//! (`pending`, behind a mutex that is uncontended in the common case and
//! held for a few dozen nanoseconds per scalar). When the buffer holds
//! 256 KiB (or a quarter of the queue bound), the caller that filled it
//! hands it to the writer thread through a channel and takes a recycled
//! empty buffer back. The writer thread writes each batch in one `write`
//! call. So a scalar costs the caller one lock, a clock read and ~50 bytes
//! of encoding, the disk sees few large writes, and the hot path never
//! waits for the writer thread to be scheduled: the thread touches the
//! callers' lock only when the flush interval passes with data still
//! pending, and then only with `try_lock`.
//!
//! The queue is bounded in bytes, not events: a caller handing over a
//! batch waits while the batches not yet written hold more than the bound,
//! so a loop logging large images faster than the disk takes them cannot
//! exhaust memory.
//!
//! Images, histograms and PR curves are computed (PNG-encoded, bucketed) on
//! the calling thread before the lock is taken; only the copy into the
//! buffer happens under it.

use std::collections::{btree_map, BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prost::Message;

use super::event_writer::{file_version_event, restart_events, EventEncoder};
use super::histogram::{bucket_values, Bins};
use super::hparams::{HParamValue, Metric, SessionStatus, SESSION_START_TAG};
#[cfg(feature = "png")]
use super::image::{check_layout, BatchLayout, GridOptions, Image, ImageLayout, PixelValue};
use super::inputs::{Scalar, Step};
use super::multi_scalars::SubRuns;
use super::pairs::{HParamPair, ScalarPair};
use super::pr_curve::{pr_curve_weighted, PrCurveOptions, PrLabel};
use super::values::{self, Summary};
use super::SummaryError;
use crate::proto::tensorflow::{event, Event, GraphDef};
use crate::storage::Location;

/// Default time after which queued events are written and flushed even if
/// nobody calls [`SummaryWriter::flush`]. TensorFlow uses 120 s, which
/// leaves short runs empty on screen; 2 s keeps TensorBoard current at the
/// cost of a write every 2 s.
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(2);

/// Default bound on the bytes of encoded events waiting for the writer
/// thread: 64 MiB (over a million scalars, or a few hundred 256×256 RGB
/// images). The writer thread is woken every 256 KiB, so the queue is
/// normally nearly empty; the headroom absorbs the times the thread is not
/// scheduled for a while (a busy machine), which would otherwise stall the
/// caller.
pub const DEFAULT_MAX_QUEUE_BYTES: usize = 64 << 20;

/// Bytes after which a caller hands its buffer to the writer thread (less
/// if the queue bound is small).
const BATCH_BYTES: usize = 256 << 10;

/// Per-process counter in event file names, so two writers created in the
/// same second never pick the same name.
static FILE_COUNTER: AtomicU64 = AtomicU64::new(0);

/// How many names [`create_event_file`] tries before giving up (each
/// collision means another writer took the name a moment ago).
const NAME_ATTEMPTS: u32 = 1000;

/// The TensorBoard file name
/// `events.out.tfevents.<10-digit unix secs>.<hostname>.<pid>.<counter><suffix>`.
pub fn event_file_name(
    unix_secs: u64,
    hostname: &str,
    pid: u32,
    counter: u64,
    suffix: &str,
) -> String {
    format!("{EVENT_FILE_PREFIX}{unix_secs:010}.{hostname}.{pid}.{counter}{suffix}")
}

/// How every name [`event_file_name`] makes begins.
const EVENT_FILE_PREFIX: &str = "events.out.tfevents.";

/// Whether `name` (a file name, not a path) is one [`event_file_name`]
/// makes: an event file a [`SummaryWriter`] created, or a segment of one
/// on an object store. For callers that tell a run's files from others in
/// the same folder without re-deriving the naming scheme.
pub fn is_event_file_name(name: &str) -> bool {
    name.starts_with(EVENT_FILE_PREFIX)
}

/// This machine's host name for event file names: the kernel's (Linux),
/// else `$HOSTNAME` or `%COMPUTERNAME%`, else `localhost`; characters that
/// cannot appear in a file name are replaced by `_`. Read once.
///
/// Read directly rather than through a crate (`gethostname` pulls in four),
/// since a missing host name only weakens the name's uniqueness across
/// machines, and [`SummaryWriterBuilder::build`] never overwrites a file
/// anyway.
fn hostname() -> &'static str {
    static HOSTNAME: OnceLock<String> = OnceLock::new();
    HOSTNAME.get_or_init(|| {
        let name = fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .or_else(|| std::env::var("COMPUTERNAME").ok())
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "localhost".to_owned());
        name.chars()
            .map(|c| {
                if c.is_control() || matches!(c, '/' | '\\' | ':') {
                    '_'
                } else {
                    c
                }
            })
            .collect()
    })
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// [`Scalar::STORED_AS_DOUBLE`] of a value's type.
fn stored_as_double<V: Scalar>(_: &V) -> bool {
    V::STORED_AS_DOUBLE
}

/// The hyperparameters by name; an empty or repeated name is an error
/// naming it.
fn hparam_map<H>(hparams: H) -> Result<BTreeMap<String, HParamValue>, SummaryError>
where
    H: IntoIterator,
    H::Item: HParamPair,
{
    let mut map = BTreeMap::new();
    for pair in hparams {
        let (name, value) = pair.into_pair();
        let reason = if name.is_empty() {
            "an empty hyperparameter name, expected a name".to_owned()
        } else {
            match map.entry(name) {
                btree_map::Entry::Vacant(entry) => {
                    entry.insert(value);
                    continue;
                }
                btree_map::Entry::Occupied(entry) => format!(
                    "hyperparameter {:?} appears twice, expected each name once",
                    entry.key()
                ),
            }
        };
        return Err(SummaryError::InvalidArgument {
            tag: SESSION_START_TAG.to_owned(),
            what: "hparams",
            reason,
        });
    }
    Ok(map)
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Options for a [`SummaryWriter`]; from [`SummaryWriter::builder`].
///
/// ```
/// use std::time::Duration;
/// use tbseg::summary::SummaryWriter;
/// # let dir = std::env::temp_dir().join(format!("tbseg-builder-{}", std::process::id()));
/// let writer = SummaryWriter::builder(&dir)
///     .flush_interval(Duration::from_secs(10))
///     .max_queue_bytes(16 << 20)
///     .filename_suffix(".v2")
///     .purge_step(1200) // resuming from the checkpoint of step 1200
///     .build()?;
/// writer.add_scalar("loss", 0.3, 1200)?;
/// writer.sync()?; // on disk, even through a power cut
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), tbseg::summary::SummaryError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SummaryWriterBuilder {
    logdir: PathBuf,
    flush_interval: Duration,
    max_queue_bytes: usize,
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

    /// The most bytes of encoded events that may wait for the writer
    /// thread. By default 64 MiB ([`DEFAULT_MAX_QUEUE_BYTES`]); at least 1.
    ///
    /// What blocks: an `add_*` call that hands a batch to the writer
    /// thread (every 256 KiB, or `bytes / 4` if smaller) waits while the
    /// batches not yet written hold more than `bytes`; the other callers
    /// wait for it. An event larger than the bound (a huge image) waits
    /// until the queue is empty and then goes alone. So the writer holds
    /// at most `bytes`, plus one batch being filled, plus the event being
    /// added; `flush`, `sync` and `close` wait for the same room.
    pub fn max_queue_bytes(mut self, bytes: usize) -> Self {
        self.max_queue_bytes = bytes.max(1);
        self
    }

    /// Text appended to the file name (TensorFlow uses `.v2`). Empty by
    /// default.
    pub fn filename_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.filename_suffix = suffix.into();
        self
    }

    /// Marks this file as the restart of a run at `step`: right after the
    /// `file_version` record the writer writes `SessionLog START` at that
    /// step, twice. TensorBoard then drops the points at `step` and after
    /// that earlier files of the same run hold (those a crashed run logged
    /// after its last checkpoint), so a resumed run shows one curve per tag
    /// instead of a zig-zag, in both of its loaders and whatever wrote the
    /// earlier files: TensorBoard's Python loader takes a run's first START
    /// as its beginning, not a restart, and a run first written by torch's
    /// writer or a fresh tbseg writer has none, so the second START is the
    /// one that purges there. This is tensorboardX's `purge_step`. Unset by
    /// default.
    pub fn purge_step(mut self, step: i64) -> Self {
        self.purge_step = Some(step);
        self
    }

    /// The same options for another log directory (the sub-runs of
    /// [`SummaryWriter::add_scalars`]).
    pub(super) fn logdir(mut self, logdir: PathBuf) -> Self {
        self.logdir = logdir;
        self
    }

    /// Creates the log directory (and its parents), creates a new event
    /// file in it (never overwriting or appending to an existing one),
    /// writes and flushes the `file_version` record, and starts the writer
    /// thread.
    ///
    /// The file name holds the time in seconds, the host name, the process
    /// id and a per-process counter, so writers created in the same second
    /// by one process, by several processes or on several machines sharing
    /// the directory get different names; should a name be taken anyway,
    /// the next counter value is tried.
    ///
    /// An object-store URL (`s3://bucket/run`, `gs://...`, `az://...`;
    /// feature `object-store`) gives a writer that uploads the run as
    /// rolling segment objects, one per flush, which TensorBoard reads in
    /// order while the run goes on (see [`crate::summary::segments`]); its
    /// [`SummaryWriter::path`] is the segments' common prefix. The first
    /// segment (the `file_version` record) is uploaded before `build`
    /// returns, so a store that cannot be reached or refuses the
    /// credentials is an error here.
    ///
    /// An empty log directory is an [`SummaryError::InvalidArgument`]
    /// (it would put the run in the current directory); use
    /// [`SummaryWriter::default_logdir`] for PyTorch's default.
    pub fn build(self) -> Result<SummaryWriter, SummaryError> {
        if self.logdir.as_os_str().is_empty() {
            return Err(SummaryError::InvalidArgument {
                tag: String::new(),
                what: "logdir",
                reason: "an empty path, expected a directory \
                         (SummaryWriter::default_logdir(\"\") gives PyTorch's runs/<date>_<host>)"
                    .into(),
            });
        }
        let logdir = match Location::of(&self.logdir) {
            Location::Local(local) => local.into_owned(),
            Location::Remote(url) => {
                let url = url.to_owned();
                return self.build_remote(url);
            }
        };
        fs::create_dir_all(&logdir).map_err(|e| SummaryError::CreateDir {
            path: logdir.clone(),
            source: Arc::new(e),
        })?;
        let secs = unix_secs();
        let (file, path) = create_event_file(
            &logdir,
            |counter| {
                event_file_name(
                    secs,
                    hostname(),
                    std::process::id(),
                    counter,
                    &self.filename_suffix,
                )
            },
            &FILE_COUNTER,
        )?;
        // The directory entry of the new file is made durable with the
        // first `sync`, not here: creating a writer stays cheap.
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

    /// A writer of rolling segment objects under the run URL `url`.
    #[cfg(feature = "object-store")]
    fn build_remote(self, url: String) -> Result<SummaryWriter, SummaryError> {
        use super::segments::SegmentSink;
        use crate::storage::remote::Remote;
        let run = Remote::open(&url).map_err(|e| SummaryError::CreateDir {
            path: PathBuf::from(&url),
            source: Arc::new(e),
        })?;
        // No create-if-absent on object stores: 32 random bits beside the
        // host, pid and counter keep two writers (two containers whose
        // pid is 1 under one host name, say) from ever sharing a name.
        let base = format!(
            "{}.{:08x}",
            event_file_name(
                unix_secs(),
                hostname(),
                std::process::id(),
                FILE_COUNTER.fetch_add(1, Ordering::Relaxed),
                "",
            ),
            crate::atomic::random_u64() as u32
        );
        let label = PathBuf::from(run.child(&base).url());
        // A segment is uploaded at every flush, or sooner when this much
        // is waiting: a quarter of the queue bound, at most 16 MiB.
        let max_segment = (self.max_queue_bytes / 4).clamp(BATCH_BYTES, 16 << 20);
        let sink = SegmentSink::new(run, base, self.filename_suffix.clone(), max_segment);
        // Every flush uploads; what was flushed is on the store.
        self.spawn(sink, label, |sink: &mut SegmentSink| sink.flush())
    }

    #[cfg(not(feature = "object-store"))]
    fn build_remote(self, url: String) -> Result<SummaryWriter, SummaryError> {
        Err(SummaryError::CreateDir {
            source: Arc::new(crate::storage::feature_missing(&url)),
            path: PathBuf::from(url),
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
        let sub_runs = SubRuns::new(self.clone());
        let mut first = Vec::with_capacity(64);
        let mut encoder = EventEncoder::new();
        let now = now();
        encoder.event_record(&mut first, &file_version_event(now));
        if let Some(step) = self.purge_step {
            for event in restart_events(now, step) {
                encoder.event_record(&mut first, &event);
            }
        }
        writer.write_all(&first).map_err(|e| SummaryError::Write {
            path: path.clone(),
            source: Arc::new(e),
        })?;
        writer.flush().map_err(|e| SummaryError::Flush {
            path: path.clone(),
            source: Arc::new(e),
        })?;
        let batch_bytes = (self.max_queue_bytes / 4).clamp(1, BATCH_BYTES);
        let (sender, receiver) = mpsc::channel();
        let (recycle, recycled) = mpsc::channel();
        let shared = Arc::new(Shared {
            error: OnceLock::new(),
            path: path.clone(),
            state: Mutex::new(State {
                encoder,
                pending: Vec::with_capacity(batch_bytes + (batch_bytes >> 2)),
                sender: Some(sender),
                recycled,
            }),
            queue: Mutex::new(QueueState {
                queued: 0,
                worker_alive: true,
            }),
            drained: Condvar::new(),
            max_queue_bytes: self.max_queue_bytes,
        });
        let worker_shared = Arc::clone(&shared);
        let interval = self.flush_interval;
        let worker = std::thread::Builder::new()
            .name("tbseg-summary".into())
            .spawn(move || {
                let _alive = WorkerAlive(&worker_shared);
                run_worker(&worker_shared, receiver, recycle, writer, sync, interval)
            })
            .map_err(|e| SummaryError::Spawn {
                path: path.clone(),
                source: Arc::new(e),
            })?;
        Ok(SummaryWriter {
            inner: Arc::new(Inner {
                shared,
                worker: Mutex::new(Some(worker)),
                path,
                batch_bytes,
                sub_runs,
            }),
        })
    }
}

/// Checks that `png` starts with PNG's signature and an `IHDR` chunk of
/// `height × width` pixels; the reason is for an `InvalidArgument`.
fn check_png_header(png: &[u8], height: usize, width: usize) -> Result<(), String> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    let header = png
        .get(..24)
        .filter(|h| h.starts_with(SIGNATURE) && &h[12..16] == b"IHDR");
    let Some(header) = header else {
        return Err(format!(
            "{} bytes that do not start with a PNG signature and header, expected a PNG file",
            png.len()
        ));
    };
    let at =
        |i: usize| u32::from_be_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    let (png_width, png_height) = (at(16), at(20));
    if (usize::try_from(png_height), usize::try_from(png_width)) != (Ok(height), Ok(width)) {
        return Err(format!(
            "a PNG of {png_height}x{png_width} (height x width), expected {height}x{width}"
        ));
    }
    Ok(())
}

/// Creates a new file in `logdir` named `name(counter)`, taking counter
/// values from `counter` until a name is free.
fn create_event_file(
    logdir: &Path,
    name: impl Fn(u64) -> String,
    counter: &AtomicU64,
) -> Result<(File, PathBuf), SummaryError> {
    let mut attempt = 0;
    loop {
        let path = logdir.join(name(counter.fetch_add(1, Ordering::Relaxed)));
        match create_new(&path) {
            Err(e)
                if e.io_kind() == Some(std::io::ErrorKind::AlreadyExists)
                    && attempt + 1 < NAME_ATTEMPTS =>
            {
                attempt += 1;
            }
            result => return result.map(|file| (file, path)),
        }
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

/// What the clones of a [`SummaryWriter`] share; dropping it closes.
struct Inner {
    shared: Arc<Shared>,
    worker: Mutex<Option<JoinHandle<()>>>,
    path: PathBuf,
    /// Bytes after which `pending` goes to the writer thread.
    batch_bytes: usize,
    /// The sub-runs of [`SummaryWriter::add_scalars`].
    sub_runs: SubRuns,
}

/// What callers and the writer thread share.
struct Shared {
    /// The first I/O error; once set, every call returns it.
    error: OnceLock<SummaryError>,
    path: PathBuf,
    state: Mutex<State>,
    /// Bytes handed to the writer thread and not yet written.
    queue: Mutex<QueueState>,
    /// Signalled when the writer thread has written a batch or exited.
    drained: Condvar,
    max_queue_bytes: usize,
}

struct QueueState {
    queued: usize,
    /// False once the writer thread has exited (normally or not), so that
    /// nobody waits for room that will never come.
    worker_alive: bool,
}

/// Marks the writer thread as gone when it exits, even by a panic.
struct WorkerAlive<'a>(&'a Shared);

impl Drop for WorkerAlive<'_> {
    fn drop(&mut self) {
        self.0.queue_lock().worker_alive = false;
        self.0.drained.notify_all();
    }
}

/// The callers' side, behind the lock.
struct State {
    encoder: EventEncoder,
    /// Framed records not yet handed to the writer thread.
    pending: Vec<u8>,
    /// `None` once closed.
    sender: Option<Sender<Msg>>,
    /// Empty buffers coming back from the writer thread.
    recycled: Receiver<Vec<u8>>,
}

/// Work for the writer thread, in file order.
enum Msg {
    /// Framed records to write (counted in `Shared::queue`).
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

    fn queue_lock(&self) -> MutexGuard<'_, QueueState> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until `bytes` more fit in the queue (or the queue is empty, or
    /// the writer thread is gone), then counts them as queued.
    fn reserve(&self, bytes: usize) {
        let mut queue = self.queue_lock();
        while queue.worker_alive
            && queue.queued > 0
            && queue.queued.saturating_add(bytes) > self.max_queue_bytes
        {
            queue = self
                .drained
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
        queue.queued += bytes;
    }

    /// Counts `bytes` as written.
    fn release(&self, bytes: usize) {
        let mut queue = self.queue_lock();
        queue.queued = queue.queued.saturating_sub(bytes);
        drop(queue);
        self.drained.notify_all();
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
    /// while the queue has no room for them.
    fn send_pending(&mut self, shared: &Shared) -> Result<(), SummaryError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let Some(sender) = &self.sender else {
            return Err(shared.closed());
        };
        let capacity = self.pending.capacity();
        let fresh = self
            .recycled
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(capacity));
        let batch = std::mem::replace(&mut self.pending, fresh);
        shared.reserve(batch.len());
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
                        let batch = std::mem::replace(&mut state.pending, fresh);
                        // Counted so that writing it releases what it holds;
                        // this never waits (only callers wait for room).
                        shared.queue_lock().queued += batch.len();
                        work.push(Msg::Data(batch));
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
                    shared.release(batch.len());
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
            max_queue_bytes: DEFAULT_MAX_QUEUE_BYTES,
            filename_suffix: String::new(),
            purge_step: None,
        }
    }

    /// A writer of a new event file in `logdir` with default options
    /// (see [`SummaryWriterBuilder`]). An empty `logdir` is an
    /// [`SummaryError::InvalidArgument`].
    pub fn new(logdir: impl Into<PathBuf>) -> Result<Self, SummaryError> {
        Self::builder(logdir).build()
    }

    /// The log directory PyTorch's `SummaryWriter(comment=comment)` picks
    /// when given none: `runs/<date>_<host><comment>`, where the date is
    /// the local time as `%b%d_%H-%M-%S` and the host is this machine's
    /// name (`runs/Mar05_14-03-07_gpu1-lr0.1` for the comment `-lr0.1`),
    /// so runs from tbseg and from PyTorch sort and read alike in
    /// TensorBoard.
    ///
    /// The local time zone is found as the C library finds it (the `TZ`
    /// variable, else `/etc/localtime`, else UTC). The directory is not
    /// created here.
    ///
    /// ```
    /// use tbseg::summary::SummaryWriter;
    /// let logdir = SummaryWriter::default_logdir("-lr0.1");
    /// assert!(logdir.starts_with("runs"));
    /// assert!(logdir.to_str().unwrap().ends_with("-lr0.1"));
    /// ```
    pub fn default_logdir(comment: &str) -> PathBuf {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let offset = super::local_time::utc_offset(std::env::var_os("TZ").as_deref(), unix);
        let stamp = super::local_time::torch_time_stamp(unix, offset);
        Path::new("runs").join(format!("{stamp}_{}{comment}", hostname()))
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
    pub fn add_summary(&self, summary: Summary, step: impl Into<Step>) -> Result<(), SummaryError> {
        let tag = summary.value.first().map_or("", |value| value.tag.as_str());
        let (step, wall_time) = step.into().resolve(tag, now)?;
        self.inner
            .push(|encoder, out| encoder.summary_record(out, wall_time, step, summary))
    }

    /// Logs one summary value (see [`crate::summary::values`]) at `step`.
    pub fn add_value(
        &self,
        value: values::Value,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        self.add_summary(Summary { value: vec![value] }, step)
    }

    /// Logs an image from raw pixels: `u8` as they are, or `f32`/`f64` in
    /// `[0, 1]` (see [`PixelValue`]), laid out as `layout` (HW, HWC or CHW;
    /// 1, 2, 3 or 4 channels). It is PNG-encoded on the calling thread and
    /// written in the v2 form `[width, height, png]` (plugin `images`).
    ///
    /// A data length that does not match the layout, a channel count
    /// outside 1–4, an empty image and a side over PNG's limit are an
    /// [`SummaryError::InvalidArgument`] and nothing is written.
    ///
    /// ```
    /// # use tbseg::summary::{ImageLayout, SummaryWriter};
    /// # let writer = SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// let mask = vec![0u8; 64 * 48]; // 48 rows of 64 grey pixels
    /// writer.add_image("mask", &mask, ImageLayout::Hw(48, 64), 7)?;
    /// let rgb = vec![0.5f32; 3 * 48 * 64]; // a CHW tensor's data
    /// writer.add_image("input", &rgb, ImageLayout::Chw(3, 48, 64), 7)?;
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    #[cfg(feature = "png")]
    pub fn add_image<P: PixelValue>(
        &self,
        tag: &str,
        data: &[P],
        layout: ImageLayout,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        // Before anything else: the sizes must fit the data and PNG (no
        // size arithmetic below can overflow then), and the channel count
        // must be one PNG has.
        check_layout(layout, data.len()).map_err(|e| e.for_tag(tag))?;
        let (height, width, channels) = layout.dims();
        let direct = match layout {
            ImageLayout::Chw(..) if channels > 1 => None,
            _ => P::as_bytes(data),
        };
        let png = match direct {
            // Already interleaved bytes: encode without a copy.
            Some(bytes) => super::png::encode(height, width, channels, bytes),
            None => Image::from_pixels(data, layout).and_then(|image| image.encode_png()),
        }
        .map_err(|e| e.for_tag(tag))?;
        self.add_png(tag, height, width, png, step)
    }

    /// Logs a batch of same-size images (NCHW or NHWC) as one grid image,
    /// as PyTorch's `add_images(tag, img_tensor, step, dataformats)` does:
    /// torchvision's `make_grid` with its defaults, 8 per row, 2 pixels of
    /// black padding (see [`Image::grid`] for other options). Pixels are
    /// `u8`, or floats in `[0, 1]` (see [`PixelValue`]).
    ///
    /// (Before tbseg 1.0 this was `add_image_grid`, and `add_images` was
    /// today's [`SummaryWriter::add_image_samples`].)
    ///
    /// ```
    /// # use tbseg::summary::{BatchLayout, SummaryWriter};
    /// # let writer = SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// let batch = vec![0.25f32; 16 * 1 * 28 * 28]; // an NCHW batch
    /// writer.add_images("batch", &batch, BatchLayout::Nchw(16, 1, 28, 28), 3)?;
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    #[cfg(feature = "png")]
    pub fn add_images<P: PixelValue>(
        &self,
        tag: &str,
        data: &[P],
        layout: BatchLayout,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        let grid = Image::grid(data, layout, GridOptions::default()).map_err(|e| e.for_tag(tag))?;
        self.add_image_samples(tag, std::slice::from_ref(&grid), step)
    }

    /// Logs several images of one size as the samples of one tag at one
    /// step: TensorBoard shows them in one card with a slider to pick the
    /// sample (`tf.summary.image` with `max_outputs > 1`), where
    /// [`SummaryWriter::add_images`] tiles a batch into one picture.
    /// Images of different sizes, or none, are an
    /// [`SummaryError::InvalidArgument`] and nothing is written.
    /// [`Image::batch`] splits a raw batch into images.
    ///
    /// ```
    /// # use tbseg::summary::{Image, ImageLayout, SummaryWriter};
    /// # let writer = SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// let dark = Image::from_pixels(&[10u8; 4 * 4], ImageLayout::Hw(4, 4))?;
    /// let light = Image::from_pixels(&[240u8; 4 * 4], ImageLayout::Hw(4, 4))?;
    /// writer.add_image_samples("masks", &[dark, light], 1)?;
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    #[cfg(feature = "png")]
    pub fn add_image_samples(
        &self,
        tag: &str,
        images: &[Image],
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        let invalid = |reason: String| SummaryError::InvalidArgument {
            tag: tag.to_owned(),
            what: "images",
            reason,
        };
        let first = images.first().ok_or_else(|| invalid("no images".into()))?;
        let size = (first.height(), first.width());
        let mut pngs = Vec::with_capacity(images.len());
        for (index, image) in images.iter().enumerate() {
            if (image.height(), image.width()) != size {
                return Err(invalid(format!(
                    "image {index} is {}x{} (height x width), image 0 is {}x{}",
                    image.height(),
                    image.width(),
                    size.0,
                    size.1
                )));
            }
            pngs.push(image.encode_png().map_err(|e| e.for_tag(tag))?);
        }
        self.add_value(values::images(tag, size.0, size.1, pngs), step)
    }

    /// Logs an already PNG-encoded image of `height × width` pixels.
    ///
    /// Bytes that do not start with a PNG signature and header, and a
    /// header whose size is not `height × width`, are an
    /// [`SummaryError::InvalidArgument`] and nothing is written.
    pub fn add_png(
        &self,
        tag: &str,
        height: usize,
        width: usize,
        png: Vec<u8>,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        check_png_header(&png, height, width).map_err(|reason| SummaryError::InvalidArgument {
            tag: tag.to_owned(),
            what: "png",
            reason,
        })?;
        self.add_value(values::image(tag, height, width, png), step)
    }

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

    /// Logs Markdown text (plugin `text`).
    pub fn add_text(
        &self,
        tag: &str,
        markdown: &str,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        self.add_value(values::text(tag, markdown), step)
    }

    /// Logs a precision-recall curve over 127 thresholds (PyTorch's
    /// default, [`crate::summary::DEFAULT_PR_THRESHOLDS`]) from labels and predictions of
    /// any number type: labels `bool` or numbers in `[0, 1]` (see
    /// [`PrLabel`]), predictions in `[0, 1]` (others are ignored, as
    /// TensorBoard ignores them). TensorBoard's computation (see
    /// [`crate::summary::pr_curve_weighted`]);
    /// [`SummaryWriter::add_pr_curve_with`] takes weights and another
    /// threshold count.
    ///
    /// Labels and predictions of different lengths, or a label outside
    /// `[0, 1]`, are an [`SummaryError::InvalidArgument`] and nothing is
    /// written.
    ///
    /// ```
    /// # use tbseg::summary::SummaryWriter;
    /// # let writer = SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// writer.add_pr_curve("pr/lv", &[true, false, true], &[0.9f32, 0.4, 0.6], 1)?;
    /// writer.add_pr_curve("pr/class1", &[1u8, 0, 1], &[0.8f64, 0.1, 0.3], 1)?;
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn add_pr_curve<L: PrLabel, P: Scalar>(
        &self,
        tag: &str,
        labels: &[L],
        predictions: &[P],
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        self.add_pr_curve_with(tag, labels, predictions, &PrCurveOptions::default(), step)
    }

    /// Like [`SummaryWriter::add_pr_curve`], with the threshold count and
    /// per-example weights of `options` (PyTorch's `num_thresholds` and
    /// `weights`). Weights of another length than the labels, negative or
    /// not finite, and threshold counts outside 2 to
    /// [`crate::summary::MAX_PR_THRESHOLDS`] are an
    /// [`SummaryError::InvalidArgument`].
    ///
    /// ```
    /// # use tbseg::summary::{PrCurveOptions, SummaryWriter};
    /// # let writer = SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// let options = PrCurveOptions::default().num_thresholds(11).weights(&[1.0f32, 2.0, 0.5]);
    /// writer.add_pr_curve_with("pr", &[true, false, true], &[0.9f32, 0.4, 0.6], &options, 1)?;
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn add_pr_curve_with<L: PrLabel, P: Scalar>(
        &self,
        tag: &str,
        labels: &[L],
        predictions: &[P],
        options: &PrCurveOptions,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        let curve = pr_curve_weighted(
            labels,
            predictions,
            options.weight_values(),
            options.thresholds(),
        )
        .map_err(|(what, reason)| SummaryError::InvalidArgument {
            tag: tag.to_owned(),
            what,
            reason,
        })?;
        self.add_value(values::pr_curve(tag, &curve), step)
    }

    /// Logs the model graph (`Event.graph_def`, step 0; see
    /// [`crate::summary::GraphBuilder`]).
    pub fn add_graph(&self, graph: &GraphDef) -> Result<(), SummaryError> {
        let event = Event {
            wall_time: now(),
            step: 0,
            what: Some(event::What::GraphDef(graph.encode_to_vec())),
            ..Default::default()
        };
        self.inner
            .push(|encoder, out| encoder.event_record(out, &event))
    }

    /// Records this run's hyperparameters and, in the same call, its final
    /// metric values, for TensorBoard's HParams dashboard, which then shows
    /// this run as one session with both. PyTorch's
    /// `add_hparams(hparam_dict, metric_dict)` in Rust form:
    ///
    /// - `hparams`: any collection of `(name, value)` with values a number,
    ///   a `bool` or a string: `&[("lr", 0.01.into()), ("model",
    ///   "cnn".into())]`, a `HashMap` or `BTreeMap` by value or by
    ///   reference (see [`HParamPair`]);
    /// - `metrics`: any collection of `(tag, number)` (see
    ///   [`crate::summary::ScalarPair`]), or [`crate::summary::NO_METRICS`]. Each is logged
    ///   as a scalar of this run at `step` and declared as a metric column;
    ///   with none, no columns are declared and TensorBoard makes one of
    ///   every scalar tag of the run (and of the other runs with hparams).
    ///
    /// Everything goes into one event of this writer's run at `step`: the
    /// `_hparams_/experiment` summary (the hyperparameters' names and
    /// types and the metrics; only with metrics), the
    /// `_hparams_/session_start_info` summary (the values), and the metric
    /// scalars. Log metrics at the step they were measured at: a metric
    /// named like a curve you log (`"loss"`) adds or replaces that curve's
    /// point at `step`.
    ///
    /// Unlike PyTorch, the session is this writer's own run: PyTorch
    /// writes every `add_hparams` call into a new run
    /// `<logdir>/<time.time()>` (pytorch/pytorch#32651), so the dashboard
    /// pairs the hyperparameters with a copy of the metrics in a run of
    /// their own, away from the curves. Call it once per writer:
    /// TensorBoard reads a run's hyperparameters once (use one writer per
    /// configuration). TensorBoard takes the metric columns from the first
    /// `_hparams_/experiment` it finds in the log directory, so give the
    /// runs of one experiment the same hyperparameter and metric names.
    /// [`SummaryWriter::add_hparams_with_metrics`] declares metrics with
    /// display names and descriptions and a session group;
    /// [`SummaryWriter::end_hparams`] records how the run ended.
    ///
    /// An empty or repeated name is an [`SummaryError::InvalidArgument`]
    /// naming it, and nothing is written.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use tbseg::summary::{SummaryWriter, NO_METRICS};
    /// # let writer = SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// # let other = SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// # let third = SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// // The run's configuration and how it did, in one call.
    /// writer.add_hparams(
    ///     &[("lr", 0.01.into()), ("model", "cnn".into()), ("augment", true.into())],
    ///     &[("hparam/dice", 0.91), ("hparam/loss", 0.12)],
    ///     1000,
    /// )?;
    /// // Any map works, and metrics may come later as ordinary scalars.
    /// let config: HashMap<&str, f64> = HashMap::from([("lr", 0.1), ("batch_size", 32.0)]);
    /// other.add_hparams(&config, NO_METRICS, 0)?;
    /// third.add_hparams([("epochs", 20)], [("dice", 0.5f32)], 20)?;
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn add_hparams<H, M>(
        &self,
        hparams: H,
        metrics: M,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError>
    where
        H: IntoIterator,
        H::Item: HParamPair,
        M: IntoIterator,
        M::Item: ScalarPair,
    {
        let hparams = hparam_map(hparams)?;
        let (step, time) = step.into().resolve(SESSION_START_TAG, now)?;
        let step = Step::new(step).wall_time(time);
        let mut names = BTreeSet::new();
        let mut scalars = Vec::new();
        for metric in metrics {
            let name = metric.name();
            if name.is_empty() || !names.insert(name.to_owned()) {
                return Err(SummaryError::InvalidArgument {
                    tag: name.to_owned(),
                    what: "metrics",
                    reason: if name.is_empty() {
                        "an empty metric name, expected a scalar tag".to_owned()
                    } else {
                        format!("metric {name:?} appears twice, expected each name once")
                    },
                });
            }
            let value = metric.value();
            scalars.push(if stored_as_double(&value) {
                values::scalar_f64(name, value.to_f64())
            } else {
                values::scalar(name, value.to_f32())
            });
        }
        let mut value = Vec::with_capacity(scalars.len() + 2);
        if !scalars.is_empty() {
            let declared: Vec<Metric> = names.into_iter().map(Metric::new).collect();
            value.push(values::hparams_experiment(&hparams, &declared, time));
        }
        value.push(values::hparams_session_start(&hparams, None, time));
        value.extend(scalars);
        self.add_summary(Summary { value }, step)
    }

    /// Records this run's hyperparameters for the HParams dashboard with
    /// declared `metrics` (tags, display names, descriptions, datasets; see
    /// [`Metric`]), so the dashboard shows their columns before any of them
    /// is logged: an `_hparams_/experiment` summary (the hyperparameters'
    /// names and types, and the metrics; only if `metrics` is not empty)
    /// and the `_hparams_/session_start_info` summary, at step 0. Log the
    /// metrics as ordinary scalars of this writer (or of the run their
    /// [`Metric::group`] names). `group_name` groups runs of the same
    /// configuration (repeats with other seeds); `None` gives each run its
    /// own group. `hparams` is any collection of `(name, value)` pairs, as
    /// for [`SummaryWriter::add_hparams`]. Call once per writer.
    ///
    /// TensorBoard uses the first experiment summary it finds in the log
    /// directory, so give every run of an experiment the same
    /// hyperparameter names and metrics.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use tbseg::summary::{HParamValue, Metric, SummaryWriter};
    /// # let writer = SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// let mut hparams = BTreeMap::new();
    /// hparams.insert("lr".to_owned(), HParamValue::from(0.01));
    /// let metrics = [
    ///     Metric::new("loss").display_name("Training loss"),
    ///     Metric::new("dice").group("eval").description("higher is better"),
    /// ];
    /// writer.add_hparams_with_metrics(&hparams, &metrics, None)?;
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn add_hparams_with_metrics<H>(
        &self,
        hparams: H,
        metrics: &[Metric],
        group_name: Option<&str>,
    ) -> Result<(), SummaryError>
    where
        H: IntoIterator,
        H::Item: HParamPair,
    {
        let hparams = hparam_map(hparams)?;
        let time = now();
        let mut value = Vec::with_capacity(2);
        if !metrics.is_empty() {
            value.push(values::hparams_experiment(&hparams, metrics, time));
        }
        value.push(values::hparams_session_start(&hparams, group_name, time));
        self.add_summary(Summary { value }, 0)
    }

    /// Records how the run ended (`_hparams_/session_end_info`), after
    /// [`SummaryWriter::add_hparams`] or
    /// [`SummaryWriter::add_hparams_with_metrics`].
    pub fn end_hparams(&self, status: SessionStatus) -> Result<(), SummaryError> {
        self.add_value(values::hparams_session_end(status, now()), 0)
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

impl Inner {
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
        if state.pending.len() >= self.batch_bytes {
            state.send_pending(shared)?;
        }
        Ok(())
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

    fn close(&self) -> Result<(), SummaryError> {
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
        let subs = self.sub_runs.close();
        shared.check()?;
        sent?;
        subs
    }
}

impl std::fmt::Debug for SummaryWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shared = &self.inner.shared;
        let state = shared.lock();
        f.debug_struct("SummaryWriter")
            .field("path", &self.inner.path)
            .field("pending_bytes", &state.pending.len())
            .field("queued_bytes", &shared.queue_lock().queued)
            .field("closed", &state.sender.is_none())
            .field("error", &shared.error.get())
            .finish()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::tensorflow::{summary, DataType};
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
        assert!(is_event_file_name(&event_file_name(1, "h", 2, 0, "")));
        for other in [
            "checkpoint",
            "model.ckpt-5.index",
            "x.tfevents.y",
            "events.out",
        ] {
            assert!(!is_event_file_name(other), "{other}");
        }
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
            .max_queue_bytes(4000)
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
    fn purge_step_writes_two_session_starts_after_the_file_version() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::builder(dir.path())
            .purge_step(1200)
            .build()
            .unwrap();
        writer.add_scalar("loss", 0.5, 1200).unwrap();
        writer.close().unwrap();
        let events = read_events(writer.path());
        assert_eq!(events.len(), 4);
        assert!(matches!(events[0].what, Some(event::What::FileVersion(_))));
        // Two STARTs: TensorBoard's Python loader ignores the first one of
        // a run, and the run may have none before this file.
        for start in &events[1..3] {
            assert_eq!(start.step, 1200);
            match &start.what {
                Some(event::What::SessionLog(log)) => {
                    assert_eq!(
                        log.status,
                        crate::proto::tensorflow::session_log::SessionStatus::Start as i32
                    )
                }
                other => panic!("expected a SessionLog, got {other:?}"),
            }
        }
        assert_eq!(events[3].step, 1200);
        assert!(matches!(events[3].what, Some(event::What::Summary(_))));

        // A fresh run writes no START (see `restart_events`).
        let fresh = SummaryWriter::new(dir.path()).unwrap();
        fresh.add_scalar("loss", 0.5, 0).unwrap();
        fresh.close().unwrap();
        let events = read_events(fresh.path());
        assert!(!events
            .iter()
            .any(|e| matches!(e.what, Some(event::What::SessionLog(_)))));
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
            .add_pr_curve("pr", &[true], &[0.5, 0.1], 0)
            .unwrap_err();
        assert!(!err.is_fatal());
        writer.add_scalar("x", 1.0, 0).unwrap();
        writer.close().unwrap();
        assert_eq!(read_events(writer.path()).len(), 2);
    }

    /// Decodes a PNG into (width, height, channels, pixels).
    #[cfg(feature = "png")]
    fn decode_png(png: &[u8]) -> (u32, u32, usize, Vec<u8>) {
        let mut reader = ::png::Decoder::new(io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info.width, info.height, info.color_type.samples(), buf)
    }

    /// Every summary value of the file, with its event.
    fn summaries(path: &Path) -> Vec<(Event, summary::Value)> {
        read_events(path)
            .into_iter()
            .flat_map(|e| match &e.what {
                Some(event::What::Summary(s)) => s
                    .value
                    .iter()
                    .map(|value| (e.clone(), value.clone()))
                    .collect(),
                _ => Vec::new(),
            })
            .collect()
    }

    fn tensor(value: &summary::Value) -> &crate::proto::tensorflow::TensorProto {
        match &value.value {
            Some(summary::value::Value::Tensor(t)) => t,
            other => panic!("not a tensor: {other:?}"),
        }
    }

    #[test]
    #[cfg(feature = "png")]
    fn several_images_go_under_one_tag_and_sizes_must_match() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::new(dir.path()).unwrap();
        let shade = |v: u8| Image::from_vec(2, 3, 1, vec![v; 6]).unwrap();
        writer
            .add_image_samples("set", &[shade(10), shade(200)], 4)
            .unwrap();
        let odd = Image::from_vec(2, 2, 1, vec![0; 4]).unwrap();
        let err = writer
            .add_image_samples("set", &[shade(1), odd], 5)
            .unwrap_err();
        assert!(!err.is_fatal());
        assert!(
            err.to_string()
                .contains("image 1 is 2x2 (height x width), image 0 is 2x3"),
            "{err}"
        );
        assert!(writer.add_image_samples("set", &[], 6).is_err());
        writer.close().unwrap();

        let summaries = summaries(writer.path());
        assert_eq!(summaries.len(), 1, "the rejected calls wrote nothing");
        let (event, value) = &summaries[0];
        assert_eq!(event.step, 4);
        let t = tensor(value);
        assert_eq!(t.string_val.len(), 4);
        assert_eq!(t.string_val[..2], [b"3".to_vec(), b"2".to_vec()]);
        for (png, shade) in t.string_val[2..].iter().zip([10u8, 200]) {
            assert_eq!(decode_png(png), (3, 2, 1, vec![shade; 6]));
        }
    }

    #[test]
    #[cfg(feature = "png")]
    fn raw_images_in_every_layout_decode_to_the_same_pixels() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::new(dir.path()).unwrap();
        // A 2×3 RGB image as interleaved bytes, as CHW floats, and a grey
        // one as HW bytes.
        let hwc: Vec<u8> = (0..18).map(|i| i * 10).collect();
        let mut chw = vec![0f32; 18];
        for (i, &v) in hwc.iter().enumerate() {
            let (pixel, channel) = (i / 3, i % 3);
            chw[channel * 6 + pixel] = f32::from(v) / 255.0;
        }
        writer
            .add_image("hwc", &hwc, ImageLayout::Hwc(2, 3, 3), 1)
            .unwrap();
        writer
            .add_image("chw", &chw, ImageLayout::Chw(3, 2, 3), 1)
            .unwrap();
        writer
            .add_image("hw", &hwc[..6], ImageLayout::Hw(2, 3), 1)
            .unwrap();
        let err = writer
            .add_image("bad", &hwc, ImageLayout::Chw(4, 2, 3), 1)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid pixels for summary \"bad\": 18 values, expected 24 for Chw(4, 2, 3)"
        );
        let batch = vec![1.0f32; 5 * 3 * 4 * 4];
        writer
            .add_images("grid", &batch, BatchLayout::Nchw(5, 3, 4, 4), 2)
            .unwrap();
        writer.close().unwrap();
        let summaries = summaries(writer.path());
        let tags: Vec<&str> = summaries.iter().map(|(_, v)| v.tag.as_str()).collect();
        assert_eq!(tags, ["hwc", "chw", "hw", "grid"]);
        let png = |i: usize| decode_png(&tensor(&summaries[i].1).string_val[2]);
        assert_eq!(png(0), (3, 2, 3, hwc.clone()));
        assert_eq!(png(1), png(0));
        assert_eq!(png(2), (3, 2, 1, hwc[..6].to_vec()));
        // Five 4×4 images in one row with 2 px padding: 32 × 8.
        let (w, h, c, grid) = png(3);
        assert_eq!((w, h, c), (32, 8, 3));
        assert_eq!(grid.iter().filter(|&&v| v == 255).count(), 5 * 16 * 3);
        assert_eq!(
            tensor(&summaries[3].1).string_val[..2],
            [b"32".to_vec(), b"8".to_vec()]
        );
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
    fn hparams_with_metrics_write_the_experiment_first() {
        use crate::proto::tensorboard::hparams::{h_params_plugin_data, HParamsPluginData};
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::new(dir.path()).unwrap();
        let mut hp = BTreeMap::new();
        hp.insert("lr".to_owned(), HParamValue::Float(0.1));
        let metrics = [Metric::new("val/dice").display_name("Dice")];
        writer
            .add_hparams_with_metrics(&hp, &metrics, Some("g"))
            .unwrap();
        writer.close().unwrap();
        let summaries = summaries(writer.path());
        let tags: Vec<&str> = summaries.iter().map(|(_, v)| v.tag.as_str()).collect();
        assert_eq!(
            tags,
            ["_hparams_/experiment", "_hparams_/session_start_info"]
        );
        let meta = summaries[0].1.metadata.as_ref().unwrap();
        let plugin = meta.plugin_data.as_ref().unwrap();
        assert_eq!(plugin.plugin_name, "hparams");
        let data = HParamsPluginData::decode(plugin.content.as_slice()).unwrap();
        let Some(h_params_plugin_data::Data::Experiment(e)) = data.data else {
            panic!("not an experiment")
        };
        assert_eq!(e.hparam_infos[0].name, "lr");
        assert_eq!(e.metric_infos[0].display_name, "Dice");
        assert_eq!(e.metric_infos[0].name.as_ref().unwrap().tag, "val/dice");
    }

    #[test]
    fn clones_share_one_file_and_the_last_drop_closes_it() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<SummaryWriter>();
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::builder(dir.path())
            .max_queue_bytes(1024)
            .build()
            .unwrap();
        let path = writer.path().to_owned();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = writer.clone();
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
        let survivor = writer.clone();
        drop(writer);
        // One clone is left: the file is still open.
        survivor.add_scalar("last", 1.0, 0).unwrap();
        drop(survivor);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        let events = read_events(&path);
        assert_eq!(events.len(), 4002);
        for t in 0..4 {
            let tag = format!("t{t}");
            let steps: Vec<i64> = events
                .iter()
                .filter_map(|e| match &e.what {
                    Some(event::What::Summary(s)) if s.value[0].tag == tag => Some(e.step),
                    _ => None,
                })
                .collect();
            assert_eq!(steps, (0..1000).collect::<Vec<_>>(), "{tag} in order");
        }
    }

    #[test]
    fn close_on_one_clone_closes_all() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::new(dir.path()).unwrap();
        let other = writer.clone();
        other.add_scalar("x", 1.0, 1).unwrap();
        writer.close().unwrap();
        assert!(matches!(
            other.add_scalar("x", 1.0, 2),
            Err(SummaryError::Closed { .. })
        ));
        assert_eq!(read_events(writer.path()).len(), 2);
    }

    /// A sink whose writes wait until the test opens the gate, recording
    /// the largest amount the writer ever held queued.
    struct Gated {
        open: Arc<(Mutex<bool>, std::sync::Condvar)>,
        written: Arc<Mutex<usize>>,
    }

    impl Write for Gated {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let (lock, cond) = &*self.open;
            let mut open = lock.lock().unwrap();
            while !*open {
                open = cond.wait(open).unwrap();
            }
            *self.written.lock().unwrap() += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_full_queue_blocks_callers_until_the_disk_catches_up() {
        let open = Arc::new((Mutex::new(true), std::sync::Condvar::new()));
        let written = Arc::new(Mutex::new(0));
        let sink = Gated {
            open: Arc::clone(&open),
            written: Arc::clone(&written),
        };
        // 40 KB bound, 10 KB batches: each 10 KB text event is one batch.
        let writer = SummaryWriter::builder("")
            .max_queue_bytes(40_000)
            .flush_interval(Duration::from_secs(3600))
            .build_with_writer(sink, "gated")
            .unwrap();
        *open.0.lock().unwrap() = false;
        let text = "x".repeat(10_000);
        let logged = Arc::new(AtomicU64::new(0));
        let producer = {
            let writer = writer.clone();
            let logged = Arc::clone(&logged);
            std::thread::spawn(move || {
                for step in 0..50 {
                    writer.add_text("t", &text, step).unwrap();
                    logged.fetch_add(1, Ordering::SeqCst);
                }
            })
        };
        // With the disk stuck, the producer stops after about 40 KB queued
        // plus a few events in flight (one being written, one pending).
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut stuck_at = 0;
        let mut unchanged = 0;
        while unchanged < 5 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            let now = logged.load(Ordering::SeqCst);
            unchanged = if now == stuck_at && now > 0 {
                unchanged + 1
            } else {
                0
            };
            stuck_at = now;
        }
        assert!((3..=8).contains(&stuck_at), "logged {stuck_at} of 50");
        let queued = writer.inner.shared.queue_lock().queued;
        assert!(queued <= 40_000 + 10_100, "{queued} bytes queued");
        *open.0.lock().unwrap() = true;
        open.1.notify_all();
        producer.join().unwrap();
        writer.close().unwrap();
        assert_eq!(logged.load(Ordering::SeqCst), 50);
        assert!(*written.lock().unwrap() > 50 * 10_000);
    }

    #[test]
    fn an_event_larger_than_the_bound_still_goes_through() {
        let writer = SummaryWriter::builder("")
            .max_queue_bytes(100)
            .build_with_writer(io::sink(), "sink")
            .unwrap();
        for step in 0..5 {
            writer.add_text("big", &"y".repeat(10_000), step).unwrap();
        }
        writer.close().unwrap();
    }

    #[test]
    fn event_file_names_are_unique_across_threads_and_taken_names() {
        let dir = tempfile::tempdir().unwrap();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let logdir = dir.path().to_owned();
                std::thread::spawn(move || {
                    (0..8)
                        .map(|_| SummaryWriter::new(&logdir).unwrap().path().to_owned())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut paths: Vec<PathBuf> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        paths.sort();
        paths.dedup();
        assert_eq!(paths.len(), 64);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 64);
        let host = paths[0].file_name().unwrap().to_str().unwrap();
        assert!(host.contains(&format!(".{}.{}.", hostname(), std::process::id())));

        // Another process with the same host name and pid (containers)
        // took counter 0 a moment ago: the next counter is used.
        let counter = AtomicU64::new(0);
        let name = |n: u64| event_file_name(7, "h", 1, n, "");
        fs::write(dir.path().join(name(0)), b"other").unwrap();
        let (_, path) = create_event_file(dir.path(), name, &counter).unwrap();
        assert_eq!(path, dir.path().join(name(1)));
        assert_eq!(fs::read(dir.path().join(name(0))).unwrap(), b"other");
    }

    #[test]
    fn hostname_is_a_usable_file_name_part() {
        let host = hostname();
        assert!(!host.is_empty());
        assert!(!host.contains('/') && !host.contains('\n'), "{host:?}");
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
