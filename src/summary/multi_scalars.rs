//! [`SummaryWriter::add_scalars`]: several curves in one chart, written as
//! PyTorch's `SummaryWriter.add_scalars` writes them.
//!
//! TensorBoard draws one chart per tag and one curve per run, so several
//! curves in one chart need several runs. PyTorch gives each `(main_tag,
//! name)` pair its own event file in the sub-run
//! `<logdir>/<main_tag with '/' replaced by '_'>_<name>`, and logs the
//! value there under the tag `main_tag`; tbseg does exactly the same, so
//! logs and dashboards carry over unchanged. The sub-run writers are made
//! on first use with the parent writer's options (flush interval, queue
//! bound, file name suffix, `purge_step`, so a resumed run's sub-runs are
//! purged too) and are flushed, synced and closed with it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use super::inputs::Step;
use super::pairs::ScalarPair;
use super::{SummaryError, SummaryWriter, SummaryWriterBuilder};

/// The sub-run writers of one [`SummaryWriter`], by directory.
pub(crate) struct SubRuns {
    /// The parent's options; each sub-run gets them with its own logdir.
    options: SummaryWriterBuilder,
    state: Mutex<SubRunState>,
}

#[derive(Default)]
struct SubRunState {
    writers: BTreeMap<PathBuf, SummaryWriter>,
    /// Set when the parent closes: no sub-run is made after that.
    closed: bool,
}

