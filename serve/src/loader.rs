//! The reload loop: polls the log directory through tbseg's
//! [`LogdirWatcher`], which reads only what was appended since the last
//! poll (new events, new files, new runs), and adds the new events to the
//! shared [`Logdir`] the service answers from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tbseg::reader::{FileStatus, LogdirWatcher};

use crate::sampling::SamplesPerPlugin;
use crate::store::RunData;

/// Everything the service reads: the runs loaded so far.
#[derive(Debug, Default)]
pub struct Logdir {
    /// What the log directory was given as, for `GetExperiment`.
    pub location: String,
    /// Runs by name.
    pub runs: RwLock<BTreeMap<String, RunData>>,
    /// Whether the first full read is done.
    pub loaded: AtomicBool,
}

/// Reads `root` into a [`Logdir`] and keeps it current.
pub struct Loader {
    watcher: LogdirWatcher,
    sampling: SamplesPerPlugin,
    shared: Arc<Logdir>,
    /// Problems already reported, so that each is reported once.
    reported: BTreeSet<String>,
    local: bool,
}

impl Loader {
    /// A loader of `root` (a folder, or with the `object-store` feature an
    /// `s3://`, `gs://` or `az://` URL) keeping `sampling` points per tag.
    pub fn new(root: impl Into<PathBuf>, sampling: SamplesPerPlugin) -> Self {
        let root = root.into();
        let local = !tbseg::storage::is_remote(&root);
        let shared = Arc::new(Logdir {
            location: root.display().to_string(),
            ..Default::default()
        });
        Loader {
            watcher: LogdirWatcher::new(root),
            sampling,
            shared,
            reported: BTreeSet::new(),
            local,
        }
    }

    /// What the service answers from.
    pub fn logdir(&self) -> Arc<Logdir> {
        self.shared.clone()
    }

    /// Reads what is new; returns how many events were added. Problems
    /// (an unreadable log directory, a damaged event file) are reported on
    /// stderr once each, in one line naming the path, and do not stop the
    /// runs that can be read.
    pub fn reload(&mut self) -> usize {
        let events = match self.watcher.poll() {
            Ok(events) => events,
            Err(e) => {
                let source = e.source.to_string();
                self.report(format!(
                    "tbseg-serve: cannot read {}: {source}",
                    e.path.display()
                ));
                Vec::new()
            }
        };
        let added = events.len();
        {
            let mut runs = self.shared.runs.write().unwrap_or_else(|e| e.into_inner());
            for new in &events {
                runs.entry(new.run.clone())
                    .or_default()
                    .add_event(&new.event, &self.sampling);
            }
            if self.local {
                // A run whose folder is gone is dropped, as TensorBoard
                // drops it; it comes back if new event files appear.
                let logdir = self.watcher.logdir();
                runs.retain(|name, _| logdir.run_dir(name).exists());
            }
        }
        let mut problems = Vec::new();
        for (name, run) in &self.watcher.logdir().runs {
            for file in &run.files {
                if let FileStatus::Failed(e) = &file.status {
                    let path = self.watcher.logdir().root.join(&file.path);
                    problems.push(format!(
                        "tbseg-serve: run {name}: cannot read {}: {e}",
                        path.display()
                    ));
                }
            }
        }
        for problem in problems {
            self.report(problem);
        }
        self.shared.loaded.store(true, Ordering::Release);
        added
    }

    fn report(&mut self, line: String) {
        if self.reported.insert(line.clone()) {
            eprintln!("{line}");
        }
    }

    /// Reloads forever, every `interval` (once only for a zero interval,
    /// as TensorBoard's `--reload_interval 0` does).
    pub fn run(mut self, interval: Duration) {
        loop {
            self.reload();
            if interval.is_zero() {
                return;
            }
            std::thread::sleep(interval);
        }
    }
}
