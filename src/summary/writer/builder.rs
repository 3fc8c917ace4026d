//! [`SummaryWriterBuilder`]: a writer's options, and where its events go
//! (a new file in a local log directory, rolling segments on an object
//! store, or a caller's sink).

use std::fs::{self, File};
use std::io::Write;
use std::path::PathBuf;
#[cfg(feature = "object-store")]
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::file_names::{create_event_file, event_file_name, hostname, unix_secs, FILE_COUNTER};
use super::worker::Inner;
#[cfg(feature = "object-store")]
use super::worker::BATCH_BYTES;
use super::{now, SummaryWriter};
use crate::storage::Location;
use crate::summary::event_writer::{file_version_event, restart_events, EventEncoder};
use crate::summary::multi_scalars::SubRuns;
use crate::summary::SummaryError;

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
    /// Options with the defaults, for a writer of a new event file in
    /// `logdir` (see [`SummaryWriter::builder`]).
    pub(super) fn new(logdir: PathBuf) -> Self {
        SummaryWriterBuilder {
            logdir,
            flush_interval: DEFAULT_FLUSH_INTERVAL,
            max_queue_bytes: DEFAULT_MAX_QUEUE_BYTES,
            filename_suffix: String::new(),
            purge_step: None,
        }
    }

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
    pub(in crate::summary) fn logdir(mut self, logdir: PathBuf) -> Self {
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
        use crate::storage::remote::Remote;
        use crate::summary::segments::SegmentSink;
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
        let inner = Inner::start(
            writer,
            path,
            sync,
            encoder,
            sub_runs,
            self.max_queue_bytes,
            self.flush_interval,
        )?;
        Ok(SummaryWriter {
            inner: Arc::new(inner),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::tensorflow::event;
    use crate::summary::writer::test_support::*;

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
}
