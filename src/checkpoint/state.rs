//! The `checkpoint` state file: a `CheckpointState` text proto naming the
//! newest checkpoint and the retained ones, oldest first.
//!
//! ```text
//! model_checkpoint_path: "model.ckpt-1000"
//! all_model_checkpoint_paths: "model.ckpt-600"
//! all_model_checkpoint_paths: "model.ckpt-800"
//! all_model_checkpoint_paths: "model.ckpt-1000"
//! ```
//!
//! Paths are relative to the directory holding the file (TensorFlow joins
//! relative paths to it). Newer TensorFlow adds one timestamp per path and
//! a `last_preserved_timestamp`; tbseg writes them too and reads them when
//! present. The parser (the crate's one text-format parser) skips fields
//! it does not know, so files written by later TensorFlow versions still
//! read.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::error::{CheckpointError, Result};
use super::fsutil::write_atomic;
use crate::proto::text_format::{format_double, quote, Parser, TextError};

/// The state file's name inside a checkpoint directory.
pub const STATE_FILE_NAME: &str = "checkpoint";

/// The lock file beside the state file on systems where a directory
/// cannot be locked (not Unix). A [`crate::checkpoint::Saver`] holds an
/// exclusive lock while it reads, modifies and rewrites the state file: on
/// Unix an `flock` on the checkpoint directory itself (so no extra file
/// appears), elsewhere a lock on this file.
pub const STATE_LOCK_FILE_NAME: &str = "checkpoint.lock";

/// An exclusive lock on a checkpoint directory's state file, held until
/// dropped. A [`crate::checkpoint::Saver`] holds it while it reads,
/// modifies and rewrites the state file, so two savers in one directory,
/// in one process or several, never lose each other's entries.
///
/// On Unix the lock is an `flock` on the directory itself, so no extra file
/// appears beside the checkpoints; elsewhere it is a lock on
/// [`STATE_LOCK_FILE_NAME`]. Either way the operating system drops it when
/// its holder exits, even on a crash, so no stale lock can block a later
/// run.
#[derive(Debug)]
pub(crate) struct StateLock {
    _handle: fs::File,
}

impl StateLock {
    /// Blocks until this process holds the lock of `dir`'s state file.
    pub(crate) fn acquire(dir: &Path) -> Result<Self> {
        #[cfg(unix)]
        let (path, handle) = (dir.to_owned(), fs::File::open(dir));
        #[cfg(not(unix))]
        let (path, handle) = {
            let path = dir.join(STATE_LOCK_FILE_NAME);
            let handle = fs::File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path);
            (path, handle)
        };
        let handle = handle.map_err(CheckpointError::io("opening", &path))?;
        handle
            .lock()
            .map_err(CheckpointError::io("locking", &path))?;
        Ok(StateLock { _handle: handle })
    }
}

/// The contents of a `checkpoint` state file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CheckpointState {
    /// The newest checkpoint's prefix.
    pub model_checkpoint_path: String,
    /// The retained checkpoints' prefixes, oldest first; the last one is
    /// normally `model_checkpoint_path`.
    pub all_model_checkpoint_paths: Vec<String>,
    /// Seconds since the Unix epoch at which each of
    /// `all_model_checkpoint_paths` was saved (empty if unknown).
    pub all_model_checkpoint_timestamps: Vec<f64>,
    /// TensorFlow's `keep_checkpoint_every_n_hours` bookkeeping.
    pub last_preserved_timestamp: Option<f64>,
}

