//! The tensor bundle: a `.data-00000-of-00001` file with the tensors' raw
//! little-endian bytes, and an `.index` table that says where each tensor
//! is, with its dtype, shape and checksum. [`BundleWriter`] writes one
//! (`writer.rs`), [`BundleReader`] reads one (`reader.rs`); both share the
//! file names and constants here.

use std::path::{Path, PathBuf};

use super::fsutil::append_to_path;

mod reader;
mod writer;

pub use reader::{BundleReader, TensorInfo};
pub use writer::BundleWriter;

/// Tensors are read, written and checksummed in pieces of this size.
pub(super) const CHUNK: usize = 4 << 20;

/// `kTensorBundleVersion`: the producer version TensorFlow writes and reads.
pub(super) const BUNDLE_VERSION: i32 = 1;

/// The `.index` file of the checkpoint at `prefix`.
pub fn index_path(prefix: &Path) -> PathBuf {
    append_to_path(prefix, ".index")
}

/// The data file of shard `shard` out of `num_shards` of the checkpoint at
/// `prefix` (`<prefix>.data-00000-of-00001` for tbseg's one shard).
pub fn data_path(prefix: &Path, shard: u32, num_shards: u32) -> PathBuf {
    append_to_path(prefix, &format!(".data-{shard:05}-of-{num_shards:05}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        let prefix = Path::new("dir/model.ckpt-1000");
        assert_eq!(index_path(prefix), Path::new("dir/model.ckpt-1000.index"));
        assert_eq!(
            data_path(prefix, 0, 1),
            Path::new("dir/model.ckpt-1000.data-00000-of-00001")
        );
    }
}
