//! Encoding events into TFRecord-framed records, and the synchronous
//! [`EventWriter`].

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, Write};

use prost::Message;

use crate::proto::tensorflow::{event, session_log, Event, SessionLog, SourceMetadata, Summary};
use crate::record::{encode_header, MaskedCrc, RecordWriter};

/// The `file_version` every event file starts with.
pub const FILE_VERSION: &str = "brain.Event:2";

/// The name written as `source_metadata.writer` in the first record.
pub const WRITER_NAME: &str = "tbseg";

/// Field keys (`field_number << 3 | wire_type`) of the messages the scalar
/// fast path encodes by hand. Wire types: 0 varint, 1 fixed64, 2 bytes.
mod key {
    pub const EVENT_WALL_TIME: u8 = 1 << 3 | 1;
    pub const EVENT_STEP: u8 = 2 << 3;
    pub const EVENT_SUMMARY: u8 = 5 << 3 | 2;
    pub const SUMMARY_VALUE: u8 = 1 << 3 | 2;
    pub const VALUE_TAG: u8 = 1 << 3 | 2;
    pub const VALUE_TENSOR: u8 = 8 << 3 | 2;
    pub const VALUE_METADATA: u8 = 9 << 3 | 2;
}

/// A float type a scalar tensor is written in, with the bytes of its
/// `TensorProto` up to the value.
trait TensorScalar: Copy {
    /// `TensorProto{dtype, tensor_shape: {}, tensor_content: <value>}` up
    /// to the value bytes: a rank-0 tensor, as TF 2 writes scalars.
    const PREFIX: [u8; 6];
    /// The serialized length of the whole `TensorProto`.
    const TENSOR_LEN: usize;
    fn put_value(self, out: &mut impl ByteSink);
}

impl TensorScalar for f32 {
    const PREFIX: [u8; 6] = [
        0x08, 0x01, // dtype = DT_FLOAT (1)
        0x12, 0x00, // tensor_shape = {} (rank 0)
        0x22, 0x04, // tensor_content, 4 bytes follow
    ];
    const TENSOR_LEN: usize = 6 + 4;
    #[inline]
    fn put_value(self, out: &mut impl ByteSink) {
        out.put_slice(&self.to_le_bytes());
    }
}

impl TensorScalar for f64 {
    const PREFIX: [u8; 6] = [
        0x08, 0x02, // dtype = DT_DOUBLE (2)
        0x12, 0x00, // tensor_shape = {} (rank 0)
        0x22, 0x08, // tensor_content, 8 bytes follow
    ];
    const TENSOR_LEN: usize = 6 + 8;
    #[inline]
    fn put_value(self, out: &mut impl ByteSink) {
        out.put_slice(&self.to_le_bytes());
    }
}

/// `SummaryMetadata{plugin_data{plugin_name: "scalars"}, data_class:
/// DATA_CLASS_SCALAR}`, serialized.
const SCALAR_METADATA: &[u8] = &[
    0x0a, 0x09, // plugin_data, 9 bytes
    0x0a, 0x07, b's', b'c', b'a', b'l', b'a', b'r', b's', // plugin_name
    0x20, 0x01, // data_class = DATA_CLASS_SCALAR
];

/// A fast, non-cryptographic hasher (FNV-1a) for the set of tags already
/// written: tags are short and chosen by the program, so hash flooding is
/// not a concern, and SipHash would be a noticeable part of a scalar's cost.
#[derive(Default)]
pub(crate) struct FnvHasher(u64);

impl Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &byte in bytes {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
}

/// Turns events into TFRecord-framed bytes, remembering which tags already
/// carried their metadata.
///
/// TensorBoard reads a tag's plugin metadata from its first event in a file
/// and ignores it afterwards, so the encoder keeps metadata on the first
/// value of each tag and drops it from later ones. Use one encoder per
/// event file.
#[derive(Default)]
pub struct EventEncoder {
    seen_tags: HashSet<Box<str>, BuildHasherDefault<FnvHasher>>,
    scratch: Vec<u8>,
    /// The last scalar payload length and its masked CRC.
    length_crc: (u64, u32),
}

