//! The `.index` file of a checkpoint: a LevelDB-style sorted string table
//! (SSTable) without filter blocks and without compression.
//!
//! Layout (TensorFlow's `tensorflow/core/lib/io/table_format.txt`):
//!
//! ```text
//! data block 0 | trailer
//! ...
//! data block n | trailer
//! metaindex block (empty) | trailer
//! index block | trailer
//! footer (48 bytes)
//! ```
//!
//! A block is a run of prefix-compressed entries, then the `u32le` offsets
//! of the restart points and their count. The 5-byte trailer after each
//! block is the compression type (always 0 here) and the masked CRC-32C of
//! the block contents followed by that type byte. The index block maps a
//! separator key to each data block's [`BlockHandle`]; the footer holds
//! the handles of the metaindex and index blocks and a magic number.
//!
//! Everything here works on byte slices: the index of a checkpoint is small
//! (one entry per tensor), so the bundle code reads it whole.

use thiserror::Error;

use crate::record::MaskedCrc;

/// Restart interval of data blocks (LevelDB's `block_restart_interval`).
pub const DATA_RESTART_INTERVAL: usize = 16;
/// Size at which a data block is cut (TensorFlow's `block_size`, 256 KiB).
pub const DEFAULT_BLOCK_SIZE: usize = 256 * 1024;
/// Bytes after every block: a type byte and a masked CRC-32C.
pub const BLOCK_TRAILER_LEN: usize = 5;
/// Length of the footer at the end of every table.
pub const FOOTER_LEN: usize = 48;
/// The last eight bytes of every table (LevelDB's `kTableMagicNumber`).
pub const TABLE_MAGIC: u64 = 0xdb47_7524_8b80_fb57;
/// Block type byte for uncompressed contents.
const NO_COMPRESSION: u8 = 0;

/// Why an SSTable could not be decoded. Offsets are byte offsets into the
/// table file. Every variant is fatal for the file it came from.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TableError {
    /// The file is too short to hold a footer.
    #[error("not a checkpoint index: {len} bytes is shorter than the {FOOTER_LEN}-byte footer")]
    TooShort {
        /// Length of the file.
        len: usize,
    },
    /// The last eight bytes are not [`TABLE_MAGIC`].
    #[error(
        "not a checkpoint index (bad magic number): expected {TABLE_MAGIC:#018x}, got {got:#018x}"
    )]
    BadMagic {
        /// The magic number found.
        got: u64,
    },
    /// A block's stored checksum disagrees with its contents.
    #[error("block checksum mismatch in the block at offset {offset}: stored {stored}, computed {computed}")]
    BlockChecksum {
        /// Offset of the block.
        offset: u64,
        /// Checksum stored in the block trailer.
        stored: MaskedCrc,
        /// Checksum of the bytes as read.
        computed: MaskedCrc,
    },
    /// A block handle points outside the file.
    #[error("block at offset {offset} with {size} bytes (plus trailer) runs past the end of the {file_len}-byte file")]
    BlockOutOfRange {
        /// Offset of the block.
        offset: u64,
        /// Size of the block contents.
        size: u64,
        /// Length of the file.
        file_len: usize,
    },
    /// A block is compressed (Snappy), which checkpoints never are.
    #[error("block at offset {offset} has compression type {kind}; only uncompressed blocks are supported")]
    Compressed {
        /// Offset of the block.
        offset: u64,
        /// The compression type byte.
        kind: u8,
    },
    /// The bytes do not follow the block or footer encoding.
    #[error("malformed table at byte {offset}: {what}")]
    Malformed {
        /// Byte offset of the problem (of the block, if inside one).
        offset: u64,
        /// What was wrong.
        what: &'static str,
    },
}

/// A decoded table entry: (key, value).
pub type Entry = (Vec<u8>, Vec<u8>);

// ---------------------------------------------------------------------------
// Varints

/// Appends `value` as a LEB128 varint (at most 5 bytes).
pub fn put_varint32(out: &mut Vec<u8>, value: u32) {
    put_varint64(out, u64::from(value));
}

