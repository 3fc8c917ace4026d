//! Small file-system helpers for crash-safe writes: temporary names,
//! fsync of files and directories, atomic replacement.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::{CheckpointError, Result};

/// `path` with `suffix` appended to its last component (unlike
/// `Path::with_extension`, which would eat the `.ckpt` of `model.ckpt-5`).
pub(crate) fn append_to_path(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A fresh temporary name next to `path`, in TensorFlow's style
/// (`<path>.tempstate<random>`), so that it sits on the same file system
/// and the final rename is atomic.
pub(crate) fn temp_path_for(path: &Path) -> PathBuf {
    append_to_path(path, &format!(".tempstate{}", random_u64()))
}

/// The directory a file lives in (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Makes a rename or creation in `dir` durable. Only Unix can open a
/// directory for fsync; elsewhere this is a no-op.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|handle| handle.sync_all())
            .map_err(CheckpointError::io("syncing directory", dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Renames `from` to `to`, replacing `to` atomically where the file system
/// allows.
pub(crate) fn rename(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).map_err(CheckpointError::io("renaming to", to))
}

/// Replaces `path` with `contents` so that a reader (or a crash) sees either
/// the old file or the new one, never a mix: write a temporary file in the
/// same directory, fsync it, rename it over `path`, fsync the directory.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let temp = temp_path_for(path);
    let written = File::options()
        .write(true)
        .create_new(true)
        .open(&temp)
        .and_then(|mut file| {
            file.write_all(contents)?;
            file.sync_all()
        })
        .map_err(CheckpointError::io("writing", &temp));
    if let Err(err) = written.and_then(|()| rename(&temp, path)) {
        let _ = fs::remove_file(&temp);
        return Err(err);
    }
    sync_dir(parent_dir(path))
}

/// 64 random bits from the standard library alone: `RandomState` is seeded
/// from the operating system's randomness once per process and advanced for
/// every new state, and the hashed counter makes each call differ.
pub(crate) fn random_u64() -> u64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}
