//! Where a run's files go: event file names (unique across writers,
//! processes and machines sharing a log directory), creating a new event
//! file without ever overwriting one, and PyTorch's default log directory.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use super::SummaryWriter;
use crate::summary::SummaryError;

/// Per-process counter in event file names, so two writers created in the
/// same second never pick the same name.
pub(super) static FILE_COUNTER: AtomicU64 = AtomicU64::new(0);

/// How many names [`create_event_file`] tries before giving up (each
/// collision means another writer took the name a moment ago).
const NAME_ATTEMPTS: u32 = 1000;

/// The TensorBoard file name
/// `events.out.tfevents.<10-digit unix secs>.<hostname>.<pid>.<6-digit counter><suffix>`.
///
/// TensorBoard reads a run's files in name order, so the counter is
/// zero-padded: a writer that replaces another in the same second (a
/// `purge_step` restart) must sort after it, and `.10` sorts before `.9`.
pub fn event_file_name(
    unix_secs: u64,
    hostname: &str,
    pid: u32,
    counter: u64,
    suffix: &str,
) -> String {
    format!("{EVENT_FILE_PREFIX}{unix_secs:010}.{hostname}.{pid}.{counter:06}{suffix}")
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
pub(super) fn hostname() -> &'static str {
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

pub(super) fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Creates a new file in `logdir` named `name(counter)`, taking counter
/// values from `counter` until a name is free.
pub(super) fn create_event_file(
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

impl SummaryWriter {
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
        let offset =
            crate::summary::local_time::utc_offset(std::env::var_os("TZ").as_deref(), unix);
        let stamp = crate::summary::local_time::torch_time_stamp(unix, offset);
        Path::new("runs").join(format!("{stamp}_{}{comment}", hostname()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn file_name_scheme() {
        assert_eq!(
            event_file_name(12345, "host", 42, 3, ".v2"),
            "events.out.tfevents.0000012345.host.42.000003.v2"
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
    fn names_sort_in_the_order_they_were_made() {
        let names: Vec<String> = [0, 9, 10, 99, 100, 123_456]
            .into_iter()
            .map(|counter| event_file_name(1_700_000_000, "host", 42, counter, ".x"))
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(sorted, names);
        assert_eq!(names[1], "events.out.tfevents.1700000000.host.42.000009.x");
    }

    #[test]
    fn hostname_is_a_usable_file_name_part() {
        let host = hostname();
        assert!(!host.is_empty());
        assert!(!host.contains('/') && !host.contains('\n'), "{host:?}");
    }
}