/// Appends `value` as a LEB128 varint (at most 10 bytes).
pub fn put_varint64(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Decodes a varint32 from the front of `bytes`, returning the value and
/// the number of bytes it took. `None` if truncated or longer than 5 bytes
/// or out of range.
pub fn get_varint32(bytes: &[u8]) -> Option<(u32, usize)> {
    let (value, len) = decode_varint(bytes, 5)?;
    Some((u32::try_from(value).ok()?, len))
}

/// Decodes a varint64 from the front of `bytes`, returning the value and
/// the number of bytes it took. `None` if truncated or longer than 10 bytes.
pub fn get_varint64(bytes: &[u8]) -> Option<(u64, usize)> {
    decode_varint(bytes, 10)
}

fn decode_varint(bytes: &[u8], max_len: usize) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().take(max_len).enumerate() {
        let bits = u64::from(byte & 0x7f);
        let shift = 7 * i as u32;
        if shift == 63 && bits > 1 {
            return None;
        }
        value |= bits << shift;
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Block handles and the footer

/// Where a block lives in the file: its offset and the size of its contents
/// (without the 5-byte trailer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlockHandle {
    /// Offset of the first byte of the block.
    pub offset: u64,
    /// Size of the block contents, trailer excluded.
    pub size: u64,
}

impl BlockHandle {
    /// Appends the handle as two varint64s.
    pub fn encode_to(&self, out: &mut Vec<u8>) {
        put_varint64(out, self.offset);
        put_varint64(out, self.size);
    }

    /// Decodes a handle from the front of `bytes`; returns it and the
    /// number of bytes used.
    pub fn decode(bytes: &[u8]) -> Option<(Self, usize)> {
        let (offset, a) = get_varint64(bytes)?;
        let (size, b) = get_varint64(&bytes[a..])?;
        Some((BlockHandle { offset, size }, a + b))
    }
}

/// Encodes the 48-byte footer: both handles, zero padding to 40 bytes, then
/// the magic number as two little-endian `u32`s, low word first (which is
/// the same as one little-endian `u64`).
pub fn encode_footer(metaindex: BlockHandle, index: BlockHandle) -> [u8; FOOTER_LEN] {
    let mut handles = Vec::with_capacity(40);
    metaindex.encode_to(&mut handles);
    index.encode_to(&mut handles);
    let mut footer = [0u8; FOOTER_LEN];
    footer[..handles.len()].copy_from_slice(&handles);
    footer[40..].copy_from_slice(&TABLE_MAGIC.to_le_bytes());
    footer
}

/// Decodes a footer into (metaindex handle, index handle). `footer_offset`
/// is only used for error messages.
pub fn decode_footer(
    footer: &[u8; FOOTER_LEN],
    footer_offset: u64,
) -> Result<(BlockHandle, BlockHandle), TableError> {
    let magic = u64::from_le_bytes(footer[40..].try_into().expect("8 bytes"));
    if magic != TABLE_MAGIC {
        return Err(TableError::BadMagic { got: magic });
    }
    let malformed = TableError::Malformed {
        offset: footer_offset,
        what: "footer block handles do not decode",
    };
    let (metaindex, used) = BlockHandle::decode(&footer[..40]).ok_or(malformed.clone())?;
    let (index, _) = BlockHandle::decode(&footer[used..40]).ok_or(malformed)?;
    Ok((metaindex, index))
}

// ---------------------------------------------------------------------------
// Blocks

/// Builds one block: prefix-compressed entries with a restart point every
/// `restart_interval` entries, then the restart array and its length.
#[derive(Debug, Clone)]
pub struct BlockBuilder {
    buffer: Vec<u8>,
    restarts: Vec<u32>,
    entries_since_restart: usize,
    restart_interval: usize,
    last_key: Vec<u8>,
}

impl BlockBuilder {
    /// An empty block that restarts prefix compression every
    /// `restart_interval` entries (16 for data blocks, 1 for the index).
    pub fn new(restart_interval: usize) -> Self {
        BlockBuilder {
            buffer: Vec::new(),
            restarts: vec![0],
            entries_since_restart: 0,
            restart_interval: restart_interval.max(1),
            last_key: Vec::new(),
        }
    }

    /// Appends an entry. Keys must arrive in increasing bytewise order; the
    /// table builder guarantees that.
    pub fn add(&mut self, key: &[u8], value: &[u8]) {
        let shared = if self.entries_since_restart < self.restart_interval {
            common_prefix_len(&self.last_key, key)
        } else {
            self.restarts.push(self.buffer.len() as u32);
            self.entries_since_restart = 0;
            0
        };
        put_varint32(&mut self.buffer, shared as u32);
        put_varint32(&mut self.buffer, (key.len() - shared) as u32);
        put_varint32(&mut self.buffer, value.len() as u32);
        self.buffer.extend_from_slice(&key[shared..]);
        self.buffer.extend_from_slice(value);
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        self.entries_since_restart += 1;
    }

    /// Whether no entry was added since creation or the last `finish`.
    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// Size of the block if it were finished now.
    pub fn size_estimate(&self) -> usize {
        self.buffer.len() + 4 * self.restarts.len() + 4
    }

    /// Returns the finished block contents and resets the builder.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut block = std::mem::take(&mut self.buffer);
        for restart in &self.restarts {
            block.extend_from_slice(&restart.to_le_bytes());
        }
        block.extend_from_slice(&(self.restarts.len() as u32).to_le_bytes());
        self.restarts = vec![0];
        self.entries_since_restart = 0;
        self.last_key.clear();
        block
    }
}