impl std::fmt::Debug for EventEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventEncoder")
            .field("tags", &self.seen_tags.len())
            .finish()
    }
}

impl EventEncoder {
    /// An encoder that has seen no tags.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether this is the first value of `tag`, recording it as seen.
    fn first_use(&mut self, tag: &str) -> bool {
        if self.seen_tags.contains(tag) {
            false
        } else {
            self.seen_tags.insert(tag.into());
            true
        }
    }

    /// Appends the serialized scalar event (no framing) to `out`: a DT_FLOAT
    /// rank-0 tensor, plus the `scalars` plugin metadata if this is the
    /// tag's first value. Encoded by hand; the bytes equal prost's encoding
    /// of the same [`Event`].
    pub fn scalar_payload(
        &mut self,
        out: &mut Vec<u8>,
        wall_time: f64,
        step: i64,
        tag: &str,
        value: f32,
    ) {
        self.payload_of(out, wall_time, step, tag, value);
    }

    /// Like [`EventEncoder::scalar_payload`] for a 64-bit value: a
    /// DT_DOUBLE rank-0 tensor, which TensorBoard reads at full precision.
    pub fn scalar_payload_f64(
        &mut self,
        out: &mut Vec<u8>,
        wall_time: f64,
        step: i64,
        tag: &str,
        value: f64,
    ) {
        self.payload_of(out, wall_time, step, tag, value);
    }

    fn payload_of<V: TensorScalar>(
        &mut self,
        out: &mut Vec<u8>,
        wall_time: f64,
        step: i64,
        tag: &str,
        value: V,
    ) {
        let with_metadata = self.first_use(tag);
        out.reserve(scalar_payload_len::<V>(tag, step, with_metadata));
        put_scalar(out, wall_time, step, tag.as_bytes(), value, with_metadata);
    }

    /// Appends one framed scalar record to `out` (see
    /// [`EventEncoder::scalar_payload`]).
    ///
    /// This is the hot path of `add_scalar`: for ordinary tags the record
    /// is assembled in a stack buffer and appended with one copy, and the
    /// CRC of the length (the same for every value of a tag) is cached.
    pub fn scalar_record(
        &mut self,
        out: &mut Vec<u8>,
        wall_time: f64,
        step: i64,
        tag: &str,
        value: f32,
    ) {
        self.record_of(out, wall_time, step, tag, value);
    }

    /// Appends one framed DT_DOUBLE scalar record to `out` (see
    /// [`EventEncoder::scalar_payload_f64`]); the same fast path as
    /// [`EventEncoder::scalar_record`].
    pub fn scalar_record_f64(
        &mut self,
        out: &mut Vec<u8>,
        wall_time: f64,
        step: i64,
        tag: &str,
        value: f64,
    ) {
        self.record_of(out, wall_time, step, tag, value);
    }

    #[inline]
    fn record_of<V: TensorScalar>(
        &mut self,
        out: &mut Vec<u8>,
        wall_time: f64,
        step: i64,
        tag: &str,
        value: V,
    ) {
        let with_metadata = self.first_use(tag);
        let len = scalar_payload_len::<V>(tag, step, with_metadata);
        if 12 + len + 4 > STACK_RECORD {
            frame_in_place(out, |out| {
                put_scalar(out, wall_time, step, tag.as_bytes(), value, with_metadata)
            });
            return;
        }
        let mut record = StackRecord {
            buf: [0; STACK_RECORD],
            pos: 12,
        };
        put_scalar(
            &mut record,
            wall_time,
            step,
            tag.as_bytes(),
            value,
            with_metadata,
        );
        debug_assert_eq!(record.pos, 12 + len);
        let len_bytes = (len as u64).to_le_bytes();
        if self.length_crc.0 != len as u64 {
            self.length_crc = (len as u64, MaskedCrc::compute(&len_bytes).0);
        }
        record.buf[..8].copy_from_slice(&len_bytes);
        record.buf[8..12].copy_from_slice(&self.length_crc.1.to_le_bytes());
        let crc = MaskedCrc::compute(&record.buf[12..record.pos]);
        record.put_slice(&crc.0.to_le_bytes());
        out.extend_from_slice(&record.buf[..record.pos]);
    }

