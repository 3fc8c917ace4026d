//! Following a log directory without keeping what was read: one event file
//! reader per `tfevents` file (or object), each resumed where it stopped,
//! handing every new event to the caller. tbseg's `LogdirWatcher` does the
//! same but keeps every value in its `Logdir` (and downloads an object's
//! new bytes in one piece); the server keeps only its reservoir samples, so
//! it reads through this.
//!
//! Files are grouped by run so that runs can be read in parallel: each
//! [`RunTails`] is read on its own by one thread.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tbseg::proto::tensorflow::Event;
use tbseg::reader::{EventFileReader, FileEnd, ReadEventError};

/// Bytes of an object downloaded per request: what reading an object
/// holds in memory at most, besides the record being decoded.
#[cfg(feature = "object-store")]
pub const OBJECT_CHUNK: u64 = 1 << 20;

/// The event files of a log directory (a folder, or an object-store URL),
/// by run, each read up to where it currently ends.
#[derive(Debug)]
pub struct Tails {
    root: PathBuf,
    runs: BTreeMap<String, RunTails>,
}

/// The event files of one run, by path, read in name order.
#[derive(Debug, Default)]
pub struct RunTails {
    files: BTreeMap<PathBuf, FileTail>,
}

/// Where reading one event file stands.
#[derive(Debug)]
struct FileTail {
    /// For an object: its size at the last listing.
    listed_size: Option<u64>,
    state: TailState,
    /// For an open object: how far it is read and known to extend,
    /// shared with its reader's source.
    progress: Option<Arc<ObjectProgress>>,
}

/// How far an object is downloaded, and how far it extends.
#[derive(Debug, Default)]
struct ObjectProgress {
    fetched: AtomicU64,
    size: AtomicU64,
}

#[derive(Debug)]
enum TailState {
    /// Listed but not opened yet: opening happens in the reading thread
    /// (opening a local file can block, as a named pipe does).
    New,
    /// Being read.
    Open(Box<EventFileReader<Source>>),
    /// An object read to a record boundary at this many bytes: no reader
    /// (nor its buffers) is kept; one is made again if the object grows.
    Done(u64),
    /// Cannot be read further.
    Failed,
}

/// Where an event file's bytes come from.
#[derive(Debug)]
enum Source {
    File(BufReader<File>),
    #[cfg(feature = "object-store")]
    Object(ObjectSource),
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::File(file) => file.read(buf),
            #[cfg(feature = "object-store")]
            Source::Object(object) => object.read(buf),
        }
    }
}

/// An object read in ranges of [`OBJECT_CHUNK`] bytes up to its listed
/// size: only one range is in memory at a time.
#[cfg(feature = "object-store")]
#[derive(Debug)]
struct ObjectSource {
    object: tbseg::storage::remote::Remote,
    /// Bytes downloaded so far (from the start of the object), and bytes
    /// known to exist (the size at the last listing).
    progress: Arc<ObjectProgress>,
    chunk: Vec<u8>,
    consumed: usize,
}

#[cfg(feature = "object-store")]
impl Read for ObjectSource {
    /// The end of the listed size reads as the end of the file, which the
    /// record reader treats as "more may come".
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.consumed == self.chunk.len() {
            // Freed before the next range, and when the object is read out.
            self.chunk = Vec::new();
            self.consumed = 0;
            let fetched = self.progress.fetched.load(Ordering::Relaxed);
            let size = self.progress.size.load(Ordering::Relaxed);
            if fetched >= size {
                return Ok(0);
            }
            let end = size.min(fetched + OBJECT_CHUNK);
            self.chunk = self.object.get_range(fetched..end)?;
            self.progress
                .fetched
                .store(fetched + self.chunk.len() as u64, Ordering::Relaxed);
            if self.chunk.is_empty() {
                return Ok(0);
            }
        }
        let rest = &self.chunk[self.consumed..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.consumed += n;
        Ok(n)
    }
}

