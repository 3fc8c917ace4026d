//! The tensor bundle: a `.data-00000-of-00001` file with the tensors' raw
//! little-endian bytes, and an `.index` table that says where each tensor
//! is, with its dtype, shape and checksum.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use prost::Message;
use thiserror::Error;

use super::error::{CheckpointError, Result};
use super::fsutil::{append_to_path, parent_dir, rename, sync_dir, temp_path_for};
use super::table::{get_varint64, read_table, TableBuilder};
use crate::proto::tensorflow::{
    bundle_header_proto::Endianness, tensor_shape_proto::Dim, BundleEntryProto, BundleHeaderProto,
    DataType, TensorShapeProto, VersionDef,
};
use crate::record::MaskedCrc;

/// Tensors are read, written and checksummed in pieces of this size.
const CHUNK: usize = 4 << 20;

/// `kTensorBundleVersion`: the producer version TensorFlow writes and reads.
const BUNDLE_VERSION: i32 = 1;

/// The `.index` file of the checkpoint at `prefix`.
pub fn index_path(prefix: &Path) -> PathBuf {
    append_to_path(prefix, ".index")
}

/// The data file of shard `shard` out of `num_shards` of the checkpoint at
/// `prefix` (`<prefix>.data-00000-of-00001` for tbseg's one shard).
pub fn data_path(prefix: &Path, shard: u32, num_shards: u32) -> PathBuf {
    append_to_path(prefix, &format!(".data-{shard:05}-of-{num_shards:05}"))
}

// ---------------------------------------------------------------------------
// Tensors

/// The element types tbseg reads and writes. All are stored as plain
/// little-endian values; `Bool` is one byte, 0 or 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    /// `DT_FLOAT`, 32-bit float.
    F32,
    /// `DT_DOUBLE`, 64-bit float.
    F64,
    /// `DT_INT32`.
    I32,
    /// `DT_INT64`.
    I64,
    /// `DT_UINT8`.
    U8,
    /// `DT_BOOL`, one byte per element.
    Bool,
}

impl DType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::F32 | DType::I32 => 4,
            DType::F64 | DType::I64 => 8,
            DType::U8 | DType::Bool => 1,
        }
    }

    /// TensorFlow's enum value.
    pub fn to_proto(self) -> DataType {
        match self {
            DType::F32 => DataType::DtFloat,
            DType::F64 => DataType::DtDouble,
            DType::I32 => DataType::DtInt32,
            DType::I64 => DataType::DtInt64,
            DType::U8 => DataType::DtUint8,
            DType::Bool => DataType::DtBool,
        }
    }

    /// The tbseg type of a TensorFlow `DataType` number, if supported.
    pub fn from_proto(code: i32) -> Option<DType> {
        Some(match DataType::try_from(code).ok()? {
            DataType::DtFloat => DType::F32,
            DataType::DtDouble => DType::F64,
            DataType::DtInt32 => DType::I32,
            DataType::DtInt64 => DType::I64,
            DataType::DtUint8 => DType::U8,
            DataType::DtBool => DType::Bool,
            _ => return None,
        })
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.to_proto().as_str_name())
    }
}

/// Why a [`TensorData`] could not be built or converted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TensorError {
    /// The number of bytes or values does not match the shape.
    #[error("shape {shape:?} of {dtype} needs {expected} bytes, got {got}")]
    ShapeMismatch {
        /// The shape given.
        shape: Vec<u64>,
        /// The element type.
        dtype: DType,
        /// `numel × sizeof(dtype)`, saturated at `u64::MAX`.
        expected: u64,
        /// The bytes supplied.
        got: u64,
    },
    /// A typed accessor was called on a tensor of another dtype.
    #[error("tensor is {actual}, not {requested}")]
    WrongDType {
        /// The dtype asked for.
        requested: DType,
        /// The tensor's dtype.
        actual: DType,
    },
    /// A scalar accessor was called on a tensor with more than one element.
    #[error("tensor of shape {shape:?} is not a scalar")]
    NotScalar {
        /// The tensor's shape.
        shape: Vec<u64>,
    },
}

/// A dense tensor in host memory: dtype, shape and row-major little-endian
/// bytes. The length of `bytes` always matches the shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorData {
    dtype: DType,
    shape: Vec<u64>,
    bytes: Vec<u8>,
}

