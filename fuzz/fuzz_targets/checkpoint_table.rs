//! The SSTable of a checkpoint's `.index` file: any bytes give entries or
//! a `TableError`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tbseg::checkpoint::table::read_table;

fuzz_target!(|data: &[u8]| {
    let _ = read_table(data);
});
