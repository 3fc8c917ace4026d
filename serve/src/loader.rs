//! The reload loop: reads only what was appended to the log directory
//! since the last reload (new events, new files, new runs) and adds it to
//! the shared [`Logdir`] the service answers from. A local folder is
//! followed by [`LocalTails`], which keeps nothing of what it read; an
//! object-store URL by tbseg's [`LogdirWatcher`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tbseg::reader::{FileStatus, LogdirWatcher};

use crate::sampling::SamplesPerPlugin;
use crate::store::RunData;
use crate::tail::LocalTails;

/// Where new events come from.
enum Source {
    Local(LocalTails),
    /// Object stores: the watcher keeps every value it read (a limit: the
    /// memory grows with the logs there).
    Watcher(LogdirWatcher),
}

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
    source: Source,
    sampling: SamplesPerPlugin,
    shared: Arc<Logdir>,
    /// Problems already reported, so that each is reported once.
    reported: BTreeSet<String>,
}

impl Loader {
    /// A loader of `root` (a folder, or with the `object-store` feature an
    /// `s3://`, `gs://` or `az://` URL) keeping `sampling` points per tag.
    pub fn new(root: impl Into<PathBuf>, sampling: SamplesPerPlugin) -> Self {
        let root = root.into();
        let shared = Arc::new(Logdir {
            location: root.display().to_string(),
            ..Default::default()
        });
        let source = if tbseg::storage::is_remote(&root) {
            Source::Watcher(LogdirWatcher::new(root))
        } else {
            Source::Local(LocalTails::new(root))
        };
        Loader {
            source,
            sampling,
            shared,
            reported: BTreeSet::new(),
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
        let mut added = 0;
        let mut problems = Vec::new();
        let shared = &self.shared;
        let sampling = &self.sampling;
        // The lock is taken per event, so that the service answers (with
        // what is loaded so far) while a large folder is read.
        let mut add = |run: &str, event: &tbseg::proto::tensorflow::Event| {
            added += 1;
            let mut runs = shared.runs.write().unwrap_or_else(|e| e.into_inner());
            runs.entry(run.to_owned())
                .or_default()
                .add_event(event, sampling);
        };
        match &mut self.source {
            Source::Local(tails) => {
                let present = tails.poll(|run, event| add(run, &event), |line| problems.push(line));
                // A run whose event files are all gone is dropped; it
                // comes back if new event files appear.
                let mut runs = shared.runs.write().unwrap_or_else(|e| e.into_inner());
                runs.retain(|name, _| present.binary_search(name).is_ok());
            }
            Source::Watcher(watcher) => {
                match watcher.poll() {
                    Ok(events) => events.iter().for_each(|new| add(&new.run, &new.event)),
                    Err(e) => problems.push(format!(
                        "tbseg-serve: cannot read {}: {}",
                        e.path.display(),
                        e.source
                    )),
                }
                for (name, run) in &watcher.logdir().runs {
                    for file in &run.files {
                        if let FileStatus::Failed(e) = &file.status {
                            let path = watcher.logdir().root.join(&file.path);
                            problems.push(format!(
                                "tbseg-serve: run {name}: cannot read {}: {e}",
                                path.display()
                            ));
                        }
                    }
                }
            }
        }
        for problem in problems {
            self.report(problem);
        }
        self.shared.loaded.store(true, Ordering::Release);
        added
    }

    /// Every problem reported so far, one line each.
    pub fn problems(&self) -> impl Iterator<Item = &str> {
        self.reported.iter().map(String::as_str)
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