impl SubRuns {
    pub(crate) fn new(options: SummaryWriterBuilder) -> Self {
        SubRuns {
            options,
            state: Mutex::new(SubRunState::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SubRunState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The writer of the sub-run in `dir`, made on first use; `parent`
    /// names the parent's file in the error once it is closed.
    fn writer(&self, dir: PathBuf, parent: &Path) -> Result<SummaryWriter, SummaryError> {
        let mut state = self.lock();
        if state.closed {
            return Err(SummaryError::Closed {
                path: parent.to_owned(),
            });
        }
        if let Some(writer) = state.writers.get(&dir) {
            return Ok(writer.clone());
        }
        let writer = self.options.clone().logdir(dir.clone()).build()?;
        state.writers.insert(dir, writer.clone());
        Ok(writer)
    }

    /// Every sub-run writer made so far.
    fn all(&self) -> Vec<SummaryWriter> {
        self.lock().writers.values().cloned().collect()
    }

    /// Flushes every sub-run; the first error, if any.
    pub(crate) fn flush(&self) -> Result<(), SummaryError> {
        first_error(self.all().iter().map(SummaryWriter::flush))
    }

    /// Syncs every sub-run; the first error, if any.
    pub(crate) fn sync(&self) -> Result<(), SummaryError> {
        first_error(self.all().iter().map(SummaryWriter::sync))
    }

    /// Closes every sub-run, and makes no more; the first error, if any.
    pub(crate) fn close(&self) -> Result<(), SummaryError> {
        let writers = {
            let mut state = self.lock();
            state.closed = true;
            std::mem::take(&mut state.writers)
        };
        first_error(writers.values().map(SummaryWriter::close))
    }
}

/// Runs every operation (they are all wanted even after a failure) and
/// keeps the first error.
fn first_error(
    results: impl Iterator<Item = Result<(), SummaryError>>,
) -> Result<(), SummaryError> {
    let mut first = Ok(());
    for result in results {
        if first.is_ok() {
            first = result;
        }
    }
    first
}

/// The sub-run folder PyTorch uses for `name` under `main_tag`:
/// `<main_tag with '/' replaced by '_'>_<name>`.
pub fn sub_run_name(main_tag: &str, name: &str) -> String {
    format!("{}_{name}", main_tag.replace('/', "_"))
}

impl SummaryWriter {
    /// Logs several scalars as curves of one chart, as PyTorch's
    /// `add_scalars(main_tag, tag_scalar_dict, global_step)` does: each
    /// `(name, value)` pair goes into the sub-run
    /// `<run>/<main_tag with '/' replaced by '_'>_<name>` (see
    /// [`sub_run_name`]) under the tag `main_tag`, so TensorBoard shows one
    /// chart `main_tag` with one curve per name (the sub-runs also appear
    /// as runs of their own in the run selector). All values get the same
    /// wall time. `pairs` is any collection of `(name, value)`: a slice or
    /// array of tuples, a `HashMap` or a `BTreeMap`, by value or by
    /// reference (see [`crate::summary::ScalarPair`]); values keep their
    /// precision as in [`SummaryWriter::add_scalar`].
    ///
    /// A name may contain `/` (a nested folder, as in PyTorch) but must not
    /// be empty or have a `.` or `..` component; an empty `main_tag`, a bad
    /// or repeated name, or a writer over a caller-supplied sink (no run
    /// directory) is an [`SummaryError::InvalidArgument`], and nothing is
    /// written. The sub-run writers are created on first use (an I/O error
    /// creating one is returned as it is) and flushed, synced and closed
    /// with this writer.
    ///
    /// ```
    /// use tbseg::summary::SummaryWriter;
    /// # let dir = std::env::temp_dir().join(format!("tbseg-add-scalars-{}", std::process::id()));
    /// let writer = SummaryWriter::new(&dir)?;
    /// for step in 0..3u32 {
    ///     let x = f64::from(step);
    ///     writer.add_scalars("run_14h", &[("xsinx", x * x.sin()), ("xcosx", x * x.cos())], step)?;
    /// }
    /// writer.close()?;
    /// // The values are in sub-runs, under the tag "run_14h".
    /// assert!(dir.join("run_14h_xsinx").is_dir());
    /// assert!(dir.join("run_14h_xcosx").is_dir());
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn add_scalars<I>(
        &self,
        main_tag: &str,
        pairs: I,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError>
    where
        I: IntoIterator,
        I::Item: ScalarPair,
    {
        let invalid = |what, reason: String| SummaryError::InvalidArgument {
            tag: main_tag.to_owned(),
            what,
            reason,
        };
        if main_tag.is_empty() {
            return Err(invalid("main_tag", "empty, expected a tag".into()));
        }
        // One wall time for every sub-run, and a bad step refused before any
        // sub-run is created.
        let (step, wall_time) = step.into().resolve(main_tag, now)?;
        let Some(run_dir) = self.run_dir().map(Path::to_path_buf) else {
            return Err(invalid(
                "writer",
                format!(
                    "add_scalars writes sub-runs beside the run, and the writer for {} has no run \
                     directory (create it with SummaryWriter::new or builder)",
                    self.path().display()
                ),
            ));
        };
        let pairs: Vec<I::Item> = pairs.into_iter().collect();
        let mut seen = std::collections::BTreeSet::new();
        for pair in &pairs {
            let name = pair.name();
            check_name(name).map_err(|reason| invalid("pairs", reason))?;
            if !seen.insert(name) {
                return Err(invalid(
                    "pairs",
                    format!("name {name:?} appears twice, expected each name once"),
                ));
            }
        }
        // Every sub-run exists before anything is logged, so a failure to
        // create one leaves no value written.
        let writers = pairs
            .iter()
            .map(|pair| {
                let dir = run_dir.join(sub_run_name(main_tag, pair.name()));
                self.sub_runs().writer(dir, self.path())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let step = Step::new(step).wall_time(wall_time);
        for (writer, pair) in writers.iter().zip(&pairs) {
            writer.add_scalar(main_tag, pair.value(), step)?;
        }
        Ok(())
    }
}

/// Why `name` cannot name a sub-run, if it cannot.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("an empty name, expected a name for each value".into());
    }
    if name.contains('\0') {
        return Err(format!("name {name:?} holds a NUL character"));
    }
    if name
        .split(['/', '\\'])
        .any(|part| part == "." || part == "..")
    {
        return Err(format!(
            "name {name:?} has a '.' or '..' component, expected a name inside the run's folder"
        ));
    }
    Ok(())
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::Logdir;

    #[test]
    fn sub_run_names_are_torchs() {
        assert_eq!(sub_run_name("loss", "train"), "loss_train");
        assert_eq!(sub_run_name("a/b", "c"), "a_b_c");
        assert_eq!(sub_run_name("a/b", "c/d"), "a_b_c/d");
    }

    #[test]
    fn each_pair_goes_to_its_sub_run_under_the_main_tag() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::new(dir.path()).unwrap();
        writer
            .add_scalars("losses/all", &[("train", 0.5f32), ("eval", 0.75)], 1)
            .unwrap();
        let later = std::collections::HashMap::from([("train".to_owned(), 0.25f32)]);
        writer.add_scalars("losses/all", &later, 2).unwrap();
        writer.add_scalar("lr", 0.1f32, 1).unwrap();
        writer.close().unwrap();
        let logdir = Logdir::scan(dir.path()).unwrap();
        let train = logdir.run("losses_all_train").expect("train sub-run");
        assert_eq!(train.scalars("losses/all").unwrap(), [(1, 0.5), (2, 0.25)]);
        let eval = logdir.run("losses_all_eval").expect("eval sub-run");
        assert_eq!(eval.scalars("losses/all").unwrap(), [(1, 0.75)]);
        // The parent run holds its own scalars only.
        let parent = logdir.run(".").expect("parent run");
        assert!(parent.scalars("losses/all").is_none());
        assert_eq!(parent.scalars("lr").unwrap(), [(1, 0.1)]);
        // One event file per sub-run, however many calls.
        let files = std::fs::read_dir(dir.path().join("losses_all_train"))
            .unwrap()
            .count();
        assert_eq!(files, 1);
    }

    #[test]
    fn bad_pairs_write_nothing_and_name_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::new(dir.path()).unwrap();
        // (main tag, pairs, the argument named, a piece of the reason)
        type Case<'a> = (&'a str, &'a [(&'a str, f32)], &'a str, &'a str);
        let cases: [Case; 4] = [
            ("", &[("a", 1.0)], "main_tag", "empty, expected a tag"),
            ("m", &[("a", 1.0), ("", 2.0)], "pairs", "an empty name"),
            (
                "m",
                &[("a", 1.0), ("x/../..", 2.0)],
                "pairs",
                "'.' or '..' component",
            ),
            ("m", &[("a", 1.0), ("a", 2.0)], "pairs", "appears twice"),
        ];
        for (main_tag, pairs, what, reason) in cases {
            match writer.add_scalars(main_tag, pairs, 1) {
                Err(SummaryError::InvalidArgument {
                    tag,
                    what: got,
                    reason: why,
                }) => {
                    assert_eq!(tag, main_tag);
                    assert_eq!(got, what);
                    assert!(why.contains(reason), "{why}");
                }
                other => panic!("{main_tag:?} {pairs:?}: {other:?}"),
            }
        }
        // No sub-run was made, and the writer still works.
        writer.add_scalars("m", &[("a", 1.0)], 2).unwrap();
        writer.close().unwrap();
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| !n.starts_with("events."))
            .collect();
        names.sort();
        assert_eq!(names, ["m_a"]);
    }

    #[test]
    fn a_sink_writer_has_no_sub_runs() {
        let writer = SummaryWriter::with_writer(std::io::sink(), "sink").unwrap();
        let err = writer.add_scalars("m", &[("a", 1.0)], 0).unwrap_err();
        assert!(
            matches!(&err, SummaryError::InvalidArgument { what: "writer", .. }),
            "{err}"
        );
    }

    #[test]
    fn sub_runs_close_and_purge_with_the_parent() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::builder(dir.path())
            .purge_step(5)
            .build()
            .unwrap();
        writer.add_scalars("m", [("a", 1.0)], 5).unwrap();
        writer.close().unwrap();
        // The sub-run's file starts with the purge's SessionLog START.
        let run = dir.path().join("m_a");
        let file = std::fs::read_dir(&run).unwrap().next().unwrap().unwrap();
        let (events, _) = crate::reader::EventFileReader::open(file.path())
            .unwrap()
            .read_all()
            .unwrap();
        assert!(matches!(
            events[1].what,
            Some(crate::proto::tensorflow::event::What::SessionLog(_))
        ));
        assert_eq!(events[1].step, 5);
        // Closed with the parent: no more sub-runs, no more values.
        assert!(matches!(
            writer.add_scalars("m", [("b", 1.0)], 6),
            Err(SummaryError::Closed { .. })
        ));
        assert!(!dir.path().join("m_b").exists());
    }
}
