//! `tf.train.Example`: building, typed access, and TFRecord files of them.
//!
//! An [`Example`] is a map from feature names to one of three list kinds
//! (`bytes_list`, `int64_list`, `float_list`). [`ExampleBuilder`] builds
//! one by value; the typed getters ([`Example::bytes`], [`Example::int64`],
//! [`Example::float`] and their single-value forms) say which feature was
//! missing or of the wrong kind. [`ExampleWriter`] and [`ExampleReader`]
//! put them in, and take them out of, TFRecord files, the layout that
//! `tf.io.TFRecordWriter` and `tf.data.TFRecordDataset` use.

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use prost::Message;

use crate::proto::tensorflow as pb;
use crate::proto::tensorflow::feature::Kind;
use crate::record::{OpenError, ReadRecordError, RecordReader, RecordWriter};

/// The three value kinds a feature can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeatureKind {
    /// `bytes_list`: byte strings.
    Bytes,
    /// `int64_list`: 64-bit integers.
    Int64,
    /// `float_list`: 32-bit floats.
    Float,
}

impl FeatureKind {
    fn of(kind: &Kind) -> Self {
        match kind {
            Kind::BytesList(_) => FeatureKind::Bytes,
            Kind::Int64List(_) => FeatureKind::Int64,
            Kind::FloatList(_) => FeatureKind::Float,
        }
    }
}

impl fmt::Display for FeatureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FeatureKind::Bytes => "bytes_list",
            FeatureKind::Int64 => "int64_list",
            FeatureKind::Float => "float_list",
        })
    }
}

/// A feature could not be read as asked.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// The example has no feature named `key`.
    #[error("feature {key:?} is missing")]
    Missing {
        /// The feature asked for.
        key: String,
    },
    /// The feature holds another kind of list than the one asked for.
    #[error("feature {key:?} is a {found}, not a {expected}")]
    WrongKind {
        /// The feature asked for.
        key: String,
        /// The kind asked for.
        expected: FeatureKind,
        /// The kind the feature holds.
        found: FeatureKind,
    },
    /// A single value was asked for, but the feature holds `len` values.
    #[error("feature {key:?} holds {len} values, not exactly one")]
    NotSingle {
        /// The feature asked for.
        key: String,
        /// How many values it holds.
        len: usize,
    },
    /// The bytes are not a serialized `tf.train.Example`.
    #[error("not a tf.train.Example")]
    Decode(#[from] prost::DecodeError),
}

/// A `tf.train.Example` with typed getters.
///
/// Wraps the generated [`pb::Example`]; [`Example::as_proto`] and the
/// `From` conversions give the raw message when needed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Example {
    proto: pb::Example,
}

impl Example {
    /// Decodes a serialized `tf.train.Example`.
    pub fn decode(bytes: &[u8]) -> Result<Self, FeatureError> {
        Ok(Example {
            proto: pb::Example::decode(bytes)?,
        })
    }

    /// Serializes the example.
    pub fn encode_to_vec(&self) -> Vec<u8> {
        self.proto.encode_to_vec()
    }

    /// The raw message.
    pub fn as_proto(&self) -> &pb::Example {
        &self.proto
    }

    /// The raw message, by value.
    pub fn into_proto(self) -> pb::Example {
        self.proto
    }

