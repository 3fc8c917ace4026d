//! The reload loop: reads only what was appended to the log directory
//! since the last reload (new events, new files, new runs) and adds it to
//! the shared [`Logdir`] the service answers from, through [`Tails`],
//! which keeps nothing of what it read. Runs are read in parallel, each
//! under its own lock, so a run that is loaded is served while others are
//! still being read.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use crate::sampling::SamplesPerPlugin;
use crate::store::RunData;
use crate::tail::{Problem, Tails};

/// One run as the service reads it and the loader fills it.
pub type SharedRun = Arc<RwLock<RunData>>;

/// Everything the service reads: the runs loaded so far.
#[derive(Debug, Default)]
pub struct Logdir {
    /// What the log directory was given as, for `GetExperiment`.
    pub location: String,
    /// Runs by name, each with its own lock (a run being read does not
    /// hold up answers about the others).
    pub runs: RwLock<BTreeMap<String, SharedRun>>,
    /// Whether the first full read is done.
    pub loaded: AtomicBool,
}

impl Logdir {
    /// The runs now known, in name order (a snapshot: runs added or
    /// dropped later do not change it).
    pub fn runs(&self) -> Vec<(String, SharedRun)> {
        let runs = self.runs.read().unwrap_or_else(PoisonError::into_inner);
        runs.iter()
            .map(|(name, run)| (name.clone(), run.clone()))
            .collect()
    }

    /// The run `name`, if known.
    pub fn run(&self, name: &str) -> Option<SharedRun> {
        let runs = self.runs.read().unwrap_or_else(PoisonError::into_inner);
        runs.get(name).cloned()
    }

    /// The run `name`, added if new.
    fn run_or_insert(&self, name: &str) -> SharedRun {
        let mut runs = self.runs.write().unwrap_or_else(PoisonError::into_inner);
        runs.entry(name.to_owned()).or_default().clone()
    }
}

/// Reads `root` into a [`Logdir`] and keeps it current.
pub struct Loader {
    tails: Tails,
    sampling: SamplesPerPlugin,
    shared: Arc<Logdir>,
    /// How many runs are read at once.
    parallel: usize,
    /// Problems already reported, by what failed, with the line reported:
    /// each is reported once, however its cause's wording varies.
    reported: BTreeMap<String, String>,
}

/// Runs read at once by default: one per core, at least 2 (reading an
/// object store waits on the network) and at most 8.
fn default_parallel() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8))
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
        Loader {
            tails: Tails::new(root),
            sampling,
            shared,
            parallel: default_parallel(),
            reported: BTreeMap::new(),
        }
    }

    /// Reads at most `runs` runs at once (at least 1).
    pub fn with_parallel_runs(mut self, runs: usize) -> Self {
        self.parallel = runs.max(1);
        self
    }

    /// What the service answers from.
    pub fn logdir(&self) -> Arc<Logdir> {
        self.shared.clone()
    }

    /// Reads what is new; returns how many events were added. Runs are
    /// read in parallel, each by one thread that takes the run's lock per
    /// event, so the service answers (with what is loaded so far) while a
    /// large folder is read. Problems (an unreadable log directory, a
    /// damaged event file) are reported on stderr once each, in one line
    /// naming the path, and do not stop the runs that can be read.
    pub fn reload(&mut self) -> usize {
        let problems = Mutex::new(Vec::new());
        let report = |problem: Problem| {
            problems
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(problem)
        };
        let present = self.tails.list(report);
        {
            // A run whose event files are all gone is dropped; it comes
            // back if new event files appear.
            let mut runs = self
                .shared
                .runs
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            runs.retain(|name, _| present.binary_search(name).is_ok());
        }
        let added = AtomicUsize::new(0);
        let queue = Mutex::new(self.tails.runs_mut());
        let (shared, sampling) = (&self.shared, &self.sampling);
        std::thread::scope(|scope| {
            for _ in 0..self.parallel.min(present.len()) {
                scope.spawn(|| loop {
                    let next = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
                    let Some((name, tails)) = next else {
                        break;
                    };
                    // Added to the shared runs at its first event, as a
                    // run is listed once it has one.
                    let mut run: Option<SharedRun> = None;
                    let mut events = 0;
                    tails.read(
                        name,
                        |event| {
                            events += 1;
                            let run = run.get_or_insert_with(|| shared.run_or_insert(name));
                            run.write()
                                .unwrap_or_else(PoisonError::into_inner)
                                .add_event(&event, sampling);
                        },
                        report,
                    );
                    added.fetch_add(events, Ordering::Relaxed);
                });
            }
        });
        drop(queue);
        for problem in problems
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
        {
            self.report(problem);
        }
        self.shared.loaded.store(true, Ordering::Release);
        added.into_inner()
    }

    /// Every problem reported so far, one line each.
    pub fn problems(&self) -> impl Iterator<Item = &str> {
        self.reported.values().map(String::as_str)
    }

    fn report(&mut self, problem: Problem) {
        if let std::collections::btree_map::Entry::Vacant(entry) =
            self.reported.entry(problem.what.clone())
        {
            let line = problem.to_string();
            eprintln!("{line}");
            entry.insert(line);
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
