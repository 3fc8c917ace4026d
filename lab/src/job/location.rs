//! A path flag resolved once: a folder or file on this machine, or an
//! object-store URL.
//!
//! The command line turns each path flag (`--data_dir`, `--checkpoint_dir`,
//! `--eval_dir`) into a [`Location`] with [`Location::of`], the library's
//! own classification ([`tbseg::storage::Location::of`]), and the jobs pass
//! that value down: no code below the command line asks again whether a
//! path is remote.

use std::fmt;
use std::path::{Path, PathBuf};

use tbseg::storage;

/// Where a path flag points, decided once when the flag is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A path on this machine (a `file://` URL becomes its path).
    Local(PathBuf),
    /// An object-store URL (`s3://bucket/prefix`, `gs://...`, `az://...`),
    /// as given.
    Remote(String),
}

impl Location {
    /// Classifies `path` as the library does: an object-store URL or a
    /// local path.
    pub fn of(path: &Path) -> Location {
        match storage::Location::of(path) {
            storage::Location::Local(local) => Location::Local(local.into_owned()),
            storage::Location::Remote(url) => Location::Remote(url.to_owned()),
        }
    }

    /// The path to hand to tbseg's functions (which take object-store URLs
    /// as paths too).
    pub fn path(&self) -> &Path {
        match self {
            Location::Local(path) => path,
            Location::Remote(url) => Path::new(url),
        }
    }

    /// The entry `name` inside this folder or prefix
    /// (`s3://b/run` + `eval` is `s3://b/run/eval`).
    pub fn join(&self, name: &str) -> Location {
        match self {
            Location::Local(path) => Location::Local(path.join(name)),
            Location::Remote(url) => {
                Location::Remote(format!("{}/{name}", url.trim_end_matches('/')))
            }
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(path) => write!(f, "{}", path.display()),
            Location::Remote(url) => f.write_str(url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_once_and_joins_either_kind() {
        let remote = Location::of(Path::new("s3://bucket/runs/"));
        assert_eq!(remote, Location::Remote("s3://bucket/runs/".into()));
        assert_eq!(
            remote.join("cnn").join("eval"),
            Location::Remote("s3://bucket/runs/cnn/eval".into())
        );
        let local = Location::of(Path::new("logs"));
        assert_eq!(
            local.join("cnn"),
            Location::Local(Path::new("logs").join("cnn"))
        );
        assert_eq!(
            Location::of(Path::new("file:///tmp/data")),
            Location::Local(PathBuf::from("/tmp/data"))
        );
        assert_eq!(remote.to_string(), "s3://bucket/runs/");
        assert_eq!(remote.path(), Path::new("s3://bucket/runs/"));
        assert_eq!(
            local.join("x").to_string(),
            Path::new("logs").join("x").display().to_string()
        );
    }
}
