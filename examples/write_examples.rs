//! Writes a TFRecord file of `tf.train.Example`s with tbseg.
//!
//! `cargo run --release --example write_examples -- OUT`
//!
//! `scripts/conformance/check_records.py` rebuilds the same examples in
//! Python and checks that TensorFlow reads back every value; the two
//! `example(i)` definitions must stay in step.

use std::error::Error;

use tbseg::example::{Example, ExampleBuilder, ExampleWriter};

/// How many examples the file holds.
const COUNT: i64 = 5;

/// The `i`-th example: every feature kind, empty lists, extreme values and
/// a list long enough to span several protobuf varint widths.
fn example(i: i64) -> Example {
    let raw: Vec<u8> = (0..i * 100).map(|k| ((i * 37 + k) % 256) as u8).collect();
    let multi: Vec<Vec<u8>> = (0..i).map(|k| vec![b'x'; k as usize]).collect();
    let long: Vec<i64> = (0..1000 * i).map(|k| k * k * i - 500_000).collect();
    let floats = [
        i as f32 * 0.25,
        -1e30,
        1e-30,
        f32::MAX,
        f32::MIN_POSITIVE,
        1e-45, // the smallest subnormal
        f32::INFINITY,
        f32::NEG_INFINITY,
    ];
    ExampleBuilder::new()
        .int64("id", &[i])
        .bytes("name", format!("example-{i}"))
        .bytes("raw", raw)
        .bytes_list("multi", multi)
        .int64("big", &[i64::MIN, i64::MAX, -1, 0, (1 << 40) + i])
        .int64("long", &long)
        .float("floats", &floats)
        .int64("empty_int", &[])
        .float("empty_float", &[])
        .bytes_list("empty_bytes", Vec::<Vec<u8>>::new())
        .build()
}

fn main() -> Result<(), Box<dyn Error>> {
    let out = std::env::args_os()
        .nth(1)
        .ok_or("usage: write_examples OUT.tfrecord")?;
    let mut writer = ExampleWriter::create(&out)?;
    for i in 0..COUNT {
        writer.write(&example(i))?;
    }
    writer.flush()?;
    Ok(())
}