impl Tails {
    /// Follows `root`; nothing is read until [`Self::list`] and
    /// [`RunTails::read`].
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Tails {
            root: root.into(),
            runs: BTreeMap::new(),
        }
    }

    /// Lists the event files: new ones are added, gone ones (a deleted
    /// run) forgotten. Problems, each a line naming its path, go to
    /// `report`: a folder that cannot be listed hides only what is under
    /// it. Returns the runs that have event files, in name order.
    pub fn list(&mut self, mut report: impl FnMut(Problem)) -> Vec<String> {
        let listed = if tbseg::storage::is_remote(&self.root) {
            list_objects(&self.root, &mut report)
        } else {
            list_files(&self.root, &mut report).into_iter().collect()
        };
        let mut by_run: BTreeMap<String, BTreeMap<PathBuf, Option<u64>>> = BTreeMap::new();
        for (run, path, size) in listed {
            by_run.entry(run).or_default().insert(path, size);
        }
        self.runs.retain(|run, _| by_run.contains_key(run));
        for (run, files) in by_run {
            let tails = self.runs.entry(run).or_default();
            tails.files.retain(|path, _| files.contains_key(path));
            for (path, listed_size) in files {
                tails
                    .files
                    .entry(path)
                    .or_insert(FileTail {
                        listed_size,
                        state: TailState::New,
                        progress: None,
                    })
                    .listed_size = listed_size;
            }
        }
        self.runs.keys().cloned().collect()
    }

    /// Each run's files, for reading (each run by one thread at a time).
    pub fn runs_mut(&mut self) -> impl Iterator<Item = (&str, &mut RunTails)> + Send {
        self.runs
            .iter_mut()
            .map(|(name, tails)| (name.as_str(), tails))
    }
}

impl RunTails {
    /// Reads what was appended to the run's files since the last read,
    /// new files included, handing each event to `visit`. Problems, each a
    /// line naming its path, go to `report`.
    pub fn read(
        &mut self,
        run: &str,
        mut visit: impl FnMut(Event),
        mut report: impl FnMut(Problem),
    ) {
        for (path, tail) in &mut self.files {
            let state = std::mem::replace(&mut tail.state, TailState::Failed);
            let mut reader = match state {
                TailState::Failed => continue,
                TailState::Open(reader) => reader,
                TailState::Done(at) if tail.listed_size.is_none_or(|size| size <= at) => {
                    tail.state = TailState::Done(at);
                    continue;
                }
                TailState::Done(at) => match open(path, at) {
                    Ok((reader, progress)) => {
                        tail.progress = progress;
                        reader
                    }
                    Err(e) => {
                        report(Problem::new(
                            format!("tbseg-serve: run {run}: cannot read {}", path.display()),
                            &e,
                        ));
                        tail.state = TailState::Done(at);
                        continue;
                    }
                },
                TailState::New => match open(path, 0) {
                    Ok((reader, progress)) => {
                        tail.progress = progress;
                        reader
                    }
                    Err(e) => {
                        report(Problem::new(
                            format!("tbseg-serve: cannot read {}", path.display()),
                            &e,
                        ));
                        continue;
                    }
                },
            };
            if let (Some(progress), Some(size)) = (&tail.progress, tail.listed_size) {
                progress.size.fetch_max(size, Ordering::Relaxed);
            }
            let end = reader.for_each(&mut visit);
            for skipped in reader.take_skipped() {
                report(Problem::plain(format!(
                    "tbseg-serve: run {run}: {}: skipped: {skipped}",
                    path.display()
                )));
            }
            tail.state = match end {
                // An object read out to a record boundary: its reader goes.
                Ok(FileEnd::Clean) => match tail.progress.take() {
                    Some(progress) => TailState::Done(progress.fetched.load(Ordering::Relaxed)),
                    None => TailState::Open(reader),
                },
                // A torn tail is a record still being written: read on
                // next time.
                Ok(_) => TailState::Open(reader),
                // An I/O error may pass (the reader resumes where it
                // stopped).
                Err(ReadEventError::Record(e)) if !e.is_fatal() => {
                    report(Problem::new(
                        format!("tbseg-serve: run {run}: cannot read {}", path.display()),
                        &e,
                    ));
                    TailState::Open(reader)
                }
                Err(e) => {
                    report(Problem::new(
                        format!("tbseg-serve: run {run}: cannot read {}", path.display()),
                        &e,
                    ));
                    TailState::Failed
                }
            };
        }
    }
}

/// An opened event file or object; an object comes with its shared
/// progress.
type Opened = (Box<EventFileReader<Source>>, Option<Arc<ObjectProgress>>);