    /// The feature names, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.proto
            .features
            .iter()
            .flat_map(|features| features.feature.keys())
            .map(String::as_str)
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.proto
            .features
            .as_ref()
            .map_or(0, |features| features.feature.len())
    }

    /// Whether the example has no features.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The kind of the feature `key`, `None` when the feature exists but has
    /// no list set (TensorFlow reads that as an empty list of any kind).
    pub fn kind(&self, key: &str) -> Result<Option<FeatureKind>, FeatureError> {
        Ok(self.feature(key)?.kind.as_ref().map(FeatureKind::of))
    }

    /// The byte strings of the `bytes_list` feature `key`.
    pub fn bytes(&self, key: &str) -> Result<&[Vec<u8>], FeatureError> {
        match self.list(key, FeatureKind::Bytes)? {
            Some(Kind::BytesList(list)) => Ok(&list.value),
            _ => Ok(&[]),
        }
    }

    /// The values of the `int64_list` feature `key`.
    pub fn int64(&self, key: &str) -> Result<&[i64], FeatureError> {
        match self.list(key, FeatureKind::Int64)? {
            Some(Kind::Int64List(list)) => Ok(&list.value),
            _ => Ok(&[]),
        }
    }

    /// The values of the `float_list` feature `key`.
    pub fn float(&self, key: &str) -> Result<&[f32], FeatureError> {
        match self.list(key, FeatureKind::Float)? {
            Some(Kind::FloatList(list)) => Ok(&list.value),
            _ => Ok(&[]),
        }
    }

    /// The one byte string of the `bytes_list` feature `key`.
    pub fn single_bytes(&self, key: &str) -> Result<&[u8], FeatureError> {
        single(key, self.bytes(key)?).map(Vec::as_slice)
    }

    /// The one value of the `int64_list` feature `key`.
    pub fn single_int64(&self, key: &str) -> Result<i64, FeatureError> {
        single(key, self.int64(key)?).copied()
    }

    /// The one value of the `float_list` feature `key`.
    pub fn single_float(&self, key: &str) -> Result<f32, FeatureError> {
        single(key, self.float(key)?).copied()
    }

    fn feature(&self, key: &str) -> Result<&pb::Feature, FeatureError> {
        self.proto
            .features
            .as_ref()
            .and_then(|features| features.feature.get(key))
            .ok_or_else(|| FeatureError::Missing {
                key: key.to_owned(),
            })
    }

    /// The feature's list if it is of the `expected` kind; `None` for a
    /// feature with no list set.
    fn list(&self, key: &str, expected: FeatureKind) -> Result<Option<&Kind>, FeatureError> {
        match &self.feature(key)?.kind {
            Some(kind) if FeatureKind::of(kind) != expected => Err(FeatureError::WrongKind {
                key: key.to_owned(),
                expected,
                found: FeatureKind::of(kind),
            }),
            kind => Ok(kind.as_ref()),
        }
    }
}

fn single<'a, T>(key: &str, values: &'a [T]) -> Result<&'a T, FeatureError> {
    match values {
        [one] => Ok(one),
        _ => Err(FeatureError::NotSingle {
            key: key.to_owned(),
            len: values.len(),
        }),
    }
}

impl From<pb::Example> for Example {
    fn from(proto: pb::Example) -> Self {
        Example { proto }
    }
}

impl From<Example> for pb::Example {
    fn from(example: Example) -> Self {
        example.proto
    }
}

/// Builds an [`Example`] by value: `ExampleBuilder::new().bytes(..).int64(..).build()`.
///
/// Setting a key twice keeps the last value, as a map does.
#[derive(Debug, Clone, Default)]
pub struct ExampleBuilder {
    features: pb::Features,
}

impl ExampleBuilder {
    /// An example with no features.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to a `bytes_list` holding the single string `value`.
    pub fn bytes(self, key: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.bytes_list(key, [value])
    }

    /// Sets `key` to a `bytes_list` of `values`.
    pub fn bytes_list<V: Into<Vec<u8>>>(
        self,
        key: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        let value = values.into_iter().map(Into::into).collect();
        self.set(key, Kind::BytesList(pb::BytesList { value }))
    }

    /// Sets `key` to an `int64_list` of `values`.
    pub fn int64(self, key: impl Into<String>, values: &[i64]) -> Self {
        let value = values.to_vec();
        self.set(key, Kind::Int64List(pb::Int64List { value }))
    }

    /// Sets `key` to a `float_list` of `values`.
    pub fn float(self, key: impl Into<String>, values: &[f32]) -> Self {
        let value = values.to_vec();
        self.set(key, Kind::FloatList(pb::FloatList { value }))
    }

    /// The finished example.
    pub fn build(self) -> Example {
        Example {
            proto: pb::Example {
                features: Some(self.features),
            },
        }
    }

    fn set(mut self, key: impl Into<String>, kind: Kind) -> Self {
        self.features
            .feature
            .insert(key.into(), pb::Feature { kind: Some(kind) });
        self
    }
}

/// Writes examples as records of a TFRecord file.
#[derive(Debug)]
pub struct ExampleWriter<W: Write> {
    records: RecordWriter<W>,
    /// Reused encoding buffer.
    buf: Vec<u8>,
}

impl ExampleWriter<BufWriter<File>> {
    /// Creates `path` (failing if it exists) and writes examples to it
    /// through a 64 KiB buffer.
    pub fn create(path: impl AsRef<Path>) -> io::Result<Self> {
        Ok(Self::new(RecordWriter::create(path)?.into_inner()))
    }
}

impl<W: Write> ExampleWriter<W> {
    /// Writes examples to `inner`.
    pub fn new(inner: W) -> Self {
        ExampleWriter {
            records: RecordWriter::new(inner),
            buf: Vec::new(),
        }
    }

