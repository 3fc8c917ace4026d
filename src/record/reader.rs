//! Reading TFRecord framing, one record at a time, resumably.
//!
//! The reader keeps every byte it has consumed in its own state, so a read
//! that stops short (end of input in the middle of a record, or an I/O
//! error) loses nothing: calling [`RecordReader::read_record`] again after
//! the file has grown picks up exactly where the last call stopped. That is
//! what lets a caller tail an event file that a training job is still
//! writing.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use super::MaskedCrc;

/// Bytes of the record header: the `u64` length and its masked CRC.
const HEADER_LEN: usize = 12;
/// Bytes of the record footer: the masked CRC of the data.
const FOOTER_LEN: usize = 4;
/// Without a known input size, the most the reader reserves before the
/// bytes actually arrive; past it the buffer grows as the data is read, so
/// a corrupt length cannot make the reader allocate gigabytes up front.
const UNKNOWN_SIZE_RESERVE: usize = 1 << 16;

/// What can go wrong while reading one record.
///
/// Each variant says whether it is *fatal* (the framing is lost; calling
/// [`RecordReader::read_record`] again returns the same error) or
/// *retryable* (a later call can make progress).
#[derive(Debug, thiserror::Error)]
pub enum ReadRecordError {
    /// The input ended inside the record that starts at `offset`: a torn
    /// tail, as left by a writer that crashed or is still writing.
    ///
    /// Retryable: the bytes read so far are kept, and the next call resumes
    /// once more input is available. A clean end of input between records
    /// is not an error (`read_record` returns `Ok(None)`).
    #[error("record at byte {offset} is truncated (the input ends inside it)")]
    Truncated {
        /// Byte offset of the start of the torn record.
        offset: u64,
    },
    /// The length field of the record at `offset` does not match its CRC.
    ///
    /// Fatal: without a trustworthy length the next record cannot be found.
    /// At offset 0 this almost always means the input is not a TFRecord
    /// file at all.
    #[error(
        "bad length checksum in the record at byte {offset}: got {got}, want {want}{}",
        if *offset == 0 { " (not a TFRecord file?)" } else { "" }
    )]
    BadLengthCrc {
        /// Byte offset of the start of the record.
        offset: u64,
        /// The CRC stored in the file.
        got: MaskedCrc,
        /// The CRC of the length bytes as read.
        want: MaskedCrc,
    },
    /// The data of the record at `offset` does not match its CRC.
    ///
    /// Retryable: the length was intact, so the record is skipped and the
    /// next call reads the record after it.
    #[error("bad data checksum in the record at byte {offset}: got {got}, want {want}")]
    BadDataCrc {
        /// Byte offset of the start of the record.
        offset: u64,
        /// The CRC stored in the file.
        got: MaskedCrc,
        /// The CRC of the data as read.
        want: MaskedCrc,
    },
    /// The record at `offset` claims a length this machine cannot hold in
    /// memory, or one above the reader's configured maximum.
    ///
    /// Fatal: the record cannot be read, so neither can anything after it.
    #[error("record at byte {offset} is too large: {len} bytes")]
    TooLarge {
        /// Byte offset of the start of the record.
        offset: u64,
        /// The length the record claims.
        len: u64,
    },
    /// The underlying reader failed.
    ///
    /// Retryable: the bytes read before the failure are kept, so the next
    /// call resumes (whether it can succeed depends on the cause).
    #[error("read failed")]
    Io(#[from] io::Error),
}

impl ReadRecordError {
    /// Whether this is a torn tail (see [`ReadRecordError::Truncated`]).
    pub fn is_truncated(&self) -> bool {
        matches!(self, ReadRecordError::Truncated { .. })
    }

    /// The byte offset of the record concerned; `None` for an I/O error.
    pub fn offset(&self) -> Option<u64> {
        match self {
            ReadRecordError::Truncated { offset }
            | ReadRecordError::BadLengthCrc { offset, .. }
            | ReadRecordError::BadDataCrc { offset, .. }
            | ReadRecordError::TooLarge { offset, .. } => Some(*offset),
            ReadRecordError::Io(_) => None,
        }
    }

    /// Whether reading can never get past this error.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            ReadRecordError::BadLengthCrc { .. } | ReadRecordError::TooLarge { .. }
        )
    }
}

/// Opening a file of records failed; the error names the file.
#[derive(Debug, thiserror::Error)]
#[error("cannot open {}", path.display())]
pub struct OpenError {
    /// The file that could not be opened.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: io::Error,
}