/// Opens the event file or object `path`, to be read from byte `at`
/// (objects only; a file is read from its start).
fn open(path: &Path, at: u64) -> io::Result<Opened> {
    #[cfg(feature = "object-store")]
    if let tbseg::storage::Location::Remote(url) = tbseg::storage::Location::of(path) {
        let object = tbseg::storage::remote::Remote::open(url)?;
        let progress = Arc::new(ObjectProgress {
            fetched: AtomicU64::new(at),
            size: AtomicU64::new(at),
        });
        let source = Source::Object(ObjectSource {
            object,
            progress: progress.clone(),
            chunk: Vec::new(),
            consumed: 0,
        });
        return Ok((Box::new(EventFileReader::new(source)), Some(progress)));
    }
    debug_assert_eq!(at, 0);
    let file = File::open(path)?;
    let source = Source::File(BufReader::new(file));
    Ok((Box::new(EventFileReader::new(source)), None))
}

/// Every `tfevents` file under the folder `root`, with its run, as
/// TensorBoard finds them (symlinked folders are not followed, so a link
/// cycle cannot make the walk endless).
fn list_files(
    root: &Path,
    report: &mut impl FnMut(Problem),
) -> BTreeSet<(String, PathBuf, Option<u64>)> {
    let mut found = BTreeSet::new();
    match std::fs::metadata(root) {
        Ok(meta) if meta.is_file() => {
            found.insert((".".to_owned(), root.to_owned(), None));
            return found;
        }
        Ok(_) => {}
        Err(e) => {
            report(Problem::new(
                format!("tbseg-serve: cannot read {}", root.display()),
                &e,
            ));
            return found;
        }
    }
    let mut dirs = vec![root.to_owned()];
    while let Some(dir) = dirs.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                report(Problem::new(
                    format!("tbseg-serve: cannot read {}", dir.display()),
                    &e,
                ));
                continue;
            }
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                dirs.push(entry.path());
            } else if entry.file_name().to_string_lossy().contains("tfevents") {
                found.insert((run_name(root, &dir), entry.path(), None));
            }
        }
    }
    found
}

/// Every object under the URL `root` whose name contains `tfevents`, with
/// its run (the key's folder below `root`) and size.
fn list_objects(
    root: &Path,
    report: &mut impl FnMut(Problem),
) -> Vec<(String, PathBuf, Option<u64>)> {
    #[cfg(feature = "object-store")]
    {
        let url = root.to_string_lossy();
        let listed = tbseg::storage::remote::Remote::open(&url).and_then(|remote| remote.list());
        match listed {
            Ok(objects) => objects
                .into_iter()
                .filter_map(|(key, size)| {
                    let (dir, name) = key.rsplit_once('/').unwrap_or(("", &key));
                    name.contains("tfevents").then(|| {
                        let run = if dir.is_empty() { "." } else { dir };
                        (run.to_owned(), tbseg::storage::join(root, &key), Some(size))
                    })
                })
                .collect(),
            Err(e) => {
                report(Problem::new(format!("tbseg-serve: cannot read {url}"), &e));
                Vec::new()
            }
        }
    }
    #[cfg(not(feature = "object-store"))]
    {
        report(Problem {
            what: format!("tbseg-serve: cannot read {}", root.display()),
            why: tbseg::storage::feature_missing(&root.to_string_lossy()).to_string(),
        });
        Vec::new()
    }
}

/// The run of the files in `dir`: its path below `root`, `/`-separated,
/// or `.` for the root itself.
/// A problem to report: what could not be done (naming the path) and why.
/// Reported once per `what`: the `why` of a store's error changes from one
/// attempt to the next (it carries the request's duration), the `what` not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// What failed, naming the path or URL.
    pub what: String,
    /// The cause, in one line; may be empty.
    pub why: String,
}

impl Problem {
    fn new(what: String, error: &dyn std::error::Error) -> Self {
        Problem {
            what,
            why: tbseg::error_line(error),
        }
    }

    fn plain(what: String) -> Self {
        Problem {
            what,
            why: String::new(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.why.is_empty() {
            f.write_str(&self.what)
        } else {
            write!(f, "{}: {}", self.what, self.why)
        }
    }
}

fn run_name(root: &Path, dir: &Path) -> String {
    let parts: Vec<_> = dir
        .strip_prefix(root)
        .unwrap_or(dir)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect();
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}
