//! Writing a tensor bundle: [`BundleWriter`].

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use prost::Message;

use super::{data_path, index_path, BUNDLE_VERSION, CHUNK};
use crate::checkpoint::error::{CheckpointError, Result};
use crate::checkpoint::fsutil::{parent_dir, rename, sync_dir, temp_path_for};
use crate::checkpoint::table::TableBuilder;
use crate::checkpoint::tensor::TensorData;
use crate::proto::tensorflow::{
    bundle_header_proto::Endianness, tensor_shape_proto::Dim, BundleEntryProto, BundleHeaderProto,
    TensorShapeProto, VersionDef,
};
use crate::record::MaskedCrc;

/// Writes one checkpoint: tensors go straight to a temporary data file as
/// they are added; [`finish`](Self::finish) writes the index and moves both
/// files to their final names. Dropping an unfinished writer deletes its
/// temporary file, and a crash leaves only `*.tempstate*` files behind, so
/// `<prefix>.index` only ever appears complete.
///
/// An object-store prefix (`s3://bucket/dir/model.ckpt-100`; feature
/// `object-store`) is staged in the temporary folder and uploaded by
/// `finish`: the data object first, the index after it, so an index on
/// the store always names data that is there.
#[derive(Debug)]
pub struct BundleWriter {
    /// Where the files are written: the prefix asked for, or for an
    /// object-store prefix a local staging prefix in the temporary folder.
    prefix: PathBuf,
    /// The object-store prefix the finished files are uploaded to.
    upload_to: Option<PathBuf>,
    data_temp: PathBuf,
    data: Option<BufWriter<File>>,
    offset: u64,
    entries: BTreeMap<String, BundleEntryProto>,
}

