//! Where files live: local paths, or objects in a bucket (`s3://`,
//! `gs://`, `az://`) behind the `object-store` feature.
//!
//! Every tbseg function that takes a path ([`crate::summary::SummaryWriter`],
//! [`crate::checkpoint::Saver`], [`crate::checkpoint::BundleReader`],
//! [`crate::reader::Logdir::scan`], ...) first asks [`Location::of`] what
//! the path names:
//!
//! - a plain path, or a `file://` URL: the local file system, as always;
//! - `s3://bucket/prefix` (also `s3a://`), `gs://bucket/prefix`,
//!   `az://container/prefix` (also `abfs://`, `abfss://`, `adl://`,
//!   `azure://`): an object store, reached through the `object_store`
//!   crate when tbseg is built with the `object-store` feature. Without it
//!   such a path is an error that says so, never a local folder named
//!   `s3:`.
//!
//! Credentials and endpoints come from each provider's usual environment
//! variables (see `tbseg::storage::remote`, with the feature on). The functions here
//! ([`read`], [`write()`], [`exists`]) work on either kind of location, for
//! callers with whole files to move.

use std::borrow::Cow;
use std::io;
use std::path::{Path, PathBuf};

#[cfg(feature = "object-store")]
pub mod remote;

/// The URL schemes tbseg hands to an object store.
pub const REMOTE_SCHEMES: &[&str] = &[
    "s3", "s3a", "gs", "az", "abfs", "abfss", "adl", "azure", "memory",
];

/// What a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location<'a> {
    /// A path on the local file system (a `file://` URL is turned into
    /// its path).
    Local(Cow<'a, Path>),
    /// An object-store URL, `scheme://bucket/prefix`, as given.
    Remote(&'a str),
}

impl<'a> Location<'a> {
    /// Classifies `path`: an object-store URL if it starts with one of
    /// [`REMOTE_SCHEMES`] followed by `://`, a local path otherwise.
    pub fn of(path: &'a Path) -> Location<'a> {
        let Some(text) = path.to_str() else {
            return Location::Local(Cow::Borrowed(path));
        };
        if let Some(rest) = text.strip_prefix("file://") {
            return Location::Local(Cow::Owned(PathBuf::from(rest)));
        }
        match scheme(text) {
            Some(_) => Location::Remote(text),
            None => Location::Local(Cow::Borrowed(path)),
        }
    }

    /// Whether this is an object-store URL.
    pub fn is_remote(&self) -> bool {
        matches!(self, Location::Remote(_))
    }
}

/// Whether `path` is an object-store URL (see [`Location::of`]).
pub fn is_remote(path: &Path) -> bool {
    Location::of(path).is_remote()
}

/// The object-store scheme `text` starts with (`s3` for `s3://b/p`), if
/// it is one of [`REMOTE_SCHEMES`].
pub fn scheme(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once("://")?;
    REMOTE_SCHEMES
        .iter()
        .find(|known| known.eq_ignore_ascii_case(scheme))
        .map(|_| scheme)
}

/// The error for an object-store URL in a build without the
/// `object-store` feature.
pub fn feature_missing(url: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!(
            "{url} is an object-store URL, and this build of tbseg has no object-store \
             support (enable tbseg's `object-store` feature)"
        ),
    )
}

/// Reads a whole file or object.
pub fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref();
    match Location::of(path) {
        Location::Local(local) => std::fs::read(local),
        #[cfg(feature = "object-store")]
        Location::Remote(url) => remote::read(url),
        #[cfg(not(feature = "object-store"))]
        Location::Remote(url) => Err(feature_missing(url)),
    }
}

/// Replaces a whole file or object with `contents`: atomically and
/// durably for a local file ([`crate::atomic::write`]), with one upload
/// for an object (objects appear whole or not at all).
pub fn write(path: impl AsRef<Path>, contents: &[u8]) -> io::Result<()> {
    let path = path.as_ref();
    match Location::of(path) {
        Location::Local(local) => crate::atomic::write(local, contents),
        #[cfg(feature = "object-store")]
        Location::Remote(url) => remote::write(url, contents),
        #[cfg(not(feature = "object-store"))]
        Location::Remote(url) => Err(feature_missing(url)),
    }
}

/// Whether a file (or directory), or an object (or any object under the
/// prefix), exists at `path`.
pub fn exists(path: impl AsRef<Path>) -> io::Result<bool> {
    let path = path.as_ref();
    match Location::of(path) {
        Location::Local(local) => local.try_exists(),
        #[cfg(feature = "object-store")]
        Location::Remote(url) => remote::exists(url),
        #[cfg(not(feature = "object-store"))]
        Location::Remote(url) => Err(feature_missing(url)),
    }
}

/// Whether `path` is a file, or an object (not merely a prefix).
pub fn is_file(path: impl AsRef<Path>) -> io::Result<bool> {
    let path = path.as_ref();
    match Location::of(path) {
        Location::Local(local) => Ok(local.is_file()),
        #[cfg(feature = "object-store")]
        Location::Remote(url) => Ok(remote::Remote::open(url)?.size()?.is_some()),
        #[cfg(not(feature = "object-store"))]
        Location::Remote(url) => Err(feature_missing(url)),
    }
}

/// Deletes a file or object. A missing object is not an error; a missing
/// local file is (`NotFound`), as for [`std::fs::remove_file`].
pub fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref();
    match Location::of(path) {
        Location::Local(local) => std::fs::remove_file(local),
        #[cfg(feature = "object-store")]
        Location::Remote(url) => remote::Remote::open(url)?.delete(),
        #[cfg(not(feature = "object-store"))]
        Location::Remote(url) => Err(feature_missing(url)),
    }
}

/// `dir` joined with the relative `name`, for local paths and URLs alike
/// (`s3://b/run` + `x/y` is `s3://b/run/x/y`).
pub fn join(dir: &Path, name: &str) -> PathBuf {
    match Location::of(dir) {
        Location::Remote(url) => PathBuf::from(format!("{}/{}", url.trim_end_matches('/'), name)),
        Location::Local(_) => dir.join(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_paths_and_urls() {
        for url in [
            "s3://bucket/run",
            "S3://bucket",
            "s3a://b/x",
            "gs://bucket/a/b",
            "az://container/p",
            "abfss://c@account.dfs.core.windows.net/p",
            "memory://anything",
        ] {
            assert_eq!(Location::of(Path::new(url)), Location::Remote(url), "{url}");
        }
        for local in ["runs/exp1", "/tmp/x", "s3:/bucket", "./s3", "C:\\logs"] {
            assert_eq!(
                Location::of(Path::new(local)),
                Location::Local(Cow::Borrowed(Path::new(local))),
                "{local}"
            );
        }
        assert_eq!(
            Location::of(Path::new("file:///tmp/logs")),
            Location::Local(Cow::Owned(PathBuf::from("/tmp/logs")))
        );
    }

    #[test]
    fn joins_urls_and_paths() {
        assert_eq!(
            join(Path::new("s3://b/run/"), "model.ckpt-5.index"),
            PathBuf::from("s3://b/run/model.ckpt-5.index")
        );
        assert_eq!(
            join(Path::new("logs"), "checkpoint"),
            Path::new("logs/checkpoint")
        );
    }

    #[cfg(not(feature = "object-store"))]
    #[test]
    fn remote_paths_without_the_feature_are_a_clear_error() {
        let err = read("s3://bucket/file").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Unsupported);
        assert!(err.to_string().contains("`object-store` feature"), "{err}");
    }
}