fn common_prefix_len(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// The checksum stored in a block trailer: masked CRC-32C of the contents
/// followed by the type byte.
pub fn block_crc(contents: &[u8], kind: u8) -> MaskedCrc {
    let crc = crc32c::crc32c_append(crc32c::crc32c(contents), &[kind]);
    MaskedCrc::from_crc(crc)
}

/// Decodes every entry of a block's contents (trailer already removed), in
/// order. `offset` is the block's offset in the file, for errors.
pub fn decode_block(block: &[u8], offset: u64) -> Result<Vec<Entry>, TableError> {
    let malformed = |what| TableError::Malformed { offset, what };
    if block.len() < 4 {
        return Err(malformed("block shorter than its restart count"));
    }
    let count_at = block.len() - 4;
    let num_restarts = u32::from_le_bytes(block[count_at..].try_into().expect("4 bytes")) as usize;
    let restarts_len = num_restarts
        .checked_mul(4)
        .filter(|&len| len <= count_at)
        .ok_or(malformed("restart array larger than the block"))?;
    let entries_end = count_at - restarts_len;
    let mut entries = Vec::new();
    let mut key: Vec<u8> = Vec::new();
    let mut pos = 0;
    while pos < entries_end {
        let rest = &block[pos..entries_end];
        let (shared, a) = get_varint32(rest).ok_or(malformed("bad shared-length varint"))?;
        let (non_shared, b) = get_varint32(&rest[a..]).ok_or(malformed("bad key-length varint"))?;
        let (value_len, c) =
            get_varint32(&rest[a + b..]).ok_or(malformed("bad value-length varint"))?;
        let (shared, non_shared, value_len) =
            (shared as usize, non_shared as usize, value_len as usize);
        if shared > key.len() {
            return Err(malformed(
                "entry shares more bytes than the previous key has",
            ));
        }
        let body = &rest[a + b + c..];
        if non_shared + value_len > body.len() {
            return Err(malformed("entry runs past the end of the block"));
        }
        key.truncate(shared);
        key.extend_from_slice(&body[..non_shared]);
        entries.push((
            key.clone(),
            body[non_shared..non_shared + value_len].to_vec(),
        ));
        pos += a + b + c + non_shared + value_len;
    }
    Ok(entries)
}

/// Checks a block's trailer and returns its contents. `table` is the whole
/// file.
pub fn read_block(table: &[u8], handle: BlockHandle) -> Result<&[u8], TableError> {
    let out_of_range = TableError::BlockOutOfRange {
        offset: handle.offset,
        size: handle.size,
        file_len: table.len(),
    };
    let start = usize::try_from(handle.offset).map_err(|_| out_of_range.clone())?;
    let size = usize::try_from(handle.size).map_err(|_| out_of_range.clone())?;
    let end = start
        .checked_add(size)
        .and_then(|end| end.checked_add(BLOCK_TRAILER_LEN))
        .filter(|&end| end <= table.len())
        .ok_or(out_of_range)?;
    let contents = &table[start..start + size];
    let kind = table[start + size];
    let stored = MaskedCrc(u32::from_le_bytes(
        table[start + size + 1..end].try_into().expect("4 bytes"),
    ));
    let computed = block_crc(contents, kind);
    if stored != computed {
        return Err(TableError::BlockChecksum {
            offset: handle.offset,
            stored,
            computed,
        });
    }
    if kind != NO_COMPRESSION {
        return Err(TableError::Compressed {
            offset: handle.offset,
            kind,
        });
    }
    Ok(contents)
}

// ---------------------------------------------------------------------------
// Separator keys for the index block

/// Shortens `start` to a key `k` with `start <= k < limit` where possible
/// (LevelDB's bytewise `FindShortestSeparator`).
pub fn shortest_separator(start: &mut Vec<u8>, limit: &[u8]) {
    let diff = common_prefix_len(start, limit);
    if diff >= start.len().min(limit.len()) {
        // One key is a prefix of the other: leave it.
        return;
    }
    let byte = start[diff];
    if byte < 0xff && byte + 1 < limit[diff] {
        start[diff] = byte + 1;
        start.truncate(diff + 1);
    }
}

/// Replaces `key` by a short key `>= key` (LevelDB's bytewise
/// `FindShortSuccessor`): the first byte that is not `0xff` is incremented
/// and the rest dropped, so `v/.ATTRIBUTES/VARIABLE_VALUE` becomes `w`.
pub fn short_successor(key: &mut Vec<u8>) {
    if let Some(i) = key.iter().position(|&b| b != 0xff) {
        key[i] += 1;
        key.truncate(i + 1);
    }
}

// ---------------------------------------------------------------------------
// Tables

/// Writes a table into memory. Keys must be added in strictly increasing
/// bytewise order.
#[derive(Debug)]
pub struct TableBuilder {
    out: Vec<u8>,
    block_size: usize,
    data_block: BlockBuilder,
    index_block: BlockBuilder,
    last_key: Vec<u8>,
    pending_handle: Option<BlockHandle>,
    num_entries: usize,
}

impl Default for TableBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl TableBuilder {
    /// A builder that cuts data blocks at TensorFlow's 256 KiB.
    pub fn new() -> Self {
        Self::with_block_size(DEFAULT_BLOCK_SIZE)
    }

    /// A builder that cuts data blocks once their estimated size reaches
    /// `block_size` (small sizes exercise multi-block tables in tests).
    pub fn with_block_size(block_size: usize) -> Self {
        TableBuilder {
            out: Vec::new(),
            block_size,
            data_block: BlockBuilder::new(DATA_RESTART_INTERVAL),
            index_block: BlockBuilder::new(1),
            last_key: Vec::new(),
            pending_handle: None,
            num_entries: 0,
        }
    }

    /// Adds an entry.
    ///
    /// # Panics
    ///
    /// If `key` is not greater than the previous key: that is a bug in the
    /// caller (the bundle writer sorts its keys), not bad input.
    pub fn add(&mut self, key: &[u8], value: &[u8]) {
        assert!(
            self.num_entries == 0 || key > self.last_key.as_slice(),
            "table keys must be added in increasing order"
        );
        if let Some(handle) = self.pending_handle.take() {
            shortest_separator(&mut self.last_key, key);
            self.add_index_entry(handle);
        }
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        self.num_entries += 1;
        self.data_block.add(key, value);
        if self.data_block.size_estimate() >= self.block_size {
            self.flush_data_block();
        }
    }

    fn add_index_entry(&mut self, handle: BlockHandle) {
        let mut encoded = Vec::with_capacity(20);
        handle.encode_to(&mut encoded);
        self.index_block.add(&self.last_key, &encoded);
    }

    fn flush_data_block(&mut self) {
        if self.data_block.is_empty() {
            return;
        }
        let contents = self.data_block.finish();
        self.pending_handle = Some(self.write_block(&contents));
    }

    fn write_block(&mut self, contents: &[u8]) -> BlockHandle {
        let handle = BlockHandle {
            offset: self.out.len() as u64,
            size: contents.len() as u64,
        };
        self.out.extend_from_slice(contents);
        self.out.push(NO_COMPRESSION);
        let crc = block_crc(contents, NO_COMPRESSION);
        self.out.extend_from_slice(&crc.0.to_le_bytes());
        handle
    }

    /// Writes the last data block, the empty metaindex block, the index
    /// block and the footer, and returns the whole table.
    pub fn finish(mut self) -> Vec<u8> {
        self.flush_data_block();
        let metaindex = self.write_block(&BlockBuilder::new(DATA_RESTART_INTERVAL).finish());
        if let Some(handle) = self.pending_handle.take() {
            short_successor(&mut self.last_key);
            self.add_index_entry(handle);
        }
        let index_contents = self.index_block.finish();
        let index = self.write_block(&index_contents);
        self.out.extend_from_slice(&encode_footer(metaindex, index));
        self.out
    }
}

/// Reads a whole table: checks the footer magic and every block's checksum
/// and returns all entries in file order.
pub fn read_table(table: &[u8]) -> Result<Vec<Entry>, TableError> {
    if table.len() < FOOTER_LEN {
        return Err(TableError::TooShort { len: table.len() });
    }
    let footer_offset = table.len() - FOOTER_LEN;
    let footer: &[u8; FOOTER_LEN] = table[footer_offset..].try_into().expect("48 bytes");
    let (metaindex, index) = decode_footer(footer, footer_offset as u64)?;
    // The metaindex is always empty in checkpoints; reading it still
    // verifies its checksum.
    read_block(table, metaindex)?;
    let index_contents = read_block(table, index)?;
    let mut entries = Vec::new();
    for (_, handle_bytes) in decode_block(index_contents, index.offset)? {
        let (handle, _) = BlockHandle::decode(&handle_bytes).ok_or(TableError::Malformed {
            offset: index.offset,
            what: "index entry is not a block handle",
        })?;
        let contents = read_block(table, handle)?;
        entries.extend(decode_block(contents, handle.offset)?);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn varint_golden_bytes() {
        let mut out = Vec::new();
        put_varint32(&mut out, 0);
        put_varint32(&mut out, 127);
        put_varint32(&mut out, 128);
        put_varint32(&mut out, 300);
        put_varint64(&mut out, u64::MAX);
        assert_eq!(
            out,
            [
                0x00, 0x7f, 0x80, 0x01, 0xac, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xff, 0x01
            ]
        );
    }

    #[test]
    fn varint_rejects_truncated_and_overlong() {
        assert_eq!(get_varint32(&[0x80]), None);
        assert_eq!(get_varint32(&[]), None);
        // 2^32 does not fit a varint32.
        assert_eq!(get_varint32(&[0x80, 0x80, 0x80, 0x80, 0x10]), None);
        assert_eq!(get_varint64(&[0xff; 11]), None);
        assert_eq!(
            get_varint64(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]),
            None
        );
    }

    #[test]
    fn empty_block_is_one_restart() {
        assert_eq!(BlockBuilder::new(16).finish(), [0, 0, 0, 0, 1, 0, 0, 0]);
    }

    #[test]
    fn block_golden_bytes_with_prefix_compression() {
        let mut block = BlockBuilder::new(16);
        block.add(b"abc", b"1");
        block.add(b"abd", b"22");
        let expected: &[u8] = &[
            0, 3, 1, b'a', b'b', b'c', b'1', // first entry, nothing shared
            2, 1, 2, b'd', b'2', b'2', // shares "ab"
            0, 0, 0, 0, // restart at 0
            1, 0, 0, 0, // one restart
        ];
        assert_eq!(block.finish(), expected);
    }

    #[test]
    fn restart_every_interval() {
        let mut block = BlockBuilder::new(2);
        for key in [b"a1", b"a2", b"a3"] {
            block.add(key, b"");
        }
        let contents = block.finish();
        // Entries: "a1" (5 bytes), "2" shared 1 (4 bytes), "a3" restart (5).
        assert_eq!(&contents[14..], &[0, 0, 0, 0, 9, 0, 0, 0, 2, 0, 0, 0]);
        assert_eq!(contents[9], 0, "the restart entry shares nothing");
    }

    #[test]
    fn separators() {
        let mut start = b"abcd".to_vec();
        shortest_separator(&mut start, b"abzz");
        assert_eq!(start, b"abd");
        let mut start = b"abc".to_vec();
        shortest_separator(&mut start, b"abd");
        assert_eq!(start, b"abc", "no room between c and d");
        let mut start = b"ab".to_vec();
        shortest_separator(&mut start, b"abc");
        assert_eq!(start, b"ab", "prefix stays");
        let mut key = b"v/.ATTRIBUTES/VARIABLE_VALUE".to_vec();
        short_successor(&mut key);
        assert_eq!(key, b"w");
        let mut key = vec![0xff, 0xff, 0x10, 0x20];
        short_successor(&mut key);
        assert_eq!(key, [0xff, 0xff, 0x11]);
        let mut key = vec![0xff, 0xff];
        short_successor(&mut key);
        assert_eq!(key, [0xff, 0xff]);
    }

    #[test]
    fn footer_golden_bytes() {
        let footer = encode_footer(
            BlockHandle {
                offset: 10,
                size: 8,
            },
            BlockHandle {
                offset: 23,
                size: 300,
            },
        );
        let mut expected = vec![10, 8, 23, 0xac, 0x02];
        expected.resize(40, 0);
        expected.extend_from_slice(&[0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb]);
        assert_eq!(footer.as_slice(), expected.as_slice());
    }

    /// A table with one entry `"" -> "x"`, byte by byte.
    #[test]
    fn one_entry_table_golden_bytes() {
        let mut builder = TableBuilder::new();
        builder.add(b"", b"x");
        let table = builder.finish();
        let data_block: &[u8] = &[0, 0, 1, b'x', 0, 0, 0, 0, 1, 0, 0, 0];
        let mut expected = data_block.to_vec();
        expected.push(0);
        expected.extend_from_slice(&block_crc(data_block, 0).0.to_le_bytes());
        let metaindex_offset = expected.len();
        let empty: &[u8] = &[0, 0, 0, 0, 1, 0, 0, 0];
        expected.extend_from_slice(empty);
        expected.push(0);
        expected.extend_from_slice(&block_crc(empty, 0).0.to_le_bytes());
        let index_offset = expected.len();
        // The successor of the empty key is the empty key.
        let index: &[u8] = &[0, 0, 2, 0, 12, 0, 0, 0, 0, 1, 0, 0, 0];
        expected.extend_from_slice(index);
        expected.push(0);
        expected.extend_from_slice(&block_crc(index, 0).0.to_le_bytes());
        expected.extend_from_slice(&encode_footer(
            BlockHandle {
                offset: metaindex_offset as u64,
                size: 8,
            },
            BlockHandle {
                offset: index_offset as u64,
                size: index.len() as u64,
            },
        ));
        assert_eq!(table, expected);
        // The CRC of the empty block, pinned so a change in block_crc shows.
        assert_eq!(
            block_crc(empty, 0),
            MaskedCrc::from_crc(crc32c::crc32c(&[0, 0, 0, 0, 1, 0, 0, 0, 0]))
        );
    }

    #[test]
    fn reader_reports_bad_magic_short_files_and_bad_crcs() {
        let mut builder = TableBuilder::new();
        builder.add(b"key", b"value");
        let table = builder.finish();
        assert_eq!(
            read_table(&table).unwrap(),
            vec![(b"key".to_vec(), b"value".to_vec())]
        );

        assert_eq!(
            read_table(&table[..20]),
            Err(TableError::TooShort { len: 20 })
        );
        let mut bad = table.clone();
        *bad.last_mut().unwrap() ^= 1;
        let err = read_table(&bad).unwrap_err();
        assert!(err.to_string().contains("bad magic number"), "{err}");

        let mut bad = table.clone();
        bad[5] ^= 0x40; // inside the data block's key
        assert!(matches!(
            read_table(&bad),
            Err(TableError::BlockChecksum { offset: 0, .. })
        ));

        let mut bad = table.clone();
        let index_at = bad.len() - FOOTER_LEN - BLOCK_TRAILER_LEN - 3;
        bad[index_at] ^= 0x01;
        assert!(matches!(
            read_table(&bad),
            Err(TableError::BlockChecksum { .. })
        ));
    }

    #[test]
    fn compressed_block_is_refused() {
        let mut builder = TableBuilder::new();
        builder.add(b"key", b"value");
        let mut table = builder.finish();
        // Data block: 0,3,5,"key","value" (11 bytes) + 8 bytes of restarts.
        let type_at = 19;
        table[type_at] = 1;
        let crc = block_crc(&table[..19], 1);
        table[20..24].copy_from_slice(&crc.0.to_le_bytes());
        assert_eq!(
            read_table(&table),
            Err(TableError::Compressed { offset: 0, kind: 1 })
        );
    }

    fn sorted_entries() -> impl Strategy<Value = Vec<(Vec<u8>, Vec<u8>)>> {
        proptest::collection::btree_map(
            proptest::collection::vec(any::<u8>(), 0..24),
            proptest::collection::vec(any::<u8>(), 0..64),
            0..80,
        )
        .prop_map(|map| map.into_iter().collect())
    }

    proptest! {
        #[test]
        fn varint64_round_trip(value: u64) {
            let mut out = Vec::new();
            put_varint64(&mut out, value);
            prop_assert_eq!(get_varint64(&out), Some((value, out.len())));
        }

        #[test]
        fn varint32_round_trip(value: u32) {
            let mut out = Vec::new();
            put_varint32(&mut out, value);
            prop_assert!(out.len() <= 5);
            prop_assert_eq!(get_varint32(&out), Some((value, out.len())));
        }

        #[test]
        fn block_handle_round_trip(offset: u64, size: u64) {
            let handle = BlockHandle { offset, size };
            let mut out = Vec::new();
            handle.encode_to(&mut out);
            prop_assert_eq!(BlockHandle::decode(&out), Some((handle, out.len())));
        }

        #[test]
        fn block_round_trip(entries in sorted_entries(), interval in 1usize..20) {
            let mut block = BlockBuilder::new(interval);
            for (key, value) in &entries {
                block.add(key, value);
            }
            prop_assert_eq!(decode_block(&block.finish(), 0).unwrap(), entries);
        }

        #[test]
        fn table_round_trip(entries in sorted_entries(), block_size in 1usize..600) {
            let mut builder = TableBuilder::with_block_size(block_size);
            for (key, value) in &entries {
                builder.add(key, value);
            }
            prop_assert_eq!(read_table(&builder.finish()).unwrap(), entries);
        }

        #[test]
        fn separator_stays_between(mut start in proptest::collection::vec(any::<u8>(), 0..8),
                                   limit in proptest::collection::vec(any::<u8>(), 0..8)) {
            prop_assume!(start < limit);
            let original = start.clone();
            shortest_separator(&mut start, &limit);
            prop_assert!(original <= start && start < limit);
        }

        #[test]
        fn successor_is_not_smaller(mut key in proptest::collection::vec(any::<u8>(), 0..8)) {
            let original = key.clone();
            short_successor(&mut key);
            prop_assert!(key >= original);
        }

        #[test]
        fn corrupt_tables_never_panic(entries in sorted_entries(), flip in any::<usize>(), bit in 0u8..8) {
            let mut builder = TableBuilder::with_block_size(64);
            for (key, value) in &entries {
                builder.add(key, value);
            }
            let mut table = builder.finish();
            let at = flip % table.len();
            table[at] ^= 1 << bit;
            // Every byte is covered by a checksum or the magic, except the
            // footer's handles and padding: those may decode to a wrong but
            // valid table. Either way there must be no panic.
            let _ = read_table(&table);
            let _ = read_table(&table[..at]);
        }
    }
}
