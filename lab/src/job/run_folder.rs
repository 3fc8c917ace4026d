//! A checkpoint folder as one training run, surveyed once before the run
//! writes to it: whether it already holds a run, its latest checkpoint,
//! and clearing it for a new one.
//!
//! Which files a run owns is the library's naming (the checkpoint
//! [`Saver`]'s files, [`tbseg::summary::is_event_file_name`]) plus the best
//! checkpoint's record, never a re-derived list of prefixes.

use std::path::PathBuf;

use tbseg::checkpoint::{Saver, STATE_FILE_NAME};

use crate::train::validate::BEST_RECORD;
use crate::train::TrainError;

use super::location::Location;

/// Whether `name` is a file a training run writes: an event file, a
/// checkpoint or the `checkpoint` state file (or what a killed save left),
/// or the best checkpoint's record.
fn is_run_file(name: &str) -> bool {
    // The lab's savers use the library's default prefix (`model.ckpt`).
    tbseg::summary::is_event_file_name(name)
        || name == BEST_RECORD
        || Saver::new(PathBuf::new()).owns_file_name(name)
}

/// A checkpoint folder as [`RunFolder::survey`] found it.
#[derive(Clone, Debug)]
pub struct RunFolder {
    location: Location,
    /// The run files at the top level (`eval/` and other subfolders belong
    /// to the run beside them), sorted.
    run_files: Vec<String>,
    /// Whether the folder could be listed (a store that cannot be listed is
    /// reported when the run writes to it).
    listed: bool,
}

impl RunFolder {
    /// Lists `location` once. A missing folder holds no run.
    pub fn survey(location: Location) -> RunFolder {
        let names = match &location {
            Location::Local(dir) => std::fs::read_dir(dir).ok().map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
                    .map(|entry| entry.file_name().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
            }),
            Location::Remote(url) => list_remote(url)
                .ok()
                .map(|keys| keys.into_iter().filter(|key| !key.contains('/')).collect()),
        };
        let listed = names.is_some() || matches!(location, Location::Local(_));
        let mut run_files: Vec<String> = names
            .unwrap_or_default()
            .into_iter()
            .filter(|name| is_run_file(name))
            .collect();
        run_files.sort();
        RunFolder {
            location,
            run_files,
            listed,
        }
    }

    /// The folder.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The first file of an earlier run in the folder, if it holds one.
    pub fn earlier_run(&self) -> Option<&str> {
        self.run_files.first().map(String::as_str)
    }

    /// The newest complete checkpoint, as TensorFlow's
    /// `tf.train.latest_checkpoint` finds it; without a state file in the
    /// listing there is none, and nothing more is read.
    pub fn latest_checkpoint(&self) -> Result<Option<PathBuf>, TrainError> {
        if self.listed && !self.run_files.iter().any(|name| name == STATE_FILE_NAME) {
            return Ok(None);
        }
        Ok(tbseg::checkpoint::latest_checkpoint(self.location.path())?)
    }

    /// Deletes what a training run wrote into the folder and its
    /// subfolders (`eval/`, `best/`, ...): events, checkpoints and state
    /// files. Other files stay. A missing folder is nothing to clear.
    pub fn clear(&mut self) -> Result<(), TrainError> {
        let io = |error| TrainError::Io {
            path: self.location.path().to_path_buf(),
            error,
        };
        match &self.location {
            Location::Local(dir) => clear_local(dir).map_err(io)?,
            Location::Remote(url) => clear_remote(url).map_err(io)?,
        }
        self.run_files.clear();
        Ok(())
    }

    /// Makes sure a local folder exists before the run writes to it (an
    /// object-store prefix needs nothing).
    pub fn create(&self) -> Result<(), TrainError> {
        if let Location::Local(dir) = &self.location {
            std::fs::create_dir_all(dir).map_err(|error| TrainError::Io {
                path: dir.clone(),
                error,
            })?;
        }
        Ok(())
    }
}

fn clear_local(dir: &std::path::Path) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err),
    };
    for entry in entries {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            clear_local(&entry.path())?;
        } else if kind.is_file() && is_run_file(&entry.file_name().to_string_lossy()) {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Every object under the prefix `url`, as keys relative to it.
#[cfg(feature = "object-store")]
fn list_remote(url: &str) -> std::io::Result<Vec<String>> {
    let listed = tbseg::storage::remote::Remote::open(url)?.list()?;
    Ok(listed.into_iter().map(|(key, _)| key).collect())
}

#[cfg(not(feature = "object-store"))]
fn list_remote(url: &str) -> std::io::Result<Vec<String>> {
    Err(tbseg::storage::feature_missing(url))
}

#[cfg(feature = "object-store")]
fn clear_remote(url: &str) -> std::io::Result<()> {
    let root = tbseg::storage::remote::Remote::open(url)?;
    for (key, _) in root.list()? {
        let name = key.rsplit('/').next().unwrap_or(&key);
        if is_run_file(name) {
            root.child(&key).delete()?;
        }
    }
    Ok(())
}

#[cfg(not(feature = "object-store"))]
fn clear_remote(url: &str) -> std::io::Result<()> {
    Err(tbseg::storage::feature_missing(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_clears_only_run_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let survey = |path: &std::path::Path| RunFolder::survey(Location::Local(path.into()));
        assert_eq!(survey(&root.join("missing")).earlier_run(), None);
        std::fs::write(root.join("notes.txt"), "keep").unwrap();
        std::fs::create_dir(root.join("eval")).unwrap();
        std::fs::write(root.join("eval").join("events.out.tfevents.1.h"), "").unwrap();
        assert_eq!(survey(root).earlier_run(), None, "eval/ alone is not a run");
        assert_eq!(survey(root).latest_checkpoint().unwrap(), None);
        std::fs::write(root.join("model.ckpt-5.index"), "").unwrap();
        std::fs::write(
            root.join("checkpoint"),
            "model_checkpoint_path: \"model.ckpt-5\"\n",
        )
        .unwrap();
        let mut folder = survey(root);
        assert_eq!(folder.earlier_run(), Some("checkpoint"));
        assert_eq!(
            folder.latest_checkpoint().unwrap(),
            Some(root.join("model.ckpt-5"))
        );
        folder.clear().unwrap();
        assert_eq!(folder.earlier_run(), None);
        assert_eq!(survey(root).earlier_run(), None);
        assert!(root.join("notes.txt").exists());
        assert!(!root.join("eval").join("events.out.tfevents.1.h").exists());
        survey(&root.join("missing")).clear().unwrap();
    }

    #[test]
    fn run_files_are_the_librarys_names() {
        for name in [
            "checkpoint",
            "model.ckpt-5.index",
            "model.ckpt-5.data-00000-of-00001",
            "events.out.tfevents.1.host.2.0",
            BEST_RECORD,
        ] {
            assert!(is_run_file(name), "{name}");
        }
        for name in ["notes.txt", "sweep_result.txt", "train.log", "eval"] {
            assert!(!is_run_file(name), "{name}");
        }
    }
}
