//! Reading a tensor bundle: [`BundleReader`] and its [`TensorInfo`]
//! entries.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use prost::Message;

use super::{data_path, index_path, CHUNK};
use crate::checkpoint::error::{CheckpointError, Result};
use crate::checkpoint::table::{get_varint64, read_table};
use crate::checkpoint::tensor::{byte_len, DType, TensorData};
use crate::proto::tensorflow::{
    bundle_header_proto::Endianness, BundleEntryProto, BundleHeaderProto, DataType,
};
use crate::record::MaskedCrc;

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
            crate::checkpoint::table::put_varint64(&mut bytes, s.len() as u64);
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
}