/// `numel × sizeof(dtype)`, or `None` on overflow.
fn byte_len(dtype: DType, shape: &[u64]) -> Option<u64> {
    shape
        .iter()
        .try_fold(dtype.size() as u64, |acc, &dim| acc.checked_mul(dim))
}

fn encode_le<T: Copy, const N: usize>(values: &[T], to_le: impl Fn(T) -> [u8; N]) -> Vec<u8> {
    let mut bytes = vec![0u8; values.len() * N];
    for (chunk, &value) in bytes.chunks_exact_mut(N).zip(values) {
        chunk.copy_from_slice(&to_le(value));
    }
    bytes
}

fn decode_le<T, const N: usize>(bytes: &[u8], from_le: impl Fn([u8; N]) -> T) -> Vec<T> {
    bytes
        .chunks_exact(N)
        .map(|chunk| from_le(chunk.try_into().expect("chunks_exact")))
        .collect()
}

macro_rules! typed_access {
    ($ty:ty, $dtype:expr, $from:ident, $scalar:ident, $to:ident, $encode:expr, $decode:expr) => {
        #[doc = concat!("A `", stringify!($ty), "` tensor of `shape`; errs if `values` does not have `numel` elements.")]
        pub fn $from(shape: impl Into<Vec<u64>>, values: &[$ty]) -> Result<Self, TensorError> {
            Self::new($dtype, shape, encode_le(values, $encode))
        }

        #[doc = concat!("A rank-0 `", stringify!($ty), "` tensor.")]
        pub fn $scalar(value: $ty) -> Self {
            TensorData {
                dtype: $dtype,
                shape: Vec::new(),
                bytes: encode_le(&[value], $encode),
            }
        }

        #[doc = concat!("The elements as `", stringify!($ty), "`s, in row-major order; errs if the dtype differs.")]
        pub fn $to(&self) -> Result<Vec<$ty>, TensorError> {
            self.expect_dtype($dtype)?;
            Ok(decode_le(&self.bytes, $decode))
        }
    };
}

impl TensorData {
    /// A tensor from raw little-endian bytes; errs if their length does not
    /// match `shape` and `dtype`.
    pub fn new(
        dtype: DType,
        shape: impl Into<Vec<u64>>,
        bytes: Vec<u8>,
    ) -> Result<Self, TensorError> {
        let shape = shape.into();
        let got = bytes.len() as u64;
        match byte_len(dtype, &shape) {
            Some(expected) if expected == got => Ok(TensorData {
                dtype,
                shape,
                bytes,
            }),
            expected => Err(TensorError::ShapeMismatch {
                shape,
                dtype,
                expected: expected.unwrap_or(u64::MAX),
                got,
            }),
        }
    }

    typed_access!(
        f32,
        DType::F32,
        from_f32,
        scalar_f32,
        to_f32,
        f32::to_le_bytes,
        f32::from_le_bytes
    );
    typed_access!(
        f64,
        DType::F64,
        from_f64,
        scalar_f64,
        to_f64,
        f64::to_le_bytes,
        f64::from_le_bytes
    );
    typed_access!(
        i32,
        DType::I32,
        from_i32,
        scalar_i32,
        to_i32,
        i32::to_le_bytes,
        i32::from_le_bytes
    );
    typed_access!(
        i64,
        DType::I64,
        from_i64,
        scalar_i64,
        to_i64,
        i64::to_le_bytes,
        i64::from_le_bytes
    );
    typed_access!(
        u8,
        DType::U8,
        from_u8,
        scalar_u8,
        to_u8,
        |v: u8| [v],
        |b: [u8; 1]| b[0]
    );
    typed_access!(
        bool,
        DType::Bool,
        from_bool,
        scalar_bool,
        to_bool,
        |v: bool| [u8::from(v)],
        |b: [u8; 1]| b[0] != 0
    );

    /// The value of an `i64` scalar (or one-element) tensor, such as
    /// `global_step`.
    pub fn to_scalar_i64(&self) -> Result<i64, TensorError> {
        match self.to_i64()?.as_slice() {
            [value] => Ok(*value),
            _ => Err(TensorError::NotScalar {
                shape: self.shape.clone(),
            }),
        }
    }