/// One record with the byte offset at which its framing starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Byte offset of the record's length field in the input.
    pub offset: u64,
    /// The record's data, without framing.
    pub data: Vec<u8>,
}

/// A streaming, resumable TFRecord reader over any [`Read`].
///
/// Memory stays constant however long the input is: one buffer, as large
/// as the largest record so far, is reused for every record. Wrap unbuffered
/// readers in a [`BufReader`] (what [`RecordReader::open`] does), since
/// the header is read in small pieces.
#[derive(Debug)]
pub struct RecordReader<R> {
    inner: R,
    /// Where the reader is in the input, counted from where it started.
    pos: u64,
    /// Total size of the input when known, only used to size allocations.
    input_len: Option<u64>,
    max_len: u64,
    path: Option<PathBuf>,
    /// Offset of the record being read (or just returned).
    record_offset: u64,
    header: [u8; HEADER_LEN],
    header_filled: usize,
    /// `len + FOOTER_LEN` once a header has passed its check.
    body_len: Option<usize>,
    /// The data and footer of the current record, filled incrementally.
    body: Vec<u8>,
    /// The last call returned a record; the next starts a fresh one.
    returned: bool,
}

impl RecordReader<BufReader<File>> {
    /// Opens a TFRecord file for reading through a 64 KiB buffer.
    ///
    /// The file's size is used to size allocations, so a corrupt length
    /// never makes the reader reserve more than the file holds; the file
    /// may still grow while it is being read.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        let path = path.as_ref();
        let err = |source| OpenError {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(err)?;
        let len = file.metadata().map_err(err)?.len();
        let mut reader = Self::new(BufReader::with_capacity(1 << 16, file));
        reader.input_len = Some(len);
        reader.path = Some(path.to_owned());
        Ok(reader)
    }
}

impl<R: Read> RecordReader<R> {
    /// Reads records from `inner`, starting at its current position (which
    /// becomes offset 0).
    pub fn new(inner: R) -> Self {
        RecordReader {
            inner,
            pos: 0,
            input_len: None,
            max_len: u64::MAX,
            path: None,
            record_offset: 0,
            header: [0; HEADER_LEN],
            header_filled: 0,
            body_len: None,
            body: Vec::new(),
            returned: false,
        }
    }

    /// Tells the reader how many bytes the input holds (from its starting
    /// position), so it can reserve a record's buffer in one go without
    /// trusting a length larger than the input. Only a hint: the input may
    /// turn out longer (a growing file) or shorter.
    pub fn with_input_len(mut self, len: u64) -> Self {
        self.input_len = Some(len);
        self
    }

    /// Rejects records longer than `max_len` bytes with
    /// [`ReadRecordError::TooLarge`]. By default any length that fits in
    /// memory is accepted, as TensorFlow does.
    pub fn with_max_len(mut self, max_len: u64) -> Self {
        self.max_len = max_len;
        self
    }

    /// The file this reader was opened from, if it came from
    /// [`RecordReader::open`]; handy for error messages.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Byte offset of the record most recently returned (or being read).
    pub fn record_offset(&self) -> u64 {
        self.record_offset
    }

    /// Bytes consumed from the input so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The underlying reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The underlying reader, mutably. Reading from it directly breaks the
    /// framing.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Unwraps the underlying reader; any partly read record is lost.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Reads the next record and returns its data, or `Ok(None)` at a clean
    /// end of input (between two records).
    ///
    /// The slice borrows the reader's buffer, which the next call reuses.
    /// After `Ok(None)` or [`ReadRecordError::Truncated`], calling again
    /// once the input has grown continues from where this call stopped.
    pub fn read_record(&mut self) -> Result<Option<&[u8]>, ReadRecordError> {
        if self.returned {
            self.start_next_record();
        }
        let Some(body_len) = self.read_header()? else {
            return Ok(None);
        };
        self.read_body(body_len)?;
        let (data, footer) = self.body.split_at(body_len - FOOTER_LEN);
        let got = MaskedCrc(u32::from_le_bytes(footer.try_into().expect("4 bytes")));
        let want = MaskedCrc::compute(data);
        if got != want {
            // The length was sound, so skipping this record keeps the
            // framing: the next call reads the record after it.
            self.returned = true;
            return Err(ReadRecordError::BadDataCrc {
                offset: self.record_offset,
                got,
                want,
            });
        }
        self.returned = true;
        Ok(Some(&self.body[..body_len - FOOTER_LEN]))
    }

