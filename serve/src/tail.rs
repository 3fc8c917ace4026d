//! Following a local log directory without keeping what was read: one
//! event file reader per `tfevents` file, each resumed where it stopped,
//! handing every new event to the caller. tbseg's `LogdirWatcher` does the
//! same but also keeps every value in its `Logdir`; the server keeps only
//! its reservoir samples, so for local folders it reads through this.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use tbseg::proto::tensorflow::Event;
use tbseg::reader::{EventFileReader, ReadEventError};

/// The event files of a local log directory, each read up to where it
/// currently ends.
#[derive(Debug)]
pub struct LocalTails {
    root: PathBuf,
    /// By run, then path, so runs are read in name order and files in
    /// name order within them; `None` once a file cannot be read further.
    files: BTreeMap<(String, PathBuf), Option<EventFileReader<BufReader<File>>>>,
}

impl LocalTails {
    /// Follows the folder `root`; nothing is read until [`Self::poll`].
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalTails {
            root: root.into(),
            files: BTreeMap::new(),
        }
    }

    /// Reads what was appended since the last poll, new files included,
    /// handing each event to `visit` with its run. Problems, each a line
    /// naming its path, go to `report`: a folder that cannot be listed
    /// hides only what is under it. Returns the runs that still have
    /// event files.
    pub fn poll(
        &mut self,
        mut visit: impl FnMut(&str, Event),
        mut report: impl FnMut(String),
    ) -> Vec<String> {
        let listed = self.list(&mut report);
        // Files that are gone (a deleted run) are forgotten.
        self.files.retain(|key, _| listed.contains(key));
        for key in listed {
            if let std::collections::btree_map::Entry::Vacant(slot) = self.files.entry(key) {
                let path = &slot.key().1;
                let reader = match File::open(path) {
                    Ok(file) => Some(EventFileReader::new(BufReader::new(file))),
                    Err(e) => {
                        report(format!("tbseg-serve: cannot read {}: {e}", path.display()));
                        None
                    }
                };
                slot.insert(reader);
            }
        }
        for ((run, path), slot) in &mut self.files {
            let Some(reader) = slot.as_mut() else {
                continue;
            };
            let end = reader.for_each(|event| visit(run, event));
            for skipped in reader.take_skipped() {
                report(format!(
                    "tbseg-serve: run {run}: {}: skipped: {skipped}",
                    path.display()
                ));
            }
            match end {
                // A torn tail is a record still being written: read on
                // next time.
                Ok(_) => {}
                Err(ReadEventError::Record(e)) if !e.is_fatal() => {
                    report(format!(
                        "tbseg-serve: run {run}: cannot read {}: {e}",
                        path.display()
                    ));
                }
                Err(e) => {
                    report(format!(
                        "tbseg-serve: run {run}: cannot read {}: {e}",
                        path.display()
                    ));
                    *slot = None;
                }
            }
        }
        let mut runs: Vec<String> = self.files.keys().map(|(run, _)| run.clone()).collect();
        runs.dedup();
        runs
    }

    /// Every `tfevents` file under the root, with its run, as TensorBoard
    /// finds them (symlinked folders are not followed, so a link cycle
    /// cannot make the walk endless).
    fn list(&self, report: &mut impl FnMut(String)) -> BTreeSet<(String, PathBuf)> {
        let mut found = BTreeSet::new();
        match std::fs::metadata(&self.root) {
            Ok(meta) if meta.is_file() => {
                found.insert((".".to_owned(), self.root.clone()));
                return found;
            }
            Ok(_) => {}
            Err(e) => {
                report(format!(
                    "tbseg-serve: cannot read {}: {e}",
                    self.root.display()
                ));
                return found;
            }
        }
        let mut dirs = vec![self.root.clone()];
        while let Some(dir) = dirs.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) => {
                    report(format!("tbseg-serve: cannot read {}: {e}", dir.display()));
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
                    found.insert((run_name(&self.root, &dir), entry.path()));
                }
            }
        }
        found
    }
}

/// The run of the files in `dir`: its path below `root`, `/`-separated,
/// or `.` for the root itself.
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
