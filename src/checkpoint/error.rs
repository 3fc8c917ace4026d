//! The errors of the checkpoint module. Each carries the file and, where
//! there is one, the tensor it is about.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

use super::table::TableError;
use super::tensor::TensorError;
use crate::record::MaskedCrc;

/// Why reading or writing a checkpoint failed. All variants are fatal for
/// the operation that returned them; none leaves a half-written checkpoint
/// under its final name.
///
/// A message names the file and what failed; the underlying error (the
/// operating system's, the table's, protobuf's) is the
/// [`source`](std::error::Error::source), not repeated in the message, so
/// an error chain (anyhow's `{:#}`) prints each cause once.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// An I/O operation on `path` failed.
    #[error("{action} {}", path.display())]
    Io {
        /// What was being done ("reading", "renaming", ...).
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The `.index` file is not a valid table.
    #[error("{}", path.display())]
    Table {
        /// The `.index` file.
        path: PathBuf,
        /// What is wrong with it.
        source: TableError,
    },
    /// An index entry's value is not the protobuf it should be.
    #[error("{}: entry {key:?} does not decode", path.display())]
    BadEntry {
        /// The `.index` file.
        path: PathBuf,
        /// The entry's key (`""` for the header).
        key: String,
        /// The protobuf error.
        source: prost::DecodeError,
    },
    /// The index is valid but describes a bundle tbseg cannot read.
    #[error("{}: {reason}", path.display())]
    UnsupportedBundle {
        /// The `.index` file.
        path: PathBuf,
        /// What is not supported (no header, several shards, big endian, ...).
        reason: String,
    },
    /// No tensor of that name is in the checkpoint.
    #[error("{}: no tensor named {name:?}", path.display())]
    NotFound {
        /// The `.index` file.
        path: PathBuf,
        /// The name asked for.
        name: String,
    },
    /// The tensor exists but this call cannot decode its dtype (or
    /// partitioning); `what` says which call can, if any.
    #[error("{}: tensor {name:?} has {what}", path.display())]
    UnsupportedTensor {
        /// The `.index` file.
        path: PathBuf,
        /// The tensor.
        name: String,
        /// The unsupported property, e.g. "dtype DT_STRING".
        what: String,
    },
    /// The index gives a byte size that does not match the shape and dtype.
    #[error("{}: tensor {name:?}: the index says {got} bytes, but its shape and dtype need {expected}", path.display())]
    SizeMismatch {
        /// The `.index` file.
        path: PathBuf,
        /// The tensor.
        name: String,
        /// `numel × sizeof(dtype)`.
        expected: u64,
        /// The size in the index entry.
        got: u64,
    },
    /// The data file ends before the tensor does.
    #[error("{}: tensor {name:?} at bytes {offset}..{end} runs past the end of the {file_len}-byte file", path.display())]
    DataTruncated {
        /// The data file.
        path: PathBuf,
        /// The tensor.
        name: String,
        /// Where the tensor starts.
        offset: u64,
        /// Where it should end.
        end: u64,
        /// How long the file is.
        file_len: u64,
    },
    /// A string tensor's bytes do not split into the elements its shape
    /// asks for, or the checksum of their lengths does not match.
    #[error("{}: string tensor {name:?} is malformed: {reason}", path.display())]
    BadStrings {
        /// The data file.
        path: PathBuf,
        /// The tensor.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A tensor's bytes do not match the checksum in the index.
    #[error("{}: tensor {name:?} checksum mismatch: the index says {expected}, the data gives {got}", path.display())]
    TensorChecksum {
        /// The data file.
        path: PathBuf,
        /// The tensor.
        name: String,
        /// The checksum stored in the index.
        expected: MaskedCrc,
        /// The checksum of the bytes read.
        got: MaskedCrc,
    },
    /// A tensor name was given twice to one writer.
    #[error("tensor {name:?} added twice to {}", prefix.display())]
    DuplicateTensor {
        /// The checkpoint prefix.
        prefix: PathBuf,
        /// The tensor.
        name: String,
    },
    /// The empty name is reserved for the bundle header.
    #[error("the empty tensor name is reserved for the bundle header ({})", prefix.display())]
    EmptyName {
        /// The checkpoint prefix.
        prefix: PathBuf,
    },
    /// A tensor's data does not fit its shape or dtype.
    #[error("tensor {name:?}")]
    Tensor {
        /// The tensor.
        name: String,
        /// The mismatch.
        source: TensorError,
    },
    /// The safetensors crate refused the tensors or could not write them.
    #[cfg(feature = "safetensors")]
    #[error("{}", path.display())]
    Safetensors {
        /// The `.safetensors` file.
        path: PathBuf,
        /// The crate's error.
        source: safetensors::SafeTensorError,
    },
    /// The `checkpoint` state file does not parse.
    #[error("{}:{line}: {reason}", path.display())]
    BadState {
        /// The state file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Shorthand for results of this module.
pub type Result<T, E = CheckpointError> = std::result::Result<T, E>;

impl CheckpointError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| CheckpointError::Io {
            action,
            path,
            source,
        }
    }
}