    /// Appends the serialized summary event (no framing) to `out`, dropping
    /// the metadata of values whose tag was seen before.
    pub fn summary_payload(
        &mut self,
        out: &mut Vec<u8>,
        wall_time: f64,
        step: i64,
        mut summary: Summary,
    ) {
        for value in &mut summary.value {
            if !self.first_use(&value.tag) {
                value.metadata = None;
            }
        }
        let event = Event {
            wall_time,
            step,
            what: Some(event::What::Summary(summary)),
            ..Default::default()
        };
        event.encode_raw(out);
    }

    /// Appends one framed summary record to `out` (see
    /// [`EventEncoder::summary_payload`]).
    pub fn summary_record(
        &mut self,
        out: &mut Vec<u8>,
        wall_time: f64,
        step: i64,
        summary: Summary,
    ) {
        frame_in_place(out, |out| {
            self.summary_payload(out, wall_time, step, summary)
        });
    }

    /// Appends one framed record holding `event` exactly as given (no
    /// metadata bookkeeping; for file versions, graphs and session logs).
    pub fn event_record(&mut self, out: &mut Vec<u8>, event: &Event) {
        frame_in_place(out, |out| event.encode_raw(out));
    }

    /// The serialized bytes of a scratch message; reused across calls.
    fn scratch(&mut self) -> Vec<u8> {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch
    }
}

/// The first event of every file: `file_version` plus `source_metadata`.
pub(crate) fn file_version_event(wall_time: f64) -> Event {
    Event {
        wall_time,
        what: Some(event::What::FileVersion(FILE_VERSION.to_owned())),
        source_metadata: Some(SourceMetadata {
            writer: WRITER_NAME.to_owned(),
        }),
        ..Default::default()
    }
}

/// The events that open a file written by a run restarted at `step`:
/// `SessionLog START` at `step`, twice.
///
/// TensorBoard's two loaders drop a crashed run's orphaned points (those
/// at `step` and after, logged before the restart) in different ways:
///
/// - The Rust loader (`--load_fast=true`) ignores `SessionLog`; a tag's
///   value at a step not above its last one drops that tag's points at and
///   after it.
/// - The Python loader (`--load_fast=false`, `EventAccumulator` and the
///   tools built on it) purges every tag at a START, but takes the *first*
///   START of a run as the session's beginning and purges only at later
///   ones (`_CheckForRestartAndMaybePurge`); with `file_version` 2 it never
///   falls back to purging out-of-order steps.
///
/// A run first written by a writer that wrote no START (torch's,
/// TensorFlow 2's, or a fresh tbseg writer) would therefore keep its
/// orphaned points in the Python loader if the restart wrote one START:
/// that START would count as the first. With two, the second purges. Where
/// a START came earlier in the run, both purge at the same step, and the
/// second drops nothing more, so the pair is right either way.
///
/// Fresh runs write no START: the Python loader would take a second fresh
/// writer's START in the same folder (an extra writer for hparams, say) as
/// a restart and drop the first writer's points.
pub(crate) fn restart_events(wall_time: f64, step: i64) -> [Event; 2] {
    let start = Event {
        wall_time,
        step,
        what: Some(event::What::SessionLog(SessionLog {
            status: session_log::SessionStatus::Start as i32,
            ..Default::default()
        })),
        ..Default::default()
    };
    [start.clone(), start]
}

/// Size of the stack buffer scalar records are assembled in; records of
/// longer tags take the general path.
const STACK_RECORD: usize = 192;

/// Where hand-encoded bytes go: a `Vec` or a fixed stack buffer.
trait ByteSink {
    fn put(&mut self, byte: u8);
    fn put_slice(&mut self, bytes: &[u8]);
}

