//! Following a log directory that a training job is still writing.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use super::{
    EventFileReader, EventFileSummary, FileEnd, FileStatus, Logdir, ReadEventError, ScanError,
};
use crate::proto::tensorflow::Event;

/// One event read by [`LogdirWatcher::poll`], with the run it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// The run: the event file's directory relative to the log directory,
    /// `/`-separated; `.` for the root.
    pub run: String,
    /// The event file, relative to the log directory.
    pub file: PathBuf,
    /// The event as read.
    pub event: Event,
}

/// Where reading one event file stands between polls.
#[derive(Debug)]
struct Tail {
    run: String,
    /// Index of the file's [`EventFileSummary`] in its run.
    summary: usize,
    /// `None` once the file failed for good (it cannot be opened, or its
    /// framing is lost): it is not read again.
    reader: Option<EventFileReader<Source>>,
    /// For an object: its size at the last listing.
    listed_size: Option<u64>,
}

/// Where an event file's bytes come from.
#[derive(Debug)]
enum Source {
    File(BufReader<File>),
    /// An object in a store, downloaded piece by piece as it grows (an
    /// object written by tbseg never grows: each segment is complete; one
    /// rewritten whole by another writer may).
    #[cfg(feature = "object-store")]
    Object(ObjectTail),
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::File(file) => file.read(buf),
            #[cfg(feature = "object-store")]
            Source::Object(tail) => tail.read(buf),
        }
    }
}

/// The downloaded, not yet consumed bytes of an object.
#[cfg(feature = "object-store")]
#[derive(Debug)]
struct ObjectTail {
    object: crate::storage::remote::Remote,
    /// Bytes downloaded so far.
    fetched: u64,
    buffered: Vec<u8>,
    /// Bytes of `buffered` already read.
    consumed: usize,
}

#[cfg(feature = "object-store")]
impl ObjectTail {
    /// Downloads the bytes between what was fetched and `size`.
    fn top_up(&mut self, size: u64) -> io::Result<()> {
        if size <= self.fetched {
            return Ok(());
        }
        let bytes = self.object.get_range(self.fetched..size)?;
        self.buffered.drain(..self.consumed);
        self.consumed = 0;
        self.fetched += bytes.len() as u64;
        self.buffered.extend_from_slice(&bytes);
        Ok(())
    }
}

#[cfg(feature = "object-store")]
impl Read for ObjectTail {
    /// What was downloaded; the end of it reads as the end of the file,
    /// which the record reader treats as "more may come".
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = &self.buffered[self.consumed..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.consumed += n;
        Ok(n)
    }
}

/// Opens the event file or object `path` for reading.
fn open_source(path: &Path) -> Result<Source, ReadEventError> {
    #[cfg(feature = "object-store")]
    if let crate::storage::Location::Remote(url) = crate::storage::Location::of(path) {
        let object = crate::storage::remote::Remote::open(url).map_err(|source| {
            crate::record::OpenError {
                path: path.to_owned(),
                source,
            }
        })?;
        return Ok(Source::Object(ObjectTail {
            object,
            fetched: 0,
            buffered: Vec::new(),
            consumed: 0,
        }));
    }
    let file = File::open(path).map_err(|source| crate::record::OpenError {
        path: path.to_owned(),
        source,
    })?;
    Ok(Source::File(BufReader::new(file)))
}

/// Follows a log directory (or one event file) that is still being
/// written: each [`poll`](Self::poll) returns only the events written since
/// the last one and folds them into [`logdir`](Self::logdir).
///
/// A record the writer has only half written (a torn tail) is read in full
/// on a later poll; event files that appear later are picked up, in file
/// name order within their run; a damaged record is skipped and noted in
/// its file's [`EventFileSummary`], as [`Logdir::scan`] does. `SessionLog
/// START` purges apply as they arrive (see [`super::Run::add_event`]).
#[derive(Debug)]
pub struct LogdirWatcher {
    logdir: Logdir,
    /// Every event file seen, by run and path (as found under the root),
    /// so runs are read in name order and files in name order within them.
    tails: BTreeMap<(String, PathBuf), Tail>,
}

