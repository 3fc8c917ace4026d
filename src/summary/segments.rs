//! Event files on object stores, as a series of complete objects
//! ("segments") that TensorBoard reads in order.
//!
//! An object in S3, GCS or Azure cannot be appended to, and the parts of
//! a multipart upload are invisible until it completes. So instead of one
//! event file, a writer on an object store uploads, at every flush, the
//! records written since the previous flush as a new object:
//!
//! ```text
//! s3://bucket/run/events.out.tfevents.1764514630.host.4242.0.3fa9c2d1.0000000000
//! s3://bucket/run/events.out.tfevents.1764514630.host.4242.0.3fa9c2d1.0000000001
//! ...
//! ```
//!
//! Every segment holds whole records, and the names of one writer's
//! segments sort in the order they were written (a fixed-width counter
//! after a common prefix). TensorBoard's loader (`DirectoryWatcher`) reads
//! a run's event files in name order and, once a file is exhausted, moves
//! to the next name after it; since each segment is complete when it
//! appears and the next one is only uploaded after it, every segment is
//! read, in order, and none is skipped. Bytes uploaded equal bytes written:
//! nothing is uploaded twice.
//!
//! A segment is uploaded at each flush (the writer's flush interval, or
//! `flush`/`sync`/`close`), and also whenever the records waiting for the
//! next flush reach the segment bound, so memory stays bounded whatever the
//! logging rate.

#[cfg(feature = "object-store")]
pub(crate) use sink::SegmentSink;

#[cfg(feature = "object-store")]
mod sink {
    use std::io::{self, Write};

    use crate::storage::remote::Remote;

    /// Writes records as rolling segment objects under a run folder.
    pub(crate) struct SegmentSink {
        run: Remote,
        /// The segments' common name, up to the counter.
        base: String,
        /// Text after the counter (the writer's filename suffix).
        suffix: String,
        /// The next segment's number.
        next: u64,
        /// Records written since the last upload. Kept after a failed upload,
        /// so that the error loses nothing that was accepted before it.
        pending: Vec<u8>,
        /// Bytes after which `pending` is uploaded without waiting for a flush.
        max_segment: usize,
    }

    /// Width of the segment counter: names sort in write order as long as it
    /// does not overflow (10^10 segments, centuries at one per second).
    const COUNTER_WIDTH: usize = 10;

    impl SegmentSink {
        pub(crate) fn new(run: Remote, base: String, suffix: String, max_segment: usize) -> Self {
            SegmentSink {
                run,
                base,
                suffix,
                next: 0,
                pending: Vec::new(),
                max_segment: max_segment.max(1),
            }
        }

        /// The object name of segment `number`.
        pub(crate) fn segment_name(base: &str, number: u64, suffix: &str) -> String {
            format!("{base}.{number:0COUNTER_WIDTH$}{suffix}")
        }

        /// Uploads the pending records as the next segment, if there are any.
        fn upload(&mut self) -> io::Result<()> {
            if self.pending.is_empty() {
                return Ok(());
            }
            let name = Self::segment_name(&self.base, self.next, &self.suffix);
            self.run.child(&name).put(&self.pending)?;
            self.next += 1;
            self.pending.clear();
            if self.pending.capacity() > self.max_segment.saturating_mul(2) {
                // One oversized record (a huge image) must not pin its memory.
                self.pending.shrink_to(self.max_segment);
            }
            Ok(())
        }
    }

    impl Write for SegmentSink {
        /// Takes the whole buffer (the writer thread writes whole records), so
        /// a segment never splits a record.
        fn write(&mut self, records: &[u8]) -> io::Result<usize> {
            self.pending.extend_from_slice(records);
            if self.pending.len() >= self.max_segment {
                self.upload()?;
            }
            Ok(records.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            self.upload()
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn segments_are_whole_writes_in_name_order() {
            let run = Remote::open("memory://segments-unit/run").unwrap();
            let mut sink = SegmentSink::new(
                run.clone(),
                "events.out.tfevents.1.h.2.0.ab".into(),
                ".v2".into(),
                10,
            );
            sink.write_all(b"abc").unwrap();
            sink.flush().unwrap();
            sink.flush().unwrap(); // nothing pending: no empty object
            sink.write_all(b"0123456789AB").unwrap(); // over the bound: uploaded at once
            sink.write_all(b"xy").unwrap();
            assert_eq!(run.list().unwrap().len(), 2);
            sink.flush().unwrap();
            let names: Vec<String> = run.list().unwrap().into_iter().map(|(n, _)| n).collect();
            assert_eq!(
                names,
                [
                    "events.out.tfevents.1.h.2.0.ab.0000000000.v2",
                    "events.out.tfevents.1.h.2.0.ab.0000000001.v2",
                    "events.out.tfevents.1.h.2.0.ab.0000000002.v2",
                ]
            );
            let contents: Vec<Vec<u8>> =
                names.iter().map(|n| run.child(n).get().unwrap()).collect();
            assert_eq!(contents, [&b"abc"[..], b"0123456789AB", b"xy"]);
            assert!(SegmentSink::segment_name("b", 9, "") < SegmentSink::segment_name("b", 10, ""));
        }
    }
}