    fn expect_dtype(&self, requested: DType) -> Result<(), TensorError> {
        if self.dtype == requested {
            Ok(())
        } else {
            Err(TensorError::WrongDType {
                requested,
                actual: self.dtype,
            })
        }
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The shape (empty for a scalar).
    pub fn shape(&self) -> &[u64] {
        &self.shape
    }

    /// The number of elements (1 for a scalar).
    pub fn num_elements(&self) -> u64 {
        self.shape.iter().product()
    }

    /// The raw little-endian bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Takes the raw little-endian bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

// ---------------------------------------------------------------------------
// Writing

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

// ---------------------------------------------------------------------------
// Reading

/// One entry of a checkpoint's index, as listed by [`BundleReader`]. Entries
/// that [`BundleReader::get`] cannot decode are listed too: strings (such as
/// the object graph of `tf.train.Checkpoint`, read with
/// [`BundleReader::get_strings`]), other dtypes and slices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// The tensor's name (the table key).
    pub name: String,
    /// TensorFlow's `DataType` number.
    pub dtype_code: i32,
    /// The shape.
    pub shape: Vec<u64>,
    /// The data shard holding the tensor.
    pub shard_id: u32,
    /// Byte offset in the data file.
    pub offset: u64,
    /// Byte size in the data file.
    pub size: u64,
    /// Masked CRC-32C of the bytes, as stored.
    pub crc: MaskedCrc,
    /// Whether the entry describes slices of a partitioned variable (the
    /// data then lives under other keys; tbseg does not reassemble it).
    pub sliced: bool,
}

impl TensorInfo {
    /// The dtype, if tbseg supports it.
    pub fn dtype(&self) -> Option<DType> {
        DType::from_proto(self.dtype_code)
    }

    /// TensorFlow's name of the dtype (`DT_STRING`), or its number.
    pub fn dtype_name(&self) -> String {
        DataType::try_from(self.dtype_code)
            .map(|dtype| dtype.as_str_name().to_owned())
            .unwrap_or_else(|_| format!("DataType({})", self.dtype_code))
    }

    /// Whether [`BundleReader::get`] can decode this entry.
    pub fn is_supported(&self) -> bool {
        self.dtype().is_some() && !self.sliced
    }
}

/// Reads a checkpoint: the index at open, tensors on demand.
#[derive(Debug, Clone)]
pub struct BundleReader {
    prefix: PathBuf,
    index_path: PathBuf,
    num_shards: u32,
    entries: Vec<TensorInfo>,
}

impl BundleReader {
    /// Reads and checks `<prefix>.index` (magic, block checksums, header).
    pub fn open(prefix: impl Into<PathBuf>) -> Result<Self> {
        let prefix = prefix.into();
        let index_path = index_path(&prefix);
        let bytes = crate::storage::read(&index_path)
            .map_err(CheckpointError::io("reading", &index_path))?;
        let table = read_table(&bytes).map_err(|source| CheckpointError::Table {
            path: index_path.clone(),
            source,
        })?;
        let mut table = table.into_iter();
        let unsupported = |reason: String| CheckpointError::UnsupportedBundle {
            path: index_path.clone(),
            reason,
        };
        let header = match table.next() {
            Some((key, value)) if key.is_empty() => BundleHeaderProto::decode(value.as_slice())
                .map_err(|source| CheckpointError::BadEntry {
                    path: index_path.clone(),
                    key: String::new(),
                    source,
                })?,
            _ => return Err(unsupported("no bundle header under the empty key".into())),
        };
        if header.endianness != Endianness::Little as i32 {
            return Err(unsupported("big-endian bundles are not supported".into()));
        }
        let num_shards = u32::try_from(header.num_shards)
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| unsupported(format!("invalid shard count {}", header.num_shards)))?;
        let mut entries = Vec::with_capacity(table.len());
        for (key, value) in table {
            let name = String::from_utf8_lossy(&key).into_owned();
            let entry = BundleEntryProto::decode(value.as_slice()).map_err(|source| {
                CheckpointError::BadEntry {
                    path: index_path.clone(),
                    key: name.clone(),
                    source,
                }
            })?;
            let shape = entry
                .shape
                .as_ref()
                .map(|shape| {
                    shape
                        .dim
                        .iter()
                        .map(|dim| u64::try_from(dim.size))
                        .collect()
                })
                .transpose()
                .map_err(|_| unsupported(format!("tensor {name:?} has a negative dimension")))?
                .unwrap_or_default();
            let shard_id = u32::try_from(entry.shard_id)
                .ok()
                .filter(|&shard| shard < num_shards)
                .ok_or_else(|| {
                    unsupported(format!("tensor {name:?} names shard {}", entry.shard_id))
                })?;
            let (Ok(offset), Ok(size)) = (u64::try_from(entry.offset), u64::try_from(entry.size))
            else {
                return Err(unsupported(format!(
                    "tensor {name:?} has a negative offset or size"
                )));
            };
            entries.push(TensorInfo {
                name,
                dtype_code: entry.dtype,
                shape,
                shard_id,
                offset,
                size,
                crc: MaskedCrc(entry.crc32c),
                sliced: !entry.slices.is_empty(),
            });
        }
        // Lookups are binary searches by name, as in TensorFlow; an index
        // whose keys are out of order (or equal once made UTF-8) would make
        // listed tensors unfindable, so it is refused here, once.
        if let Some(pair) = entries.windows(2).find(|pair| pair[0].name >= pair[1].name) {
            return Err(unsupported(format!(
                "keys are not in strictly increasing order ({:?} before {:?})",
                pair[0].name, pair[1].name
            )));
        }
        Ok(BundleReader {
            prefix,
            index_path,
            num_shards,
            entries,
        })
    }

