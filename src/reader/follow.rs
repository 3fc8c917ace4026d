//! Following a log directory that a training job is still writing.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
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
    reader: Option<EventFileReader<BufReader<File>>>,
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
        for (run, path) in event_files(&self.logdir.root)? {
            let key = (run, path);
            if self.tails.contains_key(&key) {
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
            let reader = match EventFileReader::open(&path) {
                Ok(reader) => Some(reader),
                Err(e) => {
                    files[summary].status = FileStatus::Failed(e.into());
                    None
                }
            };
            self.tails.insert(
                (run.clone(), path),
                Tail {
                    run,
                    summary,
                    reader,
                },
            );
        }
        let mut new = Vec::new();
        for tail in self.tails.values_mut() {
            let Some(reader) = tail.reader.as_mut() else {
                continue;
            };
            let run = self.logdir.runs.entry(tail.run.clone()).or_default();
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
/// name, sorted by run and then file name. `root` may be a single file,
/// which is then run `.`. Symlinked directories are not followed, so a
/// link cycle cannot make the walk endless.
fn event_files(root: &Path) -> Result<Vec<(String, PathBuf)>, ScanError> {
    let err = |path: &Path| {
        let path = path.to_owned();
        move |source| ScanError { path, source }
    };
    if std::fs::metadata(root).map_err(err(root))?.is_file() {
        return Ok(vec![(".".to_owned(), root.to_owned())]);
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
                found.push((run_name(root, &dir), entry.path()));
            }
        }
    }
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
