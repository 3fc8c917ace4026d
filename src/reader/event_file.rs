//! One event file read back: `tensorflow.Event` records with a torn tail
//! told apart from corruption.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use prost::Message;

use crate::proto::tensorflow::Event;
use crate::record::{OpenError, ReadRecordError, RecordReader};

/// Reading one event failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadEventError {
    /// The file could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The record framing is damaged, torn or unreadable; see
    /// [`ReadRecordError`] for which cases are fatal.
    #[error(transparent)]
    Record(#[from] ReadRecordError),
    /// The record at `offset` is intact but is not a `tensorflow.Event`.
    ///
    /// Retryable: the next record can still be read.
    #[error("record at byte {offset} is not an Event")]
    Decode {
        /// Byte offset of the record.
        offset: u64,
        /// The decoding error.
        #[source]
        source: prost::DecodeError,
    },
    /// The event at `offset` has a NaN `wall_time`, which TensorBoard
    /// rejects because it cannot order it.
    ///
    /// Retryable: the next record can still be read.
    #[error("event at byte {offset} (step {step}) has a NaN wall_time")]
    NanWallTime {
        /// Byte offset of the record.
        offset: u64,
        /// The event's step.
        step: i64,
    },
}

/// How an event file ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileEnd {
    /// At a record boundary.
    Clean,
    /// Inside the record that starts at `offset`: the writer crashed or is
    /// still writing. The events before it are all intact.
    TornTail {
        /// Byte offset of the torn record.
        offset: u64,
    },
}

/// How many skipped-record errors a reader keeps in full; past this only
/// [`EventFileReader::skipped_count`] grows, so a file of nothing but
/// damaged records cannot fill memory with error values.
pub const MAX_SKIPPED_KEPT: usize = 100;

/// Reads the `tensorflow.Event`s of one event file.
///
/// [`read_event`](Self::read_event) returns every error as it comes;
/// [`for_each`](Self::for_each) and [`read_all`](Self::read_all) skip the
/// retryable ones (a record with a bad data checksum, a record that is not
/// an `Event`, a NaN wall time), so one bad record does not hide the rest of
/// the file, and keep them for [`skipped`](Self::skipped).
#[derive(Debug)]
pub struct EventFileReader<R> {
    records: RecordReader<R>,
    skipped: Vec<ReadEventError>,
    skipped_count: u64,
}

impl EventFileReader<BufReader<File>> {
    /// Opens an event file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        Ok(Self::from_records(RecordReader::open(path)?))
    }
}

impl<R: Read> EventFileReader<R> {
    /// Reads events from `inner`.
    pub fn new(inner: R) -> Self {
        Self::from_records(RecordReader::new(inner))
    }

    /// The input, for callers that feed it more bytes between reads.
    #[cfg(feature = "object-store")]
    pub(crate) fn get_mut(&mut self) -> &mut R {
        self.records.get_mut()
    }

    fn from_records(records: RecordReader<R>) -> Self {
        EventFileReader {
            records,
            skipped: Vec::new(),
            skipped_count: 0,
        }
    }

    /// Reads the next event; `Ok(None)` at a clean end of input. A torn
    /// tail is `Err(ReadEventError::Record(ReadRecordError::Truncated {..}))`
    /// and, like the record reader, this reader resumes once the file grows.
    pub fn read_event(&mut self) -> Result<Option<Event>, ReadEventError> {
        let Some(data) = self.records.read_record()? else {
            return Ok(None);
        };
        let decoded = Event::decode(data);
        let offset = self.records.record_offset();
        let event = decoded.map_err(|source| ReadEventError::Decode { offset, source })?;
        if event.wall_time.is_nan() {
            return Err(ReadEventError::NanWallTime {
                offset,
                step: event.step,
            });
        }
        Ok(Some(event))
    }