impl ByteSink for Vec<u8> {
    fn put(&mut self, byte: u8) {
        self.push(byte);
    }
    fn put_slice(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// A record being assembled on the stack; callers check the size first.
struct StackRecord {
    buf: [u8; STACK_RECORD],
    pos: usize,
}

impl ByteSink for StackRecord {
    fn put(&mut self, byte: u8) {
        self.buf[self.pos] = byte;
        self.pos += 1;
    }
    fn put_slice(&mut self, bytes: &[u8]) {
        self.buf[self.pos..self.pos + bytes.len()].copy_from_slice(bytes);
        self.pos += bytes.len();
    }
}

/// Lengths of the nested messages of a scalar event: (value, summary).
fn scalar_value_lens<V: TensorScalar>(tag_len: usize, with_metadata: bool) -> (usize, usize) {
    let metadata_len = if with_metadata {
        2 + SCALAR_METADATA.len()
    } else {
        0
    };
    let value_len = 1 + varint_len(tag_len as u64) + tag_len + 2 + V::TENSOR_LEN + metadata_len;
    let summary_len = 1 + varint_len(value_len as u64) + value_len;
    (value_len, summary_len)
}

/// Serialized length of a scalar event.
fn scalar_payload_len<V: TensorScalar>(tag: &str, step: i64, with_metadata: bool) -> usize {
    let (_, summary_len) = scalar_value_lens::<V>(tag.len(), with_metadata);
    let step_len = if step == 0 {
        0
    } else {
        1 + varint_len(step as u64)
    };
    9 + step_len + 1 + varint_len(summary_len as u64) + summary_len
}

/// Writes a scalar event; fields in field-number order, as prost and
/// TensorFlow serialize them (tensor 8 before metadata 9).
fn put_scalar<V: TensorScalar>(
    out: &mut impl ByteSink,
    wall_time: f64,
    step: i64,
    tag: &[u8],
    value: V,
    with_metadata: bool,
) {
    let (value_len, summary_len) = scalar_value_lens::<V>(tag.len(), with_metadata);
    out.put(key::EVENT_WALL_TIME);
    out.put_slice(&wall_time.to_le_bytes());
    if step != 0 {
        out.put(key::EVENT_STEP);
        put_varint(out, step as u64);
    }
    out.put(key::EVENT_SUMMARY);
    put_varint(out, summary_len as u64);
    out.put(key::SUMMARY_VALUE);
    put_varint(out, value_len as u64);
    out.put(key::VALUE_TAG);
    put_varint(out, tag.len() as u64);
    out.put_slice(tag);
    out.put(key::VALUE_TENSOR);
    out.put(V::TENSOR_LEN as u8);
    out.put_slice(&V::PREFIX);
    value.put_value(out);
    if with_metadata {
        out.put(key::VALUE_METADATA);
        out.put(SCALAR_METADATA.len() as u8);
        out.put_slice(SCALAR_METADATA);
    }
}

/// Appends a record whose payload `encode` appends, writing the 12-byte
/// header in front once the length is known and the data CRC after it.
fn frame_in_place(out: &mut Vec<u8>, encode: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0u8; 12]);
    encode(out);
    let data_start = start + 12;
    let len = (out.len() - data_start) as u64;
    let mut header = [0u8; 12];
    encode_header(len, &mut header);
    out[start..data_start].copy_from_slice(&header);
    let crc = MaskedCrc::compute(&out[data_start..]);
    out.extend_from_slice(&crc.0.to_le_bytes());
}

