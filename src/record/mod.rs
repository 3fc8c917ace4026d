//! TFRecord framing: `u64 len | masked crc32c(len) | data | masked crc32c(data)`.
//!
//! Three layers, as in TensorBoard's own reader: [`MaskedCrc`] (the
//! checksum), [`RecordWriter`] (framing out) and [`RecordReader`] (framing
//! in, resumable, so a file that is still being written can be tailed).
//! Event files and `tf.train.Example` files are both TFRecord files.

mod crc;
mod reader;
mod writer;

pub use crc::MaskedCrc;
pub use reader::{OpenError, ReadRecordError, Record, RecordReader, Records};
pub use writer::{encode_header, frame_into, RecordWriter, FRAMING_LEN};