    /// How many data shards the checkpoint has.
    pub(crate) fn num_shards(&self) -> u32 {
        self.num_shards
    }

    /// The checkpoint prefix.
    pub fn prefix(&self) -> &Path {
        &self.prefix
    }

    /// Every entry except the header, in key order.
    pub fn entries(&self) -> &[TensorInfo] {
        &self.entries
    }

    /// The tensor names, in key order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|entry| entry.name.as_str())
    }

    /// The entries [`get`](Self::get) cannot decode.
    pub fn unsupported(&self) -> impl Iterator<Item = &TensorInfo> {
        self.entries.iter().filter(|entry| !entry.is_supported())
    }

    /// The entry for `name`.
    pub fn info(&self, name: &str) -> Option<&TensorInfo> {
        self.entries
            .binary_search_by(|entry| entry.name.as_bytes().cmp(name.as_bytes()))
            .ok()
            .map(|at| &self.entries[at])
    }

    /// The entry `name`, unless it is missing or holds slices (a
    /// partitioned variable, whose data lives under other keys).
    fn whole_entry(&self, name: &str) -> Result<&TensorInfo> {
        let info = self.info(name).ok_or_else(|| CheckpointError::NotFound {
            path: self.index_path.clone(),
            name: name.to_owned(),
        })?;
        if info.sliced {
            return Err(self.cannot_read(
                name,
                "slices (a partitioned variable), which tbseg only lists".into(),
            ));
        }
        Ok(info)
    }

    fn cannot_read(&self, name: &str, what: String) -> CheckpointError {
        CheckpointError::UnsupportedTensor {
            path: self.index_path.clone(),
            name: name.to_owned(),
            what,
        }
    }

    /// Reads tensor `name` from the data file, checking its size against
    /// the shape and its bytes against the checksum.
    pub fn get(&self, name: &str) -> Result<TensorData> {
        let info = self.whole_entry(name)?;
        if info.dtype_code == DataType::DtString as i32 {
            return Err(self.cannot_read(
                name,
                "dtype DT_STRING: read it with BundleReader::get_strings".into(),
            ));
        }
        let dtype = info.dtype().ok_or_else(|| {
            self.cannot_read(
                name,
                format!("dtype {}, which tbseg only lists", info.dtype_name()),
            )
        })?;
        let expected = byte_len(dtype, &info.shape).unwrap_or(u64::MAX);
        if expected != info.size {
            return Err(CheckpointError::SizeMismatch {
                path: self.index_path.clone(),
                name: name.to_owned(),
                expected,
                got: info.size,
            });
        }
        let data_path = data_path(&self.prefix, info.shard_id, self.num_shards);
        let (bytes, got) = read_range(&data_path, name, info.offset, info.size)?;
        check_checksum(info, got, &data_path)?;
        TensorData::new(dtype, info.shape.clone(), bytes).map_err(|source| {
            CheckpointError::Tensor {
                name: name.to_owned(),
                source,
            }
        })
    }

    /// Reads the `DT_STRING` tensor `name`, such as the object graph that
    /// `tf.train.Checkpoint` stores under `_CHECKPOINTABLE_OBJECT_GRAPH`:
    /// its elements in row-major order, checked against the checksum of
    /// their lengths and the entry's checksum.
    pub fn get_strings(&self, name: &str) -> Result<Vec<Vec<u8>>> {
        let info = self.whole_entry(name)?;
        if info.dtype_code != DataType::DtString as i32 {
            return Err(self.cannot_read(
                name,
                format!(
                    "dtype {}: read it with BundleReader::get",
                    info.dtype_name()
                ),
            ));
        }
        let count = info
            .shape
            .iter()
            .try_fold(1u64, |n, &dim| n.checked_mul(dim))
            .ok_or_else(|| {
                self.cannot_read(name, format!("shape {:?}, too many elements", info.shape))
            })?;
        let data_path = data_path(&self.prefix, info.shard_id, self.num_shards);
        let (bytes, _) = read_range(&data_path, name, info.offset, info.size)?;
        let (strings, got) =
            decode_strings(&bytes, count).map_err(|reason| CheckpointError::BadStrings {
                path: data_path.clone(),
                name: name.to_owned(),
                reason,
            })?;
        check_checksum(info, got, &data_path)?;
        Ok(strings)
    }
}

