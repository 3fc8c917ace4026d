//! Crash-safe writing of whole files: a file appears under its final name
//! complete, or not at all.
//!
//! This is part of tbseg's public API, for a program's own files as much
//! as for tbseg's: [`write`](fn@write) replaces a file with bytes in hand
//! (a results table, a config), [`AtomicFile`] streams a large one in
//! pieces and [`commit`](AtomicFile::commit)s it. Every writer of whole files in tbseg
//! goes through here too (checkpoint bundles and the `checkpoint` state
//! file, safetensors exports, Projector files, and the lab's TFRecord,
//! prediction and sweep files). The recipe is TensorFlow's: write
//! a temporary file with a unique name in the same directory (so the
//! rename stays on one file system), fsync it, rename it over the final
//! name, then fsync the directory so the rename itself survives a power
//! loss. A crash at any point leaves either the old file or the new one,
//! plus at worst a `*.tempstate*` file that a later run may delete.
//!
//! ```
//! use std::io::Write;
//!
//! let dir = tempfile::tempdir()?;
//! tbseg::atomic::write(dir.path().join("small.txt"), b"all at once")?;
//!
//! let mut file = tbseg::atomic::AtomicFile::create(dir.path().join("big.bin"))?;
//! file.write_all(b"streamed ")?;
//! file.write_all(b"in pieces")?;
//! file.commit()?; // nothing is under big.bin before this returns
//! assert_eq!(std::fs::read(dir.path().join("big.bin"))?, b"streamed in pieces");
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The marker every temporary name contains (`<final name>.tempstate…`), as
/// in TensorFlow; cleanup of what a killed process left looks for it.
pub const TEMP_MARKER: &str = ".tempstate";

/// Replaces `path` with `contents` atomically and durably (see the module
/// docs). On error nothing is left under a temporary name and `path` is
/// unchanged.
pub fn write(path: impl AsRef<Path>, contents: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(contents)?;
    file.commit()
}

/// A file being written under a temporary name, which
/// [`commit`](Self::commit) moves to its final name; dropping it
/// uncommitted deletes the temporary file.
///
/// Writes go through a 1 MiB buffer.
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    temp: PathBuf,
    file: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing the file that will be `path`, creating a fresh
    /// temporary file beside it. `path`'s directory must exist.
    pub fn create(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_owned();
        let temp = temp_path_for(&path);
        let file = File::options().write(true).create_new(true).open(&temp)?;
        Ok(AtomicFile {
            path,
            temp,
            file: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// The final name.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The temporary name the data goes to until the commit.
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Flushes and fsyncs the data, renames the file to its final name
    /// (replacing any file there) and fsyncs the directory. On error the
    /// temporary file is removed and the final name is untouched.
    pub fn commit(mut self) -> io::Result<()> {
        // On error, Drop removes the temporary file.
        self.sync_data()
            .and_then(|()| fs::rename(&self.temp, &self.path))?;
        sync_dir(parent_dir(&self.path))
    }

    /// Flushes and fsyncs the data under the temporary name, closing it.
    fn sync_data(&mut self) -> io::Result<()> {
        let Some(writer) = self.file.take() else {
            return Err(io::Error::other("the file was already closed"));
        };
        let file = writer
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        file.sync_all()
    }

    fn writer(&mut self) -> io::Result<&mut BufWriter<File>> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("the file was already closed"))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer()?.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer()?.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer()?.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // Uncommitted (an error, or the caller gave up): the temporary file
        // must not outlive the writer. After a failed commit the file
        // handle is already gone but the temporary file may remain.
        if self.file.take().is_some() || self.temp.exists() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// A fresh temporary name next to `path`:
/// `<path>.tempstate<pid>-<64 random bits>`, unique across processes
/// (the pid) and across threads and calls within one (the random part).
pub(crate) fn temp_path_for(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(
        "{TEMP_MARKER}{}-{:016x}",
        std::process::id(),
        random_u64()
    ));
    PathBuf::from(name)
}

/// The directory a file lives in (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Makes a rename or creation in `dir` durable. Only Unix can open a
/// directory for fsync; elsewhere this does nothing.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn write_replaces_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        write(&path, b"one").unwrap();
        write(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(names(dir.path()), ["state"]);
    }

    #[test]
    fn nothing_appears_before_the_commit_and_a_drop_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.tfrecords");
        let mut file = AtomicFile::create(&path).unwrap();
        file.write_all(&[7; 5000]).unwrap();
        file.flush().unwrap();
        assert!(!path.exists());
        let temp = file.temp_path().to_owned();
        assert!(temp.exists());
        assert!(temp.to_string_lossy().contains(TEMP_MARKER));
        drop(file);
        assert!(names(dir.path()).is_empty());

        let mut file = AtomicFile::create(&path).unwrap();
        file.write_all(b"done").unwrap();
        file.commit().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"done");
        assert_eq!(names(dir.path()), ["data.tfrecords"]);
    }

    #[test]
    fn a_failed_commit_keeps_the_old_file_and_removes_the_temporary() {
        let dir = tempfile::tempdir().unwrap();
        // A directory under the final name: the rename must fail.
        let path = dir.path().join("taken");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside"), b"old").unwrap();
        let err = write(&path, b"new").unwrap_err();
        assert_ne!(err.kind(), io::ErrorKind::NotFound, "{err}");
        assert_eq!(fs::read(path.join("inside")).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["taken"]);
    }

    #[test]
    fn temporary_names_are_unique_and_beside_the_file() {
        let path = Path::new("dir/model.ckpt-5.index");
        let a = temp_path_for(path);
        let b = temp_path_for(path);
        assert_ne!(a, b);
        assert_eq!(a.parent(), path.parent());
        let pid = std::process::id().to_string();
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(&format!("model.ckpt-5.index.tempstate{pid}-")),
            "{name}"
        );
        assert_eq!(parent_dir(Path::new("bare")), Path::new("."));
    }
}
