//! TFRecord framing: any bytes give records or errors, never a panic, a
//! hang or a huge allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tbseg::record::RecordReader;

fuzz_target!(|data: &[u8]| {
    // Once without a size hint (a pipe) and once with it (a file).
    for hint in [None, Some(data.len() as u64)] {
        let mut reader = RecordReader::new(data);
        if let Some(len) = hint {
            reader = reader.with_input_len(len);
        }
        for record in reader.records() {
            if let Ok(record) = record {
                assert!(record.offset < data.len() as u64);
            }
        }
    }
});
