//! The [`SummaryWriter`]'s queue and background writer thread.
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

use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::SummaryWriter;
use crate::summary::event_writer::EventEncoder;
use crate::summary::multi_scalars::SubRuns;
use crate::summary::SummaryError;

/// Bytes after which a caller hands its buffer to the writer thread (less
/// if the queue bound is small).
pub(super) const BATCH_BYTES: usize = 256 << 10;

/// What the clones of a [`SummaryWriter`] share; dropping it closes.
pub(super) struct Inner {
    shared: Arc<Shared>,
    worker: Mutex<Option<JoinHandle<()>>>,
    pub(super) path: PathBuf,
    /// Bytes after which `pending` goes to the writer thread.
    batch_bytes: usize,
    /// The sub-runs of [`SummaryWriter::add_scalars`].
    pub(super) sub_runs: SubRuns,
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
pub(super) enum Msg {
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

impl Inner {
    /// Starts the writer thread over `writer`, whose first records are
    /// written already; `encoder` continues after them, `sync` makes what
    /// was flushed durable.
    pub(super) fn start<W, S>(
        writer: W,
        path: PathBuf,
        sync: S,
        encoder: EventEncoder,
        sub_runs: SubRuns,
        max_queue_bytes: usize,
        interval: Duration,
    ) -> Result<Inner, SummaryError>
    where
        W: Write + Send + 'static,
        S: FnMut(&mut W) -> std::io::Result<()> + Send + 'static,
    {
        let batch_bytes = (max_queue_bytes / 4).clamp(1, BATCH_BYTES);
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
            max_queue_bytes,
        });
        let worker_shared = Arc::clone(&shared);
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
        Ok(Inner {
            shared,
            worker: Mutex::new(Some(worker)),
            path,
            batch_bytes,
            sub_runs,
        })
    }

    /// Queues one event encoded by `encode` (which appends one framed
    /// record).
    pub(super) fn push(
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
    pub(super) fn round_trip(
        &self,
        message: fn(SyncSender<()>) -> Msg,
    ) -> Result<(), SummaryError> {
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

    pub(super) fn close(&self) -> Result<(), SummaryError> {
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
    use crate::proto::tensorflow::{event, Event};
    use crate::summary::writer::test_support::*;
    use std::fs::{self, OpenOptions};
    use std::io;
    use std::path::Path;
    use std::sync::atomic::{AtomicU64, Ordering};

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
}