    /// Iterates over the remaining records, each with its offset.
    ///
    /// The iterator ends at a clean end of input. It yields a
    /// [`ReadRecordError::Truncated`] for a torn final record and then
    /// ends; it also ends after a fatal error or an I/O error, but goes on
    /// after a [`ReadRecordError::BadDataCrc`] (that record is skipped).
    /// The reader itself can be resumed afterwards.
    pub fn records(&mut self) -> Records<'_, R> {
        Records {
            reader: self,
            done: false,
        }
    }

    fn start_next_record(&mut self) {
        self.returned = false;
        self.header_filled = 0;
        self.body_len = None;
        self.body.clear();
        self.record_offset = self.pos;
    }

    /// Fills and checks the header. `Ok(None)` is a clean end of input.
    fn read_header(&mut self) -> Result<Option<usize>, ReadRecordError> {
        if let Some(body_len) = self.body_len {
            return Ok(Some(body_len));
        }
        if self.header_filled == 0 {
            self.record_offset = self.pos;
        }
        while self.header_filled < HEADER_LEN {
            match self.inner.read(&mut self.header[self.header_filled..]) {
                Ok(0) if self.header_filled == 0 => return Ok(None),
                Ok(0) => return Err(self.truncated()),
                Ok(n) => {
                    self.header_filled += n;
                    self.pos += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        let (len_bytes, crc_bytes) = self.header.split_at(8);
        let got = MaskedCrc(u32::from_le_bytes(crc_bytes.try_into().expect("4 bytes")));
        let want = MaskedCrc::compute(len_bytes);
        if got != want {
            return Err(ReadRecordError::BadLengthCrc {
                offset: self.record_offset,
                got,
                want,
            });
        }
        let len = u64::from_le_bytes(len_bytes.try_into().expect("8 bytes"));
        let body_len = usize::try_from(len)
            .ok()
            .filter(|_| len <= self.max_len)
            .and_then(|len| len.checked_add(FOOTER_LEN))
            .filter(|&n| n <= isize::MAX as usize)
            .ok_or(ReadRecordError::TooLarge {
                offset: self.record_offset,
                len,
            })?;
        self.body_len = Some(body_len);
        Ok(Some(body_len))
    }

    /// Fills `self.body` up to `body_len` bytes, growing it only as fast as
    /// the bytes arrive unless the input is known to hold them.
    fn read_body(&mut self, body_len: usize) -> Result<(), ReadRecordError> {
        loop {
            let missing = body_len - self.body.len();
            if missing == 0 {
                return Ok(());
            }
            // Reserve up front only what the input can hold; past that the
            // buffer grows as bytes arrive (`read_to_end` doubles it).
            let reserve = match self.input_len {
                // A stale hint (the input grew) is simply ignored.
                Some(len) if len >= self.pos => missing.min(saturating_usize(len - self.pos)),
                _ => missing.min(UNKNOWN_SIZE_RESERVE.saturating_sub(self.body.len())),
            };
            if self.body.capacity() - self.body.len() < reserve {
                self.body.reserve_exact(reserve);
            }
            let before = self.body.len();
            let result = (&mut self.inner)
                .take(missing as u64)
                .read_to_end(&mut self.body);
            let n = self.body.len() - before;
            self.pos += n as u64;
            match result {
                Ok(_) if n == 0 => return Err(self.truncated()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn truncated(&self) -> ReadRecordError {
        ReadRecordError::Truncated {
            offset: self.record_offset,
        }
    }
}

fn saturating_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// The iterator of [`RecordReader::records`].
#[derive(Debug)]
pub struct Records<'a, R> {
    reader: &'a mut RecordReader<R>,
    done: bool,
}

impl<R: Read> Iterator for Records<'_, R> {
    type Item = Result<Record, ReadRecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.reader.read_record() {
            Ok(Some(data)) => {
                let data = data.to_vec();
                Some(Ok(Record {
                    offset: self.reader.record_offset,
                    data,
                }))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = !matches!(e, ReadRecordError::BadDataCrc { .. });
                Some(Err(e))
            }
        }
    }
}

/// A reader that hands out its bytes in scripted chunks, with an end of
/// input between chunks, as a file being written by another process looks
/// to a reader that polls it.
#[cfg(test)]
pub(crate) mod scripted {
    use std::collections::VecDeque;
    use std::io::{self, Read};

    /// One step of the script.
    #[derive(Debug)]
    pub enum Step {
        /// Bytes that become readable (possibly over several reads).
        Bytes(Vec<u8>),
        /// A read that reports end of input, once.
        Eof,
        /// A read that fails, once.
        Fail(io::ErrorKind),
    }

    /// A [`Read`] that follows a script of [`Step`]s; reads return at most
    /// `max_read` bytes so that every partial-read path is exercised.
    #[derive(Debug)]
    pub struct ScriptedReader {
        steps: VecDeque<Step>,
        max_read: usize,
    }

    impl ScriptedReader {
        pub fn new(steps: impl IntoIterator<Item = Step>, max_read: usize) -> Self {
            ScriptedReader {
                steps: steps.into_iter().collect(),
                max_read,
            }
        }

        /// Appends more steps, as when the file grows.
        pub fn push(&mut self, step: Step) {
            self.steps.push_back(step);
        }
    }

    impl Read for ScriptedReader {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.steps.front_mut() {
                None | Some(Step::Eof) => {
                    self.steps.pop_front();
                    Ok(0)
                }
                Some(Step::Fail(kind)) => {
                    let kind = *kind;
                    self.steps.pop_front();
                    Err(io::Error::new(kind, "scripted failure"))
                }
                Some(Step::Bytes(bytes)) => {
                    let n = bytes.len().min(buf.len()).min(self.max_read);
                    buf[..n].copy_from_slice(&bytes[..n]);
                    bytes.drain(..n);
                    if bytes.is_empty() {
                        self.steps.pop_front();
                    }
                    Ok(n)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::scripted::{ScriptedReader, Step};
    use super::*;
    use crate::record::{RecordWriter, FRAMING_LEN};

    fn framed(records: &[&[u8]]) -> Vec<u8> {
        let mut w = RecordWriter::new(Vec::new());
        for r in records {
            w.write_record(r).unwrap();
        }
        w.into_inner()
    }

    fn read_all(bytes: &[u8]) -> Vec<Result<Record, ReadRecordError>> {
        RecordReader::new(bytes).records().collect()
    }

    #[test]
    fn round_trip_with_offsets() {
        let recs: [&[u8]; 4] = [b"first", b"", b"third record", &[0xff; 300]];
        let bytes = framed(&recs);
        let got: Vec<Record> = read_all(&bytes).into_iter().map(Result::unwrap).collect();
        let mut offset = 0u64;
        assert_eq!(got.len(), recs.len());
        for (rec, want) in got.iter().zip(recs) {
            assert_eq!(rec.data, want);
            assert_eq!(rec.offset, offset);
            offset += (want.len() + FRAMING_LEN) as u64;
        }
    }

    #[test]
    fn read_record_borrows_and_reports_clean_eof() {
        let bytes = framed(&[b"a", b"bc"]);
        let mut r = RecordReader::new(&bytes[..]);
        assert_eq!(r.read_record().unwrap(), Some(&b"a"[..]));
        assert_eq!(r.record_offset(), 0);
        assert_eq!(r.read_record().unwrap(), Some(&b"bc"[..]));
        assert_eq!(r.record_offset(), 17);
        assert_eq!(r.read_record().unwrap(), None);
        assert_eq!(r.read_record().unwrap(), None);
        assert_eq!(r.position(), bytes.len() as u64);
    }

    #[test]
    fn empty_input_is_a_clean_eof() {
        assert!(read_all(b"").is_empty());
        assert_eq!(RecordReader::new(&b""[..]).read_record().unwrap(), None);
    }

    #[test]
    fn torn_tail_at_every_byte_of_the_last_record() {
        let bytes = framed(&[b"whole", b"the torn one"]);
        let last_start = 5 + FRAMING_LEN;
        for cut in last_start + 1..bytes.len() {
            let got = read_all(&bytes[..cut]);
            assert_eq!(got.len(), 2, "cut at {cut}");
            assert_eq!(got[0].as_ref().unwrap().data, b"whole");
            match &got[1] {
                Err(ReadRecordError::Truncated { offset }) => {
                    assert_eq!(*offset, last_start as u64, "cut at {cut}")
                }
                other => panic!("cut at {cut}: {other:?}"),
            }
        }
        // Cutting exactly at the record boundary is a clean end.
        assert_eq!(read_all(&bytes[..last_start]).len(), 1);
    }

    fn first_error(bytes: &[u8]) -> ReadRecordError {
        RecordReader::new(bytes)
            .records()
            .find_map(Result::err)
            .expect("an error")
    }

    #[test]
    fn flipped_length_or_length_crc_is_fatal() {
        let clean = framed(&[b"payload"]);
        for i in 0..12 {
            let mut bytes = clean.clone();
            bytes[i] ^= 0x10;
            let err = first_error(&bytes);
            assert!(
                matches!(err, ReadRecordError::BadLengthCrc { offset: 0, .. }),
                "byte {i}: {err:?}"
            );
            assert!(err.is_fatal());
            // Repeating the call repeats the error rather than misreading.
            let mut r = RecordReader::new(&bytes[..]);
            assert!(r.read_record().is_err());
            assert!(matches!(
                r.read_record(),
                Err(ReadRecordError::BadLengthCrc { .. })
            ));
        }
    }

    #[test]
    fn flipped_data_or_data_crc_skips_the_record() {
        let clean = framed(&[b"payload", b"next"]);
        for i in 12..12 + 7 + 4 {
            let mut bytes = clean.clone();
            bytes[i] ^= 0x01;
            let got = read_all(&bytes);
            assert_eq!(got.len(), 2, "byte {i}");
            match &got[0] {
                Err(ReadRecordError::BadDataCrc {
                    offset: 0,
                    got,
                    want,
                }) => assert_ne!(got, want),
                other => panic!("byte {i}: {other:?}"),
            }
            let next = got[1].as_ref().unwrap();
            assert_eq!((next.offset, &next.data[..]), (23, &b"next"[..]));
        }
    }

    #[test]
    fn bogus_huge_length_with_a_valid_crc() {
        let mut bytes = Vec::new();
        let mut header = [0u8; 12];
        crate::record::encode_header(1 << 40, &mut header);
        bytes.extend_from_slice(&header);
        bytes.extend_from_slice(b"only a few bytes follow");
        // Unknown size: the buffer grows with the bytes, then the record is torn.
        let mut r = RecordReader::new(&bytes[..]);
        assert!(matches!(
            r.read_record(),
            Err(ReadRecordError::Truncated { offset: 0 })
        ));
        assert!(r.body.capacity() <= UNKNOWN_SIZE_RESERVE);
        // Known size: nothing beyond the input is reserved.
        let mut r = RecordReader::new(&bytes[..]).with_input_len(bytes.len() as u64);
        assert!(r.read_record().unwrap_err().is_truncated());
        assert!(r.body.capacity() < 1024, "{}", r.body.capacity());
        // With a limit: rejected outright.
        let mut r = RecordReader::new(&bytes[..]).with_max_len(1 << 20);
        assert!(matches!(
            r.read_record(),
            Err(ReadRecordError::TooLarge { offset: 0, len }) if len == 1 << 40
        ));
        // A length no address space can hold.
        let mut huge = [0u8; 12];
        crate::record::encode_header(u64::MAX, &mut huge);
        let err = RecordReader::new(&huge[..]).read_record().unwrap_err();
        assert!(matches!(
            err,
            ReadRecordError::TooLarge { len: u64::MAX, .. }
        ));
    }

    #[test]
    fn resumes_across_chunks_and_errors() {
        let bytes = framed(&[b"alpha", b"", b"gamma gamma"]);
        for chunk in 1..bytes.len() {
            let mut steps = Vec::new();
            for (i, piece) in bytes.chunks(chunk).enumerate() {
                steps.push(Step::Bytes(piece.to_vec()));
                steps.push(Step::Eof);
                if i % 2 == 0 {
                    steps.push(Step::Fail(io::ErrorKind::Interrupted));
                    steps.push(Step::Fail(io::ErrorKind::TimedOut));
                }
            }
            let mut r = RecordReader::new(ScriptedReader::new(steps, 3));
            let mut got = Vec::new();
            let mut polls = 0;
            while got.len() < 3 {
                polls += 1;
                assert!(polls < 10 * bytes.len(), "no progress with chunk {chunk}");
                match r.read_record() {
                    Ok(Some(data)) => {
                        let data = data.to_vec();
                        got.push((r.record_offset(), data));
                    }
                    Ok(None) | Err(ReadRecordError::Truncated { .. }) => {}
                    Err(ReadRecordError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::TimedOut),
                    Err(e) => panic!("chunk {chunk}: {e}"),
                }
            }
            assert_eq!(
                got,
                [
                    (0, b"alpha".to_vec()),
                    (21, Vec::new()),
                    (37, b"gamma gamma".to_vec())
                ],
                "chunk {chunk}"
            );
            assert_eq!(r.read_record().unwrap(), None);
        }
    }

    #[test]
    fn truncated_then_grown_file_continues() {
        let bytes = framed(&[b"one", b"two"]);
        let mut scripted = ScriptedReader::new([Step::Bytes(bytes[..25].to_vec())], 64);
        scripted.push(Step::Eof);
        let mut r = RecordReader::new(scripted);
        assert_eq!(r.read_record().unwrap(), Some(&b"one"[..]));
        assert!(matches!(
            r.read_record(),
            Err(ReadRecordError::Truncated { offset: 19 })
        ));
        // The writer finishes the record; the same reader picks it up
        // without re-reading the 6 bytes it already consumed.
        r.get_mut().push(Step::Bytes(bytes[25..].to_vec()));
        assert_eq!(r.read_record().unwrap(), Some(&b"two"[..]));
        assert_eq!(r.record_offset(), 19);
        assert_eq!(r.read_record().unwrap(), None);
    }

    #[test]
    fn buffer_is_reused() {
        let big = vec![7u8; 10_000];
        let recs: Vec<&[u8]> = vec![&big, b"x", &big, b"y"];
        let bytes = framed(&recs);
        let mut r = RecordReader::new(&bytes[..]);
        r.read_record().unwrap();
        let cap = r.body.capacity();
        while r.read_record().unwrap().is_some() {
            assert_eq!(r.body.capacity(), cap);
        }
    }

    #[test]
    fn open_names_the_path_and_reads_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.tfrecord");
        let err = RecordReader::open(&path).unwrap_err();
        assert_eq!(err.source.kind(), io::ErrorKind::NotFound);
        assert_eq!(err.to_string(), format!("cannot open {}", path.display()));

        let path = dir.path().join("r.tfrecord");
        let mut w = RecordWriter::create(&path).unwrap();
        w.write_record(b"on disk").unwrap();
        w.flush().unwrap();
        let mut r = RecordReader::open(&path).unwrap();
        assert_eq!(r.path(), Some(path.as_path()));
        let recs: Vec<_> = r.records().map(Result::unwrap).collect();
        assert_eq!(
            recs,
            [Record {
                offset: 0,
                data: b"on disk".to_vec()
            }]
        );
    }

    #[test]
    fn a_png_is_not_a_tfrecord() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01";
        let err = first_error(png);
        assert!(err.to_string().ends_with("(not a TFRecord file?)"), "{err}");
    }

    #[test]
    fn error_display() {
        let e = ReadRecordError::Truncated { offset: 42 };
        assert_eq!(
            e.to_string(),
            "record at byte 42 is truncated (the input ends inside it)"
        );
        let e = ReadRecordError::BadLengthCrc {
            offset: 0,
            got: MaskedCrc(1),
            want: MaskedCrc(0xabcd),
        };
        assert_eq!(
            e.to_string(),
            "bad length checksum in the record at byte 0: got 0x00000001, want 0x0000abcd \
             (not a TFRecord file?)"
        );
        let e = ReadRecordError::BadLengthCrc {
            offset: 7,
            got: MaskedCrc(1),
            want: MaskedCrc(2),
        };
        assert_eq!(
            e.to_string(),
            "bad length checksum in the record at byte 7: got 0x00000001, want 0x00000002"
        );
        let e = ReadRecordError::BadDataCrc {
            offset: 9,
            got: MaskedCrc(3),
            want: MaskedCrc(4),
        };
        assert_eq!(
            e.to_string(),
            "bad data checksum in the record at byte 9: got 0x00000003, want 0x00000004"
        );
        let e = ReadRecordError::TooLarge {
            offset: 5,
            len: 1 << 40,
        };
        assert_eq!(
            e.to_string(),
            "record at byte 5 is too large: 1099511627776 bytes"
        );
        let e = ReadRecordError::from(io::Error::other("disk on fire"));
        assert_eq!(e.to_string(), "read failed");
        let source = std::error::Error::source(&e).unwrap();
        assert_eq!(source.to_string(), "disk on fire");
    }
}
