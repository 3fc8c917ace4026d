//! TFRecord framing: `u64 len | masked crc32c(len) | data | masked crc32c(data)`.
//!
//! Three layers, as in TensorBoard's own reader: [`MaskedCrc`] (the
//! checksum), [`RecordWriter`] (framing out) and the reader (framing in).
//! Event files and `tf.train.Example` files are both TFRecord files.

mod crc;
mod writer;

pub use crc::MaskedCrc;
pub use writer::{encode_header, frame_into, RecordWriter, FRAMING_LEN};