impl LogdirWatcher {
    /// A watcher of `root`; nothing is read until the first
    /// [`poll`](Self::poll).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LogdirWatcher {
            logdir: Logdir {
                root: root.into(),
                runs: BTreeMap::new(),
            },
            tails: BTreeMap::new(),
        }
    }

    /// Everything read so far.
    pub fn logdir(&self) -> &Logdir {
        &self.logdir
    }

    /// Everything read so far, by value.
    pub fn into_logdir(self) -> Logdir {
        self.logdir
    }

    /// Reads what was written since the last poll: new events of known
    /// files, then new files. Fails only when the directory (or a
    /// subdirectory) cannot be listed; file problems are noted per file.
    pub fn poll(&mut self) -> Result<Vec<NewEvent>, ScanError> {
        for (run, path, listed_size) in event_files(&self.logdir.root)? {
            let key = (run, path);
            if let Some(tail) = self.tails.get_mut(&key) {
                tail.listed_size = listed_size;
                continue;
            }
            let (run, path) = key;
            let files = &mut self.logdir.runs.entry(run.clone()).or_default().files;
            files.push(EventFileSummary {
                path: relative(&self.logdir.root, &path),
                events: 0,
                status: FileStatus::Complete,
                skipped: Vec::new(),
                skipped_count: 0,
            });
            let summary = files.len() - 1;
            let reader = match open_source(&path) {
                Ok(source) => Some(EventFileReader::new(source)),
                Err(e) => {
                    files[summary].status = FileStatus::Failed(e);
                    None
                }
            };
            self.tails.insert(
                (run.clone(), path),
                Tail {
                    run,
                    summary,
                    reader,
                    listed_size,
                },
            );
        }
        let mut new = Vec::new();
        for tail in self.tails.values_mut() {
            let Some(reader) = tail.reader.as_mut() else {
                continue;
            };
            let run = self.logdir.runs.entry(tail.run.clone()).or_default();
            #[cfg(feature = "object-store")]
            if let (Source::Object(object), Some(size)) = (reader.get_mut(), tail.listed_size) {
                if let Err(e) = object.top_up(size) {
                    // Kept: the download is tried again on the next poll.
                    run.files[tail.summary].status = FileStatus::Failed(ReadEventError::Record(
                        crate::record::ReadRecordError::Io(e),
                    ));
                    continue;
                }
            }
            let file = run.files[tail.summary].path.clone();
            let mut events = 0;
            let end = reader.for_each(|event| {
                events += 1;
                run.add_event(&event);
                new.push(NewEvent {
                    run: tail.run.clone(),
                    file: file.clone(),
                    event,
                });
            });
            let summary = &mut run.files[tail.summary];
            summary.events += events;
            summary.skipped.extend(reader.take_skipped());
            summary.skipped_count = reader.skipped_count();
            summary.status = match end {
                Ok(FileEnd::Clean) => FileStatus::Complete,
                Ok(FileEnd::TornTail { offset }) => FileStatus::TornTail { offset },
                // An I/O error may pass; keep the reader for the next poll.
                Err(ReadEventError::Record(e)) if !e.is_fatal() => {
                    FileStatus::Failed(ReadEventError::Record(e))
                }
                Err(e) => {
                    tail.reader = None;
                    FileStatus::Failed(e)
                }
            };
        }
        Ok(new)
    }
}

/// Every file under `root` whose name contains `tfevents`, with its run
/// name (and, for an object, its size), sorted by run and then file name.
/// `root` may be a single file, which is then run `.`. Symlinked
/// directories are not followed, so a link cycle cannot make the walk
/// endless.
fn event_files(root: &Path) -> Result<Vec<(String, PathBuf, Option<u64>)>, ScanError> {
    let err = |path: &Path| {
        let path = path.to_owned();
        move |source| ScanError { path, source }
    };
    #[cfg(feature = "object-store")]
    if let crate::storage::Location::Remote(url) = crate::storage::Location::of(root) {
        return event_objects(url).map_err(err(root));
    }
    #[cfg(not(feature = "object-store"))]
    if let crate::storage::Location::Remote(url) = crate::storage::Location::of(root) {
        return Err(err(root)(crate::storage::feature_missing(url)));
    }
    if std::fs::metadata(root).map_err(err(root))?.is_file() {
        return Ok(vec![(".".to_owned(), root.to_owned(), None)]);
    }
    let mut found = Vec::new();
    let mut dirs = vec![root.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).map_err(err(&dir))? {
            let entry = entry.map_err(err(&dir))?;
            let kind = entry.file_type().map_err(err(&entry.path()))?;
            if kind.is_dir() {
                dirs.push(entry.path());
            } else if entry.file_name().to_string_lossy().contains("tfevents") {
                found.push((run_name(root, &dir), entry.path(), None));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// [`event_files`] of an object-store prefix: one listing of every object
/// under it; run names are the objects' folders relative to the prefix.
#[cfg(feature = "object-store")]
fn event_objects(url: &str) -> io::Result<Vec<(String, PathBuf, Option<u64>)>> {
    let root = crate::storage::remote::Remote::open(url)?;
    let listed = root.list()?;
    if listed.is_empty() {
        // The URL may name one event object rather than a folder.
        if let Some(size) = root.size()? {
            return Ok(vec![(".".to_owned(), PathBuf::from(url), Some(size))]);
        }
    }
    let mut found: Vec<_> = listed
        .into_iter()
        .filter_map(|(key, size)| {
            let (dir, name) = key.rsplit_once('/').unwrap_or((".", &key));
            name.contains("tfevents").then(|| {
                (
                    dir.to_owned(),
                    PathBuf::from(root.child(&key).url()),
                    Some(size),
                )
            })
        })
        .collect();
    found.sort();
    Ok(found)
}

/// `path` relative to the log directory `root`; for a root that is itself
/// a file, relative to its directory.
fn relative(root: &Path, path: &Path) -> PathBuf {
    if root == path {
        return path
            .file_name()
            .map_or_else(|| path.to_owned(), PathBuf::from);
    }
    path.strip_prefix(root).unwrap_or(path).to_owned()
}

fn run_name(root: &Path, dir: &Path) -> String {
    let rel = dir.strip_prefix(root).unwrap_or(dir);
    let parts: Vec<_> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect();
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}
