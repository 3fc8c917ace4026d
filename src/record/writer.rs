//! Writing TFRecord framing.

use std::io::{self, Write};

use super::MaskedCrc;

/// Bytes of framing around each record: an 8-byte length, its 4-byte CRC,
/// and the 4-byte CRC of the data after it.
pub const FRAMING_LEN: usize = 8 + 4 + 4;

/// Writes records as `u64 len | masked crc(len) | data | masked crc(data)`,
/// all little-endian, to any [`Write`].
///
/// The writer adds no buffering of its own: wrap a file in a
/// [`io::BufWriter`] (what [`RecordWriter::create`] does).
#[derive(Debug)]
pub struct RecordWriter<W: Write> {
    inner: W,
}

impl RecordWriter<io::BufWriter<std::fs::File>> {
    /// Creates `path` (failing if it exists, so nothing is ever clobbered)
    /// and writes records to it through a 64 KiB buffer.
    pub fn create(path: impl AsRef<std::path::Path>) -> io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)?;
        Ok(Self::new(io::BufWriter::with_capacity(1 << 16, file)))
    }
}

impl<W: Write> RecordWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        RecordWriter { inner }
    }

    /// Frames and writes one record.
    pub fn write_record(&mut self, data: &[u8]) -> io::Result<()> {
        let mut header = [0u8; 12];
        encode_header(data.len() as u64, &mut header);
        self.inner.write_all(&header)?;
        self.inner.write_all(data)?;
        self.inner
            .write_all(&MaskedCrc::compute(data).0.to_le_bytes())
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The underlying writer, mutably. Writing to it directly breaks the framing.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Unwraps the writer without flushing it.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

/// Encodes the 12-byte record header (length and its masked CRC).
pub fn encode_header(len: u64, out: &mut [u8; 12]) {
    let len = len.to_le_bytes();
    out[..8].copy_from_slice(&len);
    out[8..].copy_from_slice(&MaskedCrc::compute(&len).0.to_le_bytes());
}

/// Appends one framed record to `out`. Handy for building a batch of
/// records in memory before a single write.
pub fn frame_into(data: &[u8], out: &mut Vec<u8>) {
    let mut header = [0u8; 12];
    encode_header(data.len() as u64, &mut header);
    out.reserve(data.len() + FRAMING_LEN);
    out.extend_from_slice(&header);
    out.extend_from_slice(data);
    out.extend_from_slice(&MaskedCrc::compute(data).0.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_a_record() {
        let mut w = RecordWriter::new(Vec::new());
        w.write_record(b"hello").unwrap();
        let bytes = w.into_inner();
        assert_eq!(bytes.len(), 5 + FRAMING_LEN);
        assert_eq!(&bytes[..8], &5u64.to_le_bytes());
        assert_eq!(
            &bytes[8..12],
            &MaskedCrc::compute(&5u64.to_le_bytes()).0.to_le_bytes()
        );
        assert_eq!(&bytes[12..17], b"hello");
        assert_eq!(&bytes[17..], &MaskedCrc::compute(b"hello").0.to_le_bytes());
    }

    #[test]
    fn frame_into_matches_writer() {
        let mut w = RecordWriter::new(Vec::new());
        w.write_record(b"abc").unwrap();
        w.write_record(b"").unwrap();
        let mut out = Vec::new();
        frame_into(b"abc", &mut out);
        frame_into(b"", &mut out);
        assert_eq!(w.into_inner(), out);
    }

    #[test]
    fn create_never_clobbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.tfrecord");
        std::fs::write(&path, b"keep").unwrap();
        let err = RecordWriter::create(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"keep");
    }
}