/// The checksum `got` of entry `info`'s bytes (read from `data_path`)
/// must be the one the index stores.
fn check_checksum(info: &TensorInfo, got: MaskedCrc, data_path: &Path) -> Result<()> {
    if got == info.crc {
        return Ok(());
    }
    Err(CheckpointError::TensorChecksum {
        path: data_path.to_owned(),
        name: info.name.clone(),
        expected: info.crc,
        got,
    })
}

/// Splits the bytes of a `DT_STRING` tensor of `count` elements and returns
/// them with the masked checksum TensorFlow stores for them.
///
/// The layout TensorFlow writes: each element's length as a varint64, the
/// masked CRC-32C of those lengths, then the elements' bytes. The lengths
/// enter the checksums as little-endian u32 (u64 above `u32::MAX`, as older
/// checkpoints had only u32), not as their varint bytes; the entry's
/// checksum runs over lengths, length checksum and bytes.
fn decode_strings(
    bytes: &[u8],
    count: u64,
) -> std::result::Result<(Vec<Vec<u8>>, MaskedCrc), String> {
    let mut at = 0;
    let mut crc = 0;
    // Every length takes at least one byte, which bounds the allocation.
    let mut lengths = Vec::with_capacity(count.min(bytes.len() as u64) as usize);
    for index in 0..count {
        let (length, used) = get_varint64(&bytes[at..])
            .ok_or_else(|| format!("the length of element {index} is not a varint64"))?;
        at += used;
        crc = match u32::try_from(length) {
            Ok(short) => crc32c::crc32c_append(crc, &short.to_le_bytes()),
            Err(_) => crc32c::crc32c_append(crc, &length.to_le_bytes()),
        };
        lengths.push(length);
    }
    let stored: [u8; 4] = bytes
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .ok_or("the checksum of the lengths is missing")?;
    let expected = MaskedCrc::from_crc(crc);
    if u32::from_le_bytes(stored) != expected.0 {
        return Err(format!(
            "the lengths' checksum is {}, the lengths give {expected}",
            MaskedCrc(u32::from_le_bytes(stored))
        ));
    }
    crc = crc32c::crc32c_append(crc, &stored);
    at += 4;
    let mut strings = Vec::with_capacity(lengths.len());
    for (index, length) in lengths.into_iter().enumerate() {
        let element = usize::try_from(length)
            .ok()
            .and_then(|length| bytes.get(at..at.checked_add(length)?))
            .ok_or_else(|| {
                format!("element {index} ({length} bytes) runs past the tensor's end")
            })?;
        crc = crc32c::crc32c_append(crc, element);
        strings.push(element.to_vec());
        at += element.len();
    }
    if at != bytes.len() {
        return Err(format!(
            "{} byte(s) follow the last element",
            bytes.len() - at
        ));
    }
    Ok((strings, MaskedCrc::from_crc(crc)))
}