    /// Serializes and writes one example as one record.
    pub fn write(&mut self, example: &Example) -> io::Result<()> {
        self.buf.clear();
        example
            .proto
            .encode(&mut self.buf)
            .expect("a Vec grows as needed");
        self.records.write_record(&self.buf)
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.records.flush()
    }

    /// Unwraps the writer without flushing it.
    pub fn into_inner(self) -> W {
        self.records.into_inner()
    }
}

/// Reading one example from a TFRecord file failed. `index` is the
/// record's position in the file (0 for the first record).
#[derive(Debug, thiserror::Error)]
pub enum ReadExampleError {
    /// The record's framing is damaged or torn; see [`ReadRecordError`] for
    /// which cases are fatal.
    #[error("record {index}")]
    Record {
        /// Index of the record.
        index: u64,
        /// What went wrong.
        #[source]
        source: ReadRecordError,
    },
    /// The record is intact but does not hold a `tf.train.Example`.
    ///
    /// Retryable: the next record can still be read.
    #[error("record {index} (byte {offset}) is not a tf.train.Example")]
    Decode {
        /// Index of the record.
        index: u64,
        /// Byte offset of the record.
        offset: u64,
        /// The decoding error.
        #[source]
        source: prost::DecodeError,
    },
}

/// Reads `tf.train.Example`s from a TFRecord file, one per record.
///
/// As an iterator it yields one `Result` per record, so a record with a bad
/// checksum or a bad message does not end the file; it ends at a clean end
/// of input, or after a torn final record, a fatal framing error or an I/O
/// error.
#[derive(Debug)]
pub struct ExampleReader<R> {
    records: RecordReader<R>,
    index: u64,
    done: bool,
}

impl ExampleReader<BufReader<File>> {
    /// Opens a TFRecord file of examples.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        Ok(Self::from_records(RecordReader::open(path)?))
    }
}

impl<R: Read> ExampleReader<R> {
    /// Reads examples from `inner`.
    pub fn new(inner: R) -> Self {
        Self::from_records(RecordReader::new(inner))
    }

    /// Reads examples from an already configured record reader.
    pub fn from_records(records: RecordReader<R>) -> Self {
        ExampleReader {
            records,
            index: 0,
            done: false,
        }
    }

    /// Reads the next example; `Ok(None)` at a clean end of input.
    pub fn read_example(&mut self) -> Result<Option<Example>, ReadExampleError> {
        let index = self.index;
        let data = match self.records.read_record() {
            Ok(Some(data)) => data,
            Ok(None) => return Ok(None),
            Err(source) => {
                if matches!(source, ReadRecordError::BadDataCrc { .. }) {
                    self.index += 1;
                }
                return Err(ReadExampleError::Record { index, source });
            }
        };
        self.index += 1;
        pb::Example::decode(data)
            .map(Example::from)
            .map(Some)
            .map_err(|source| ReadExampleError::Decode {
                index,
                offset: self.records.record_offset(),
                source,
            })
    }

    /// Index of the next record to be read.
    pub fn next_index(&self) -> u64 {
        self.index
    }
}