impl CheckpointState {
    /// The text TensorFlow's `text_format` would write for this state.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        let mut field = |name: &str, value: String| {
            text.push_str(name);
            text.push_str(": ");
            text.push_str(&value);
            text.push('\n');
        };
        if !self.model_checkpoint_path.is_empty() {
            field("model_checkpoint_path", quote(&self.model_checkpoint_path));
        }
        for path in &self.all_model_checkpoint_paths {
            field("all_model_checkpoint_paths", quote(path));
        }
        for timestamp in &self.all_model_checkpoint_timestamps {
            field("all_model_checkpoint_timestamps", format_double(*timestamp));
        }
        if let Some(timestamp) = self.last_preserved_timestamp {
            field("last_preserved_timestamp", format_double(timestamp));
        }
        text
    }

    /// Parses a state file's text. On failure returns the 1-based line and
    /// the reason.
    pub fn parse(text: &str) -> Result<Self, (usize, String)> {
        Self::parse_text(text).map_err(|TextError { line, reason }| (line, reason))
    }

    fn parse_text(text: &str) -> Result<Self, TextError> {
        let mut state = CheckpointState::default();
        let mut parser = Parser::new(text)?;
        while !parser.done() {
            let (name, _) = parser.field_name()?;
            match name.as_str() {
                "model_checkpoint_path" => state.model_checkpoint_path = parser.string(&name)?,
                "all_model_checkpoint_paths" => {
                    state.all_model_checkpoint_paths.push(parser.string(&name)?)
                }
                "all_model_checkpoint_timestamps" => state
                    .all_model_checkpoint_timestamps
                    .push(parser.double(&name)?),
                "last_preserved_timestamp" => {
                    state.last_preserved_timestamp = Some(parser.double(&name)?)
                }
                // Unknown field (a later TensorFlow's): skip its value,
                // nested messages included.
                _ => parser.skip_value(&name)?,
            }
            parser.separator();
        }
        Ok(state)
    }

    /// Reads `dir/checkpoint`; `Ok(None)` if there is none.
    pub fn read(dir: &Path) -> Result<Option<Self>> {
        let path = dir.join(STATE_FILE_NAME);
        let text = match crate::storage::read(&path).and_then(|bytes| {
            String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
        }) {
            Ok(text) => text,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(CheckpointError::io("reading", &path)(err)),
        };
        Self::parse(&text)
            .map(Some)
            .map_err(|(line, reason)| CheckpointError::BadState { path, line, reason })
    }

    /// Replaces `dir/checkpoint` atomically (temporary file, fsync, rename;
    /// on an object store, one upload, which readers see whole or not at
    /// all).
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(STATE_FILE_NAME);
        if crate::storage::is_remote(&path) {
            return crate::storage::write(&path, self.to_text().as_bytes())
                .map_err(CheckpointError::io("writing", path));
        }
        write_atomic(&path, self.to_text().as_bytes())
    }

    /// `model_checkpoint_path` joined to `dir` if it is relative.
    pub fn model_checkpoint_prefix(&self, dir: &Path) -> PathBuf {
        dir.join(&self.model_checkpoint_path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(paths: &[&str]) -> CheckpointState {
        CheckpointState {
            model_checkpoint_path: paths.last().unwrap().to_string(),
            all_model_checkpoint_paths: paths.iter().map(|p| p.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn text_is_what_tensorflow_writes() {
        assert_eq!(
            state(&["model.ckpt-600", "model.ckpt-1000"]).to_text(),
            "model_checkpoint_path: \"model.ckpt-1000\"\n\
             all_model_checkpoint_paths: \"model.ckpt-600\"\n\
             all_model_checkpoint_paths: \"model.ckpt-1000\"\n"
        );
        let mut with_times = state(&["a"]);
        with_times.all_model_checkpoint_timestamps = vec![1_700_000_000.25];
        with_times.last_preserved_timestamp = Some(1_699_999_999.5);
        assert_eq!(
            with_times.to_text(),
            "model_checkpoint_path: \"a\"\nall_model_checkpoint_paths: \"a\"\n\
             all_model_checkpoint_timestamps: 1700000000.25\nlast_preserved_timestamp: 1699999999.5\n"
        );
    }

    #[test]
    fn round_trip_with_escapes() {
        let mut original = state(&["odd \"name\"\\ü\n", "ckpt-2"]);
        original.all_model_checkpoint_timestamps = vec![1.5, 2.0];
        let text = original.to_text();
        assert!(text.contains(r#""odd \"name\"\\\303\274\n""#), "{text}");
        assert_eq!(CheckpointState::parse(&text).unwrap(), original);
    }

    #[test]
    fn tolerant_parse() {
        let text = "# written by hand\n\
                    model_checkpoint_path:'ckpt-' \"3\" ;\n\
                    unknown_field: 12 future_message { a: 1 b { c: \"}\" } }\n\
                    all_model_checkpoint_paths: \"ckpt-\\x31\", all_model_checkpoint_paths : \"ckpt-\\063\"\n\
                    last_preserved_timestamp: 1.7e9\n";
        let parsed = CheckpointState::parse(text).unwrap();
        assert_eq!(parsed.model_checkpoint_path, "ckpt-3");
        assert_eq!(parsed.all_model_checkpoint_paths, ["ckpt-1", "ckpt-3"]);
        assert_eq!(parsed.last_preserved_timestamp, Some(1.7e9));
        assert_eq!(
            CheckpointState::parse("").unwrap(),
            CheckpointState::default()
        );
    }

    #[test]
    fn parse_errors_give_the_line() {
        assert_eq!(
            CheckpointState::parse("model_checkpoint_path: \"a\"\nall_model_checkpoint_paths: \"b")
                .unwrap_err(),
            (2, "unterminated string".to_owned())
        );
        let (line, reason) = CheckpointState::parse("\n\nmodel_checkpoint_path: 12").unwrap_err();
        assert_eq!(line, 3);
        assert!(reason.contains("wrong kind of value"), "{reason}");
    }

    #[test]
    fn read_and_write_files() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(CheckpointState::read(dir.path()).unwrap(), None);
        let original = state(&["model.ckpt-1", "model.ckpt-2"]);
        original.write(dir.path()).unwrap();
        assert_eq!(
            CheckpointState::read(dir.path()).unwrap(),
            Some(original.clone())
        );
        // Replacing leaves no temporary file behind.
        state(&["model.ckpt-3"]).write(dir.path()).unwrap();
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["checkpoint"]);
        fs::write(dir.path().join("checkpoint"), "model_checkpoint_path \"x\n").unwrap();
        let err = CheckpointState::read(dir.path()).unwrap_err().to_string();
        assert!(err.ends_with("checkpoint:1: unterminated string"), "{err}");
    }
}
