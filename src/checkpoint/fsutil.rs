//! The [`crate::atomic`] helpers with checkpoint errors that name the file.

use std::fs;
use std::path::{Path, PathBuf};

use super::error::{CheckpointError, Result};
use crate::atomic;
pub(crate) use crate::atomic::{parent_dir, temp_path_for};

/// `path` with `suffix` appended to its last component (unlike
/// `Path::with_extension`, which would eat the `.ckpt` of `model.ckpt-5`).
pub(crate) fn append_to_path(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Makes a rename or creation in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    atomic::sync_dir(dir).map_err(CheckpointError::io("syncing directory", dir))
}

/// Renames `from` to `to`, replacing `to` atomically where the file system
/// allows.
pub(crate) fn rename(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).map_err(CheckpointError::io("renaming to", to))
}

/// Replaces `path` with `contents` atomically and durably.
pub(crate) fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    atomic::write(path, contents).map_err(CheckpointError::io("writing", path))
}