impl<R: Read> Iterator for ExampleReader<R> {
    type Item = Result<Example, ReadExampleError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.read_example() {
            Ok(Some(example)) => Some(Ok(example)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = matches!(
                    &e,
                    ReadExampleError::Record { source, .. }
                        if !matches!(source, ReadRecordError::BadDataCrc { .. })
                );
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Example {
        ExampleBuilder::new()
            .bytes("name", "patient 7")
            .bytes_list("images", [vec![0u8, 1, 255], vec![]])
            .int64("shape", &[256, 256, -1, i64::MIN, i64::MAX])
            .float("spacing", &[1.25, -0.5, f32::MAX])
            .int64("empty", &[])
            .build()
    }

    #[test]
    fn builder_and_getters_round_trip_through_bytes() {
        let ex = Example::decode(&sample().encode_to_vec()).unwrap();
        assert_eq!(ex, sample());
        assert_eq!(ex.len(), 5);
        assert_eq!(ex.single_bytes("name").unwrap(), b"patient 7");
        assert_eq!(ex.bytes("images").unwrap(), [vec![0u8, 1, 255], vec![]]);
        assert_eq!(
            ex.int64("shape").unwrap(),
            [256, 256, -1, i64::MIN, i64::MAX]
        );
        assert_eq!(ex.float("spacing").unwrap(), [1.25, -0.5, f32::MAX]);
        assert_eq!(ex.int64("empty").unwrap(), [] as [i64; 0]);
        assert_eq!(ex.kind("spacing").unwrap(), Some(FeatureKind::Float));
        let mut keys: Vec<_> = ex.keys().collect();
        keys.sort();
        assert_eq!(keys, ["empty", "images", "name", "shape", "spacing"]);
    }

    #[test]
    fn single_value_helpers() {
        let ex = ExampleBuilder::new()
            .int64("n", &[42])
            .float("x", &[0.5])
            .int64("two", &[1, 2])
            .build();
        assert_eq!(ex.single_int64("n").unwrap(), 42);
        assert_eq!(ex.single_float("x").unwrap(), 0.5);
        let err = ex.single_int64("two").unwrap_err();
        assert!(matches!(err, FeatureError::NotSingle { len: 2, .. }));
        assert_eq!(
            err.to_string(),
            r#"feature "two" holds 2 values, not exactly one"#
        );
    }

    #[test]
    fn missing_and_wrong_kind() {
        let ex = sample();
        let err = ex.int64("nope").unwrap_err();
        assert!(matches!(&err, FeatureError::Missing { key } if key == "nope"));
        assert_eq!(err.to_string(), r#"feature "nope" is missing"#);
        let err = ex.float("shape").unwrap_err();
        assert!(matches!(
            &err,
            FeatureError::WrongKind {
                expected: FeatureKind::Float,
                found: FeatureKind::Int64,
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            r#"feature "shape" is a int64_list, not a float_list"#
        );
        assert!(Example::default().bytes("x").is_err());
        assert!(Example::default().is_empty());
    }

    #[test]
    fn feature_without_a_list_reads_as_empty() {
        let mut proto = sample().into_proto();
        proto
            .features
            .as_mut()
            .unwrap()
            .feature
            .insert("unset".into(), pb::Feature { kind: None });
        let ex = Example::from(proto);
        assert_eq!(ex.kind("unset").unwrap(), None);
        assert!(ex.bytes("unset").unwrap().is_empty());
        assert!(ex.float("unset").unwrap().is_empty());
    }

    #[test]
    fn decode_error() {
        let err = Example::decode(&[0xff, 0xff]).unwrap_err();
        assert!(matches!(err, FeatureError::Decode(_)));
        assert_eq!(err.to_string(), "not a tf.train.Example");
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn writer_and_reader_round_trip_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ex.tfrecord");
        let mut w = ExampleWriter::create(&path).unwrap();
        let examples: Vec<Example> = (0..3)
            .map(|i| {
                ExampleBuilder::new()
                    .int64("i", &[i])
                    .bytes("s", format!("#{i}"))
                    .build()
            })
            .collect();
        for ex in &examples {
            w.write(ex).unwrap();
        }
        w.flush().unwrap();
        drop(w);
        assert_eq!(
            ExampleWriter::create(&path).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        let read: Vec<Example> = ExampleReader::open(&path)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(read, examples);
    }

    #[test]
    fn reader_reports_record_index_and_goes_on() {
        let good = sample();
        let mut w = RecordWriter::new(Vec::new());
        w.write_record(&good.encode_to_vec()).unwrap();
        w.write_record(b"\xff\xff not a proto").unwrap();
        let crc_broken_at = w.get_ref().len() + 12;
        w.write_record(&good.encode_to_vec()).unwrap();
        w.write_record(&good.encode_to_vec()).unwrap();
        let mut bytes = w.into_inner();
        bytes[crc_broken_at] ^= 1;
        bytes.truncate(bytes.len() - 3);

        let got: Vec<_> = ExampleReader::new(&bytes[..]).collect();
        assert_eq!(got.len(), 4);
        assert_eq!(got[0].as_ref().unwrap(), &good);
        match &got[1] {
            Err(
                e @ ReadExampleError::Decode {
                    index: 1, offset, ..
                },
            ) => {
                assert_eq!(*offset as usize, good.encode_to_vec().len() + 16);
                assert_eq!(
                    e.to_string(),
                    format!("record 1 (byte {offset}) is not a tf.train.Example")
                );
            }
            other => panic!("{other:?}"),
        }
        match &got[2] {
            Err(ReadExampleError::Record {
                index: 2,
                source: ReadRecordError::BadDataCrc { .. },
            }) => {}
            other => panic!("{other:?}"),
        }
        match &got[3] {
            Err(
                e @ ReadExampleError::Record {
                    index: 3,
                    source: ReadRecordError::Truncated { offset },
                },
            ) => assert_eq!(
                format!("{e}: {}", std::error::Error::source(e).unwrap()),
                format!(
                    "record 3: record at byte {offset} is truncated (the input ends inside it)"
                )
            ),
            other => panic!("{other:?}"),
        }
    }
}
