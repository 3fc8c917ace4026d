//! The summary writer's error type.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// What went wrong while creating or writing an event file.
///
/// I/O errors carry the path of the directory or file and the operation
/// that failed. The message names them and ends with the operating
/// system's error (`cannot create log directory runs/a: Permission denied
/// (os error 13)`), so a plain `{e}` says what went wrong. The OS error is
/// also the [`std::error::Error::source`], for code that inspects it (a
/// downcast to [`io::Error`], [`SummaryError::io_kind`]); a chain printer
/// that prints every source after the message shows it twice. The source
/// is an `Arc` because a [`crate::summary::SummaryWriter`] that failed once
/// keeps returning the same error from every later call.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SummaryError {
    /// The log directory could not be created.
    #[error("cannot create log directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        source: Arc<io::Error>,
    },
    /// The event file could not be created (it exists, or the directory is
    /// not writable).
    #[error("cannot create event file {path}: {source}")]
    CreateFile {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: Arc<io::Error>,
    },
    /// Writing records to the event file failed (for example a full disk).
    #[error("cannot write to event file {path}: {source}")]
    Write {
        /// The file (or the label given to a caller-supplied writer).
        path: PathBuf,
        /// The underlying error.
        source: Arc<io::Error>,
    },
    /// Flushing the event file failed.
    #[error("cannot flush event file {path}: {source}")]
    Flush {
        /// The file (or the label given to a caller-supplied writer).
        path: PathBuf,
        /// The underlying error.
        source: Arc<io::Error>,
    },
    /// Making the event file durable (`fsync`) failed.
    #[error("cannot sync event file {path}: {source}")]
    Sync {
        /// The file (or the label given to a caller-supplied writer).
        path: PathBuf,
        /// The underlying error.
        source: Arc<io::Error>,
    },
    /// The background writer thread could not be started.
    #[error("cannot start the writer thread for {path}: {source}")]
    Spawn {
        /// The event file.
        path: PathBuf,
        /// The underlying error.
        source: Arc<io::Error>,
    },
    /// The background writer thread panicked (a bug; the file may be
    /// incomplete).
    #[error("the writer thread for {path} panicked")]
    WorkerPanicked {
        /// The event file.
        path: PathBuf,
    },
    /// The writer was closed; nothing more can be written.
    #[error("summary writer for {path} is closed")]
    Closed {
        /// The event file.
        path: PathBuf,
    },
    /// An argument was unusable (mismatched lengths, a bad threshold count).
    /// Nothing was written; the writer stays usable.
    #[error("invalid {what} for summary {tag:?}: {reason}")]
    InvalidArgument {
        /// The summary tag.
        tag: String,
        /// Which argument.
        what: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// A file kept beside the event file (the Projector's tensors, metadata,
    /// sprite or `projector_config.pbtxt`) could not be read, parsed or
    /// written. Files are replaced atomically, so each is either complete
    /// or untouched; the event file and the writer are not affected.
    #[error("cannot write {path}: {source}")]
    WriteAsset {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: Arc<io::Error>,
    },
    /// PNG encoding of an image failed. Nothing was written; the writer
    /// stays usable.
    #[error("cannot encode image {tag:?} as PNG: {message}")]
    ImageEncode {
        /// The summary tag.
        tag: String,
        /// The encoder's message.
        message: String,
    },
}

impl SummaryError {
    /// The same error naming the summary `tag` (argument and encoding
    /// errors raised by helpers that do not know the tag).
    #[cfg(feature = "png")]
    pub(crate) fn for_tag(self, tag: &str) -> Self {
        match self {
            SummaryError::InvalidArgument { what, reason, .. } => SummaryError::InvalidArgument {
                tag: tag.to_owned(),
                what,
                reason,
            },
            SummaryError::ImageEncode { message, .. } => SummaryError::ImageEncode {
                tag: tag.to_owned(),
                message,
            },
            other => other,
        }
    }

    /// Whether the writer is unusable after this error (I/O failures and
    /// `Closed`), as opposed to a rejected argument.
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            SummaryError::InvalidArgument { .. }
                | SummaryError::ImageEncode { .. }
                | SummaryError::WriteAsset { .. }
        )
    }

    /// The path of the file or directory concerned, where there is one.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            SummaryError::CreateDir { path, .. }
            | SummaryError::CreateFile { path, .. }
            | SummaryError::Write { path, .. }
            | SummaryError::Flush { path, .. }
            | SummaryError::Sync { path, .. }
            | SummaryError::Spawn { path, .. }
            | SummaryError::WorkerPanicked { path }
            | SummaryError::Closed { path }
            | SummaryError::WriteAsset { path, .. } => Some(path),
            SummaryError::InvalidArgument { .. } | SummaryError::ImageEncode { .. } => None,
        }
    }

    /// The underlying I/O error kind, for I/O failures.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            SummaryError::CreateDir { source, .. }
            | SummaryError::CreateFile { source, .. }
            | SummaryError::Write { source, .. }
            | SummaryError::Flush { source, .. }
            | SummaryError::Sync { source, .. }
            | SummaryError::Spawn { source, .. }
            | SummaryError::WriteAsset { source, .. } => Some(source.kind()),
            _ => None,
        }
    }
}