fn varint_len(value: u64) -> usize {
    // Each byte carries 7 bits; at least one byte.
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

fn put_varint(out: &mut impl ByteSink, mut value: u64) {
    while value >= 0x80 {
        out.put((value as u8) | 0x80);
        value >>= 7;
    }
    out.put(value as u8);
}

/// Writes events synchronously to any [`Write`], one TFRecord per event.
///
/// This is the format layer under [`crate::summary::SummaryWriter`]; use it
/// directly for tests (on a `Vec<u8>`) or to write a file without a
/// background thread. It adds no buffering: wrap files in a
/// [`io::BufWriter`].
#[derive(Debug)]
pub struct EventWriter<W: Write> {
    records: RecordWriter<W>,
    encoder: EventEncoder,
    buf: Vec<u8>,
}

impl<W: Write> EventWriter<W> {
    /// Wraps `inner`. Nothing is written until the first call; an event
    /// file should start with [`EventWriter::write_file_version`].
    pub fn new(inner: W) -> Self {
        EventWriter {
            records: RecordWriter::new(inner),
            encoder: EventEncoder::new(),
            buf: Vec::with_capacity(256),
        }
    }

    /// Writes the `file_version: "brain.Event:2"` record (with
    /// `source_metadata.writer = "tbseg"`) that starts every event file.
    pub fn write_file_version(&mut self, wall_time: f64) -> io::Result<()> {
        self.write_event(&file_version_event(wall_time))
    }

    /// Writes `event` as one record, unchanged.
    pub fn write_event(&mut self, event: &Event) -> io::Result<()> {
        let mut buf = self.encoder.scratch();
        event.encode_raw(&mut buf);
        let result = self.records.write_record(&buf);
        self.encoder.scratch = buf;
        result
    }

    /// Writes one summary event at `step`. The metadata of values whose tag
    /// was already written through this writer is dropped.
    pub fn write_summary(&mut self, wall_time: f64, step: i64, summary: Summary) -> io::Result<()> {
        self.buf.clear();
        self.encoder
            .summary_payload(&mut self.buf, wall_time, step, summary);
        self.records.write_record(&self.buf)
    }

    /// Writes one scalar event (a DT_FLOAT rank-0 tensor; `scalars`
    /// metadata on the tag's first value).
    pub fn write_scalar(
        &mut self,
        wall_time: f64,
        step: i64,
        tag: &str,
        value: f32,
    ) -> io::Result<()> {
        self.buf.clear();
        self.encoder
            .scalar_payload(&mut self.buf, wall_time, step, tag, value);
        self.records.write_record(&self.buf)
    }

    /// Writes one scalar event at double precision (a DT_DOUBLE rank-0
    /// tensor; `scalars` metadata on the tag's first value).
    pub fn write_scalar_f64(
        &mut self,
        wall_time: f64,
        step: i64,
        tag: &str,
        value: f64,
    ) -> io::Result<()> {
        self.buf.clear();
        self.encoder
            .scalar_payload_f64(&mut self.buf, wall_time, step, tag, value);
        self.records.write_record(&self.buf)
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.records.flush()
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        self.records.get_ref()
    }

    /// Unwraps the writer without flushing it.
    pub fn into_inner(self) -> W {
        self.records.into_inner()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::proto::tensorflow::{
        summary, summary_metadata, DataType, SummaryMetadata, TensorProto, TensorShapeProto,
    };
    use crate::record::FRAMING_LEN;

    /// Splits framed bytes into payloads, checking both CRCs.
    pub(crate) fn records(mut bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
            let len_crc = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
            assert_eq!(len_crc, MaskedCrc::compute(&bytes[..8]).0);
            let data = &bytes[12..12 + len];
            let data_crc = u32::from_le_bytes(bytes[12 + len..16 + len].try_into().unwrap());
            assert_eq!(data_crc, MaskedCrc::compute(data).0);
            out.push(data.to_vec());
            bytes = &bytes[len + FRAMING_LEN..];
        }
        out
    }

    fn scalar_event(wall_time: f64, step: i64, tag: &str, value: f32, metadata: bool) -> Event {
        Event {
            wall_time,
            step,
            what: Some(event::What::Summary(Summary {
                value: vec![summary::Value {
                    tag: tag.to_owned(),
                    metadata: metadata.then(|| SummaryMetadata {
                        plugin_data: Some(summary_metadata::PluginData {
                            plugin_name: "scalars".into(),
                            content: Vec::new(),
                        }),
                        data_class: crate::proto::tensorflow::DataClass::Scalar as i32,
                        ..Default::default()
                    }),
                    value: Some(summary::value::Value::Tensor(TensorProto {
                        dtype: DataType::DtFloat as i32,
                        tensor_shape: Some(TensorShapeProto::default()),
                        tensor_content: value.to_le_bytes().to_vec(),
                        ..Default::default()
                    })),
                    ..Default::default()
                }],
            })),
            ..Default::default()
        }
    }

    #[test]
    fn scalar_bytes_equal_prost_encoding() {
        let mut encoder = EventEncoder::new();
        for (step, tag, value, first) in [
            (0i64, "loss", 0.5f32, true),
            (1, "loss", -1.25, false),
            (-3, "dice", f32::NAN, true),
            (i64::MAX, "loss", f32::INFINITY, false),
            (300, &"t".repeat(200) as &str, 1e-30, true),
        ] {
            let mut hand = Vec::new();
            encoder.scalar_payload(&mut hand, 1234.5, step, tag, value);
            let want = scalar_event(1234.5, step, tag, value, first).encode_to_vec();
            assert_eq!(hand, want, "step {step} tag {tag}");
        }
    }

    #[test]
    fn writer_frames_and_keeps_metadata_on_first_value_only() {
        let mut writer = EventWriter::new(Vec::new());
        writer.write_file_version(10.0).unwrap();
        writer.write_scalar(11.0, 1, "loss", 2.0).unwrap();
        writer.write_scalar(12.0, 2, "loss", 1.0).unwrap();
        let text = crate::summary::values::text("notes", "hello");
        writer
            .write_summary(
                13.0,
                2,
                Summary {
                    value: vec![text.clone()],
                },
            )
            .unwrap();
        writer
            .write_summary(14.0, 3, Summary { value: vec![text] })
            .unwrap();
        let payloads = records(writer.get_ref());
        assert_eq!(payloads.len(), 5);
        let events: Vec<Event> = payloads
            .iter()
            .map(|p| Event::decode(p.as_slice()).unwrap())
            .collect();
        assert_eq!(
            events[0].what,
            Some(event::What::FileVersion("brain.Event:2".into()))
        );
        assert_eq!(events[0].source_metadata.as_ref().unwrap().writer, "tbseg");
        let value = |e: &Event| match &e.what {
            Some(event::What::Summary(s)) => s.value[0].clone(),
            other => panic!("not a summary: {other:?}"),
        };
        assert!(value(&events[1]).metadata.is_some());
        assert!(value(&events[2]).metadata.is_none());
        assert_eq!(events[2].step, 2);
        assert_eq!(events[2].wall_time, 12.0);
        match value(&events[2]).value {
            Some(summary::value::Value::Tensor(t)) => {
                assert_eq!(t.tensor_content, 1.0f32.to_le_bytes());
                assert_eq!(t.dtype, DataType::DtFloat as i32);
                assert!(t.tensor_shape.unwrap().dim.is_empty());
            }
            other => panic!("not a tensor: {other:?}"),
        }
        assert_eq!(
            value(&events[3])
                .metadata
                .unwrap()
                .plugin_data
                .unwrap()
                .plugin_name,
            "text"
        );
        assert!(value(&events[4]).metadata.is_none());
    }

    #[test]
    fn exact_bytes_of_a_scalar_record() {
        let mut writer = EventWriter::new(Vec::new());
        writer.write_scalar(1.0, 5, "a", 1.0).unwrap();
        let bytes = writer.into_inner();
        #[rustfmt::skip]
        let payload: Vec<u8> = [
            &[0x09][..], &1.0f64.to_le_bytes(),   // wall_time
            &[0x10, 0x05],                        // step 5
            &[0x2a, 0x20],                        // summary, 32 bytes
            &[0x0a, 0x1e],                        // value, 30 bytes
            &[0x0a, 0x01, b'a'],                  // tag "a"
            &[0x42, 0x0a, 0x08, 0x01, 0x12, 0x00, 0x22, 0x04], &1.0f32.to_le_bytes(),
            &[0x4a, 0x0d, 0x0a, 0x09, 0x0a, 0x07], b"scalars", &[0x20, 0x01],
        ].concat();
        assert_eq!(bytes.len(), payload.len() + FRAMING_LEN);
        assert_eq!(&bytes[..8], &(payload.len() as u64).to_le_bytes());
        assert_eq!(&bytes[12..12 + payload.len()], &payload[..]);
        assert_eq!(
            &bytes[12 + payload.len()..],
            &MaskedCrc::compute(&payload).0.to_le_bytes()
        );
    }

    #[test]
    fn record_and_payload_encodings_agree() {
        // Short tags take the stack-buffer path, long ones the general
        // path; both must frame exactly like RecordWriter.
        let long = "t".repeat(300);
        let cases = [
            (7i64, "x"),
            (8, "x"),
            (-1, "x"),
            (0, "loss"),
            (1, long.as_str()),
            (2, long.as_str()),
            (3, &long[..140]),
            (4, &long[..140]),
        ];
        let mut a = EventEncoder::new();
        let mut framed = Vec::new();
        let mut writer = EventWriter::new(Vec::new());
        for (step, tag) in cases {
            a.scalar_record(&mut framed, 3.0, step, tag, 0.25);
            writer.write_scalar(3.0, step, tag, 0.25).unwrap();
        }
        assert_eq!(framed, writer.into_inner());
        assert_eq!(records(&framed).len(), cases.len());
    }

    /// The prost encoding of a DT_DOUBLE scalar event, built from
    /// [`scalar_event`] with the tensor swapped.
    fn double_scalar_event(wall_time: f64, step: i64, tag: &str, value: f64, meta: bool) -> Event {
        let mut event = scalar_event(wall_time, step, tag, 0.0, meta);
        let Some(event::What::Summary(summary)) = &mut event.what else {
            unreachable!()
        };
        summary.value[0].value = Some(summary::value::Value::Tensor(TensorProto {
            dtype: DataType::DtDouble as i32,
            tensor_shape: Some(TensorShapeProto::default()),
            tensor_content: value.to_le_bytes().to_vec(),
            ..Default::default()
        }));
        event
    }

    #[test]
    fn double_scalar_bytes_equal_prost_encoding() {
        let mut encoder = EventEncoder::new();
        for (step, tag, value, first) in [
            (0i64, "lr", 1e300f64, true),
            (1, "lr", -1e-300, false),
            (-3, "x", f64::NAN, true),
            (i64::MAX, "x", f64::NEG_INFINITY, false),
            (300, &"t".repeat(200) as &str, 0.1, true),
        ] {
            let mut hand = Vec::new();
            encoder.scalar_payload_f64(&mut hand, 99.5, step, tag, value);
            let want = double_scalar_event(99.5, step, tag, value, first).encode_to_vec();
            assert_eq!(hand, want, "step {step} tag {tag}");
        }
    }

    #[test]
    fn double_records_frame_like_the_record_writer_and_keep_the_value() {
        let long = "d".repeat(300);
        let mut encoder = EventEncoder::new();
        let mut framed = Vec::new();
        let mut writer = EventWriter::new(Vec::new());
        for (step, tag) in [(1i64, "lr"), (2, "lr"), (3, long.as_str()), (4, "loss")] {
            encoder.scalar_record_f64(&mut framed, 3.0, step, tag, 1e300);
            writer.write_scalar_f64(3.0, step, tag, 1e300).unwrap();
            // A f32 value of the same tag after f64 ones: the cached
            // length CRC must follow the length change.
            encoder.scalar_record(&mut framed, 3.0, step, tag, 0.5);
            writer.write_scalar(3.0, step, tag, 0.5).unwrap();
        }
        assert_eq!(framed, writer.into_inner());
        let events: Vec<Event> = records(&framed)
            .iter()
            .map(|p| Event::decode(p.as_slice()).unwrap())
            .collect();
        let Some(event::What::Summary(summary)) = &events[0].what else {
            panic!("not a summary")
        };
        let Some(summary::value::Value::Tensor(t)) = &summary.value[0].value else {
            panic!("not a tensor")
        };
        assert_eq!(t.dtype, DataType::DtDouble as i32);
        assert_eq!(t.tensor_content, 1e300f64.to_le_bytes());
    }

    #[test]
    fn varint_lengths() {
        for v in [0u64, 1, 127, 128, 16383, 16384, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v), "{v}");
        }
    }
}