/// Reads `size` bytes at `offset` of `path` and their masked CRC-32C,
/// reporting a short file as [`CheckpointError::DataTruncated`].
fn read_range(path: &Path, name: &str, offset: u64, size: u64) -> Result<(Vec<u8>, MaskedCrc)> {
    #[cfg(feature = "object-store")]
    if let crate::storage::Location::Remote(url) = crate::storage::Location::of(path) {
        return read_remote_range(path, url, name, offset, size);
    }
    let io_error = CheckpointError::io("reading", path);
    let mut file = File::open(path).map_err(CheckpointError::io("opening", path))?;
    let file_len = file
        .metadata()
        .map_err(CheckpointError::io("reading", path))?
        .len();
    let end = offset.saturating_add(size);
    let truncated = || CheckpointError::DataTruncated {
        path: path.to_owned(),
        name: name.to_owned(),
        offset,
        end,
        file_len,
    };
    if end > file_len {
        return Err(truncated());
    }
    let len = usize::try_from(size).map_err(|_| truncated())?;
    let mut bytes = vec![0u8; len];
    let mut crc = 0;
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| {
            // Checksum each chunk as soon as it is read, while it is in the
            // CPU cache.
            for chunk in bytes.chunks_mut(CHUNK) {
                file.read_exact(chunk)?;
                crc = crc32c::crc32c_append(crc, chunk);
            }
            Ok(())
        })
        .map_err(|err| match err.kind() {
            io::ErrorKind::UnexpectedEof => truncated(),
            _ => io_error(err),
        })?;
    Ok((bytes, MaskedCrc::from_crc(crc)))
}

