//! `tf.train.Example`s: one message parsed directly, and a TFRecord file of
//! them read with every typed getter.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tbseg::example::{Example, ExampleReader};

fn touch(example: &Example) {
    let keys: Vec<String> = example.keys().map(str::to_owned).collect();
    for key in &keys {
        let _ = example.kind(key);
        let _ = example.bytes(key);
        let _ = example.int64(key);
        let _ = example.float(key);
        let _ = example.single_bytes(key);
        let _ = example.single_int64(key);
        let _ = example.single_float(key);
    }
    let _ = example.single_bytes("missing");
}

fuzz_target!(|data: &[u8]| {
    if let Ok(example) = Example::decode(data) {
        touch(&example);
    }
    for example in ExampleReader::new(data).flatten() {
        touch(&example);
    }
});