    /// Calls `visit` with every remaining event, and says how the file
    /// ended. Retryable errors are skipped and kept (see
    /// [`skipped`](Self::skipped)); a torn tail ends the file normally
    /// (`Ok(FileEnd::TornTail)`), and calling again once the file has grown
    /// continues after the last complete record. `Err` is a fatal framing
    /// error (the rest of the file cannot be found) or an I/O error; the
    /// events before it have been visited.
    pub fn for_each(&mut self, mut visit: impl FnMut(Event)) -> Result<FileEnd, ReadEventError> {
        loop {
            match self.read_event() {
                Ok(Some(event)) => visit(event),
                Ok(None) => return Ok(FileEnd::Clean),
                Err(ReadEventError::Record(ReadRecordError::Truncated { offset })) => {
                    return Ok(FileEnd::TornTail { offset })
                }
                Err(e) if e.is_retryable() => self.skip(e),
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads every remaining event into memory; see
    /// [`for_each`](Self::for_each) for which errors end the file.
    pub fn read_all(&mut self) -> Result<(Vec<Event>, FileEnd), ReadEventError> {
        let mut events = Vec::new();
        let end = self.for_each(|event| events.push(event))?;
        Ok((events, end))
    }

    /// The records [`for_each`](Self::for_each) skipped, each error with its
    /// byte offset, in file order; at most [`MAX_SKIPPED_KEPT`] of them.
    pub fn skipped(&self) -> &[ReadEventError] {
        &self.skipped
    }

    /// How many records were skipped in all (may exceed
    /// [`skipped`](Self::skipped)'s length).
    pub fn skipped_count(&self) -> u64 {
        self.skipped_count
    }

    /// Takes the kept skipped-record errors out of the reader (the count
    /// stays), for a caller that reports them as they come.
    pub fn take_skipped(&mut self) -> Vec<ReadEventError> {
        std::mem::take(&mut self.skipped)
    }

    fn skip(&mut self, error: ReadEventError) {
        self.skipped_count += 1;
        if self.skipped.len() < MAX_SKIPPED_KEPT {
            self.skipped.push(error);
        }
    }
}

impl ReadEventError {
    /// Whether reading can go on after this error with the next record:
    /// a bad data checksum, an undecodable record or a NaN wall time affect
    /// only their own record.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ReadEventError::Record(ReadRecordError::BadDataCrc { .. })
                | ReadEventError::Decode { .. }
                | ReadEventError::NanWallTime { .. }
        )
    }

    /// The byte offset of the record concerned, where there is one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            ReadEventError::Open(_) => None,
            ReadEventError::Record(e) => e.offset(),
            ReadEventError::Decode { offset, .. } | ReadEventError::NanWallTime { offset, .. } => {
                Some(*offset)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::tensorflow::event;
    use crate::proto::tensorflow::summary::value::Value as ValueKind;
    use crate::reader::fixtures::{encode, event, summary_event, value};
    use crate::record::RecordWriter;

    #[test]
    fn reads_events_and_a_torn_tail_is_a_value() {
        let events = vec![
            event(0, event::What::FileVersion("brain.Event:2".into())),
            summary_event(1, vec![value("a", None, ValueKind::SimpleValue(0.5))]),
        ];
        let bytes = encode(&events);
        let (read, end) = EventFileReader::new(&bytes[..]).read_all().unwrap();
        assert_eq!((read, end), (events.clone(), FileEnd::Clean));
        let first_len = events[0].encoded_len() as u64 + 16;
        let (read, end) = EventFileReader::new(&bytes[..bytes.len() - 1])
            .read_all()
            .unwrap();
        assert_eq!(read, events[..1]);
        assert_eq!(end, FileEnd::TornTail { offset: first_len });
    }

    #[test]
    fn rejects_nan_wall_time_and_non_events() {
        let mut nan = summary_event(3, vec![]);
        nan.wall_time = f64::NAN;
        let mut w = RecordWriter::new(Vec::new());
        w.write_record(&nan.encode_to_vec()).unwrap();
        w.write_record(b"\xff\xff\xff").unwrap();
        let bytes = w.into_inner();
        let mut r = EventFileReader::new(&bytes[..]);
        let err = r.read_event().unwrap_err();
        assert!(matches!(
            err,
            ReadEventError::NanWallTime { offset: 0, step: 3 }
        ));
        assert_eq!(
            err.to_string(),
            "event at byte 0 (step 3) has a NaN wall_time"
        );
        let err = r.read_event().unwrap_err();
        assert!(matches!(err, ReadEventError::Decode { .. }));
        let offset = nan.encoded_len() + 16;
        assert_eq!(
            err.to_string(),
            format!("record at byte {offset} is not an Event")
        );
        assert!(r.read_event().unwrap().is_none());
    }
}