impl BundleWriter {
    /// Starts a checkpoint at `prefix` (e.g. `dir/model.ckpt-100`), creating
    /// the directory if needed.
    pub fn create(prefix: impl Into<PathBuf>) -> Result<Self> {
        let asked = prefix.into();
        let (prefix, upload_to) = if crate::storage::is_remote(&asked) {
            if !cfg!(feature = "object-store") {
                let url = asked.to_string_lossy().into_owned();
                return Err(CheckpointError::io("writing", &asked)(
                    crate::storage::feature_missing(&url),
                ));
            }
            let name = asked
                .file_name()
                .map_or_else(|| "bundle".into(), |name| name.to_string_lossy());
            let staging = std::env::temp_dir().join(format!(
                "tbseg-upload-{}-{:016x}-{name}",
                std::process::id(),
                crate::atomic::random_u64()
            ));
            (staging, Some(asked))
        } else {
            (asked, None)
        };
        let dir = parent_dir(&prefix);
        fs::create_dir_all(dir).map_err(CheckpointError::io("creating directory", dir))?;
        let data_temp = temp_path_for(&data_path(&prefix, 0, 1));
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&data_temp)
            .map_err(CheckpointError::io("creating", &data_temp))?;
        Ok(BundleWriter {
            prefix,
            upload_to,
            data_temp,
            data: Some(BufWriter::with_capacity(1 << 20, file)),
            offset: 0,
            entries: BTreeMap::new(),
        })
    }

    /// Appends a tensor under `name`.
    pub fn add(&mut self, name: &str, tensor: &TensorData) -> Result<()> {
        if name.is_empty() {
            return Err(CheckpointError::EmptyName {
                prefix: self.prefix.clone(),
            });
        }
        if self.entries.contains_key(name) {
            return Err(CheckpointError::DuplicateTensor {
                prefix: self.prefix.clone(),
                name: name.to_owned(),
            });
        }
        let data = self.data.as_mut().expect("only finish() takes the file");
        // Checksum each chunk right before writing it, while it is still in
        // the CPU cache: one pass over memory instead of two.
        let mut crc = 0;
        for chunk in tensor.bytes().chunks(CHUNK) {
            crc = crc32c::crc32c_append(crc, chunk);
            data.write_all(chunk)
                .map_err(CheckpointError::io("writing", &self.data_temp))?;
        }
        let size = tensor.bytes().len() as u64;
        let entry = BundleEntryProto {
            dtype: tensor.dtype().to_proto() as i32,
            shape: Some(TensorShapeProto {
                dim: tensor
                    .shape()
                    .iter()
                    .map(|&size| Dim {
                        size: size as i64,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            shard_id: 0,
            offset: self.offset as i64,
            size: size as i64,
            crc32c: MaskedCrc::from_crc(crc).0,
            ..Default::default()
        };
        self.offset += size;
        self.entries.insert(name.to_owned(), entry);
        Ok(())
    }

    /// The encoded `.index` table for the tensors added so far.
    fn index_bytes(&self) -> Vec<u8> {
        let header = BundleHeaderProto {
            num_shards: 1,
            endianness: Endianness::Little as i32,
            version: Some(VersionDef {
                producer: BUNDLE_VERSION,
                ..Default::default()
            }),
        };
        let mut table = TableBuilder::new();
        table.add(b"", &header.encode_to_vec());
        for (name, entry) in &self.entries {
            table.add(name.as_bytes(), &entry.encode_to_vec());
        }
        table.finish()
    }

    /// Syncs the data, writes and syncs the index, then renames the data
    /// file and after it the index into place, and syncs the directory.
    /// Returns the prefix.
    pub fn finish(mut self) -> Result<PathBuf> {
        let data = self.data.take().expect("finish is called once");
        let data_temp = self.data_temp.clone();
        let result = self.finish_files(data);
        if result.is_err() {
            let _ = fs::remove_file(&data_temp);
        }
        result?;
        match self.upload_to.clone() {
            None => Ok(self.prefix.clone()),
            Some(remote) => {
                let uploaded = self.upload(&remote);
                let _ = fs::remove_file(data_path(&self.prefix, 0, 1));
                let _ = fs::remove_file(index_path(&self.prefix));
                uploaded.map(|()| remote)
            }
        }
    }

    /// Uploads the finished staging files to the object-store prefix
    /// `remote`: data, then index.
    #[cfg(feature = "object-store")]
    fn upload(&self, remote: &Path) -> Result<()> {
        use crate::storage::remote::Remote;
        for (local, target) in [
            (data_path(&self.prefix, 0, 1), data_path(remote, 0, 1)),
            (index_path(&self.prefix), index_path(remote)),
        ] {
            let url = target.to_string_lossy();
            Remote::open(&url)
                .and_then(|object| object.put_file(&local))
                .map_err(CheckpointError::io("uploading", &target))?;
        }
        Ok(())
    }

    #[cfg(not(feature = "object-store"))]
    fn upload(&self, remote: &Path) -> Result<()> {
        // `create` refuses object-store prefixes without the feature.
        unreachable!("no object-store support for {}", remote.display())
    }

    fn finish_files(&self, data: BufWriter<File>) -> Result<()> {
        let file = data
            .into_inner()
            .map_err(|err| CheckpointError::io("writing", &self.data_temp)(err.into_error()))?;
        file.sync_all()
            .map_err(CheckpointError::io("syncing", &self.data_temp))?;
        drop(file);

        let index_final = index_path(&self.prefix);
        let index_temp = temp_path_for(&index_final);
        let written = File::options()
            .write(true)
            .create_new(true)
            .open(&index_temp)
            .and_then(|mut file| {
                file.write_all(&self.index_bytes())?;
                file.sync_all()
            })
            .map_err(CheckpointError::io("writing", &index_temp));
        let data_final = data_path(&self.prefix, 0, 1);
        // The index goes last: a checkpoint exists once its index does, so
        // it must never name data that is not in place yet.
        let renamed = written.and_then(|()| rename(&self.data_temp, &data_final));
        let renamed = match renamed {
            Ok(()) => rename(&index_temp, &index_final).inspect_err(|_| {
                // No index will name this data: leave no file under a final
                // name that is not a complete checkpoint.
                let _ = fs::remove_file(&data_final);
            }),
            Err(err) => Err(err),
        };
        if renamed.is_err() {
            let _ = fs::remove_file(&index_temp);
        }
        renamed?;
        sync_dir(parent_dir(&self.prefix))
    }
}

impl Drop for BundleWriter {
    fn drop(&mut self) {
        if self.data.take().is_some() {
            let _ = fs::remove_file(&self.data_temp);
        }
    }
}