/// [`read_range`] of an object: one ranged download; an object shorter
/// than the range is [`CheckpointError::DataTruncated`].
#[cfg(feature = "object-store")]
fn read_remote_range(
    path: &Path,
    url: &str,
    name: &str,
    offset: u64,
    size: u64,
) -> Result<(Vec<u8>, MaskedCrc)> {
    let object =
        crate::storage::remote::Remote::open(url).map_err(CheckpointError::io("opening", path))?;
    let end = offset.saturating_add(size);
    let truncated = |file_len: u64| CheckpointError::DataTruncated {
        path: path.to_owned(),
        name: name.to_owned(),
        offset,
        end,
        file_len,
    };
    let bytes = match object.get_range(offset..end) {
        Ok(bytes) => bytes,
        Err(err) => {
            // A range past the end: say so, with the object's real size.
            return match object.size() {
                Ok(Some(len)) if len < end => Err(truncated(len)),
                _ => Err(CheckpointError::io("reading", path)(err)),
            };
        }
    };
    if (bytes.len() as u64) < size {
        return Err(truncated(offset + bytes.len() as u64));
    }
    let crc = bytes.chunks(CHUNK).fold(0, crc32c::crc32c_append);
    Ok((bytes, MaskedCrc::from_crc(crc)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inverse of `decode_strings`, as TensorFlow's `WriteStringTensor`
    /// lays the bytes out; returns the bytes and the entry's checksum.
    fn encode_strings(strings: &[&[u8]]) -> (Vec<u8>, MaskedCrc) {
        let mut bytes = Vec::new();
        let mut crc = 0;
        for s in strings {
            super::super::table::put_varint64(&mut bytes, s.len() as u64);
            crc = crc32c::crc32c_append(crc, &(s.len() as u32).to_le_bytes());
        }
        let lengths_crc = MaskedCrc::from_crc(crc).0.to_le_bytes();
        bytes.extend_from_slice(&lengths_crc);
        crc = crc32c::crc32c_append(crc, &lengths_crc);
        for s in strings {
            bytes.extend_from_slice(s);
            crc = crc32c::crc32c_append(crc, s);
        }
        (bytes, MaskedCrc::from_crc(crc))
    }

    #[test]
    fn string_tensors_decode_and_check_their_lengths() {
        let elements: [&[u8]; 4] = [b"", b"object graph", &[0, 255, 7], &[b'x'; 200]];
        let (bytes, crc) = encode_strings(&elements);
        let (decoded, got) = decode_strings(&bytes, 4).unwrap();
        assert_eq!(decoded, elements.map(<[u8]>::to_vec));
        assert_eq!(got, crc);

        // One length byte changed: the lengths' checksum catches it before
        // any element is cut.
        let mut bad = bytes.clone();
        bad[1] ^= 1;
        let err = decode_strings(&bad, 4).unwrap_err();
        assert!(err.contains("lengths' checksum"), "{err}");
        // A changed element byte changes the entry checksum.
        let mut bad = bytes.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_ne!(decode_strings(&bad, 4).unwrap().1, crc);
        // Too short, too long, too few elements asked for.
        let err = decode_strings(&bytes[..bytes.len() - 1], 4).unwrap_err();
        assert!(err.contains("element 3 (200 bytes) runs past"), "{err}");
        let mut long = bytes.clone();
        long.push(0);
        assert!(decode_strings(&long, 4)
            .unwrap_err()
            .contains("1 byte(s) follow"));
        assert!(decode_strings(&bytes, 3).is_err());
        assert!(decode_strings(&[], 1)
            .unwrap_err()
            .contains("not a varint64"));
        // A scalar of a huge claimed count fails without allocating for it.
        assert!(decode_strings(&bytes, u64::MAX).is_err());
    }

    #[test]
    fn typed_round_trips() {
        let t = TensorData::from_f32([2, 2], &[1.0, -2.5, f32::INFINITY, 0.0]).unwrap();
        assert_eq!(t.to_f32().unwrap(), [1.0, -2.5, f32::INFINITY, 0.0]);
        assert_eq!(&t.bytes()[..4], &1.0f32.to_le_bytes());
        assert_eq!(
            TensorData::from_f64([1], &[0.1]).unwrap().to_f64().unwrap(),
            [0.1]
        );
        assert_eq!(
            TensorData::from_i32([3], &[1, -1, i32::MAX])
                .unwrap()
                .to_i32()
                .unwrap(),
            [1, -1, i32::MAX]
        );
        assert_eq!(TensorData::scalar_i64(-7).to_scalar_i64().unwrap(), -7);
        assert_eq!(
            TensorData::from_u8([2], &[0, 255])
                .unwrap()
                .to_u8()
                .unwrap(),
            [0, 255]
        );
        let flags = TensorData::from_bool([3], &[true, false, true]).unwrap();
        assert_eq!(flags.bytes(), [1, 0, 1]);
        assert_eq!(flags.to_bool().unwrap(), [true, false, true]);
        assert!(TensorData::scalar_f32(1.0).shape().is_empty());
        assert_eq!(TensorData::scalar_f32(1.0).num_elements(), 1);
    }

    #[test]
    fn mismatches_are_errors() {
        let err = TensorData::from_f32([2, 3], &[1.0; 5]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "shape [2, 3] of DT_FLOAT needs 24 bytes, got 20"
        );
        let err = TensorData::scalar_i32(1).to_i64().unwrap_err();
        assert_eq!(err.to_string(), "tensor is DT_INT32, not DT_INT64");
        let err = TensorData::from_i64([2], &[1, 2])
            .unwrap()
            .to_scalar_i64()
            .unwrap_err();
        assert_eq!(err, TensorError::NotScalar { shape: vec![2] });
        assert!(TensorData::new(DType::U8, [u64::MAX, 2], vec![]).is_err());
    }

    #[test]
    fn dtype_codes_match_tensorflow() {
        let codes: Vec<i32> = [
            DType::F32,
            DType::F64,
            DType::I32,
            DType::I64,
            DType::U8,
            DType::Bool,
        ]
        .iter()
        .map(|d| d.to_proto() as i32)
        .collect();
        assert_eq!(codes, [1, 2, 3, 9, 4, 10]);
        for code in codes {
            assert_eq!(DType::from_proto(code).unwrap().to_proto() as i32, code);
        }
        assert_eq!(DType::from_proto(7), None, "DT_STRING");
    }

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
