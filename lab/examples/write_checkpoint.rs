//! Writes checkpoints for the TensorFlow conformance check
//! (`scripts/conformance/checkpoint.sh`).
//!
//! `cargo run --release -p tbseg-lab --no-default-features --example write_checkpoint -- DIR`
//!
//! - `DIR/model.ckpt-{1..4}` through a `Saver` with `max_to_keep(3)`, so
//!   step 1 is deleted again: every dtype, the lab's CNN variables at their
//!   real shapes, the simple model's at a reduced size, and `global_step`;
//! - `DIR/many/model.ckpt-0`: 5000 small tensors, so the index has several
//!   data blocks;
//! - `DIR/expected.json`: each checkpoint's tensor names, dtypes and shapes.
//!
//! The values are a hash of (name, step, element index) reinterpreted as the
//! dtype's bits, so the checker can regenerate them bit for bit.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use tbseg::checkpoint::GLOBAL_STEP;
use tbseg::checkpoint::{DType, Saver, TensorData};
use tbseg_lab::variables::{CNN_VARIABLES, FINAL_W_FC2, HIDDEN1_W_FC};

/// FNV-1a of the name, so every tensor gets its own stream.
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Element `i` of tensor `name` at `step`: a 64-bit mix of all three.
fn element(name: &str, step: i64, i: u64) -> u64 {
    let mut x = i
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add((step as u64).wrapping_mul(0xd1b5_4a32_d192_ed03))
        ^ name_hash(name);
    x ^= x >> 29;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^ (x >> 32)
}

fn make_tensor(name: &str, dtype: DType, shape: &[u64], step: i64) -> TensorData {
    let n: u64 = shape.iter().product();
    let bits = (0..n).map(|i| element(name, step, i));
    let shape = shape.to_vec();
    match dtype {
        DType::F32 => TensorData::from_f32(
            shape,
            &bits
                .map(|x| f32::from_bits((x >> 32) as u32))
                .collect::<Vec<_>>(),
        ),
        DType::F64 => TensorData::from_f64(shape, &bits.map(f64::from_bits).collect::<Vec<_>>()),
        DType::I32 => TensorData::from_i32(
            shape,
            &bits.map(|x| (x >> 32) as u32 as i32).collect::<Vec<_>>(),
        ),
        DType::I64 => TensorData::from_i64(shape, &bits.map(|x| x as i64).collect::<Vec<_>>()),
        DType::U8 => TensorData::from_u8(shape, &bits.map(|x| (x >> 56) as u8).collect::<Vec<_>>()),
        DType::Bool => {
            TensorData::from_bool(shape, &bits.map(|x| x >> 63 == 1).collect::<Vec<_>>())
        }
    }
    .expect("shape and data agree")
}

fn spec() -> Vec<(String, DType, Vec<u64>)> {
    let mut spec: Vec<(String, DType, Vec<u64>)> = vec![
        ("dtypes/f32".into(), DType::F32, vec![3, 4]),
        ("dtypes/f64".into(), DType::F64, vec![5]),
        ("dtypes/i32".into(), DType::I32, vec![2, 2, 2]),
        ("dtypes/i64".into(), DType::I64, vec![7]),
        ("dtypes/u8".into(), DType::U8, vec![16]),
        ("dtypes/bool".into(), DType::Bool, vec![9]),
        ("dtypes/empty".into(), DType::F32, vec![0, 3]),
        ("dtypes/scalar_f64".into(), DType::F64, vec![]),
        (HIDDEN1_W_FC.into(), DType::F32, vec![64, 8]),
        (FINAL_W_FC2.into(), DType::F32, vec![8, 128]),
    ];
    spec.extend(
        CNN_VARIABLES
            .iter()
            .filter(|variable| variable.name != GLOBAL_STEP)
            .map(|variable| {
                (
                    variable.name.to_owned(),
                    variable.dtype,
                    variable.shape.to_vec(),
                )
            }),
    );
    spec
}

fn json_entry(out: &mut String, name: &str, dtype: DType, shape: &[u64]) {
    let shape: Vec<String> = shape.iter().map(u64::to_string).collect();
    write!(
        out,
        "{{\"name\": \"{name}\", \"dtype\": \"{dtype}\", \"shape\": [{}]}}",
        shape.join(", ")
    )
    .unwrap();
}

fn main() -> anyhow::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or_else(|| anyhow::anyhow!("usage: write_checkpoint DIR"))?,
    );
    let spec = spec();
    let saver = Saver::new(&dir).max_to_keep(3);
    let mut json = String::from("{\n  \"checkpoints\": [\n");
    for step in 1..=4i64 {
        let mut tensors = BTreeMap::new();
        for (name, dtype, shape) in &spec {
            tensors.insert(name.clone(), make_tensor(name, *dtype, shape, step));
        }
        tensors.insert(GLOBAL_STEP.to_owned(), TensorData::scalar_i64(step));
        let prefix = saver.save(step, &tensors)?;
        write_json_checkpoint(&mut json, &dir, &prefix, step, &spec, step == 4);
    }
    json.push_str("  ],\n  \"many\": ");
    let many: Vec<(String, DType, Vec<u64>)> = (0..5000)
        .map(|i| {
            (
                format!("many/{i:05}/layer/some/long/variable/name/kernel"),
                DType::F32,
                vec![2],
            )
        })
        .collect();
    let prefix = Saver::new(dir.join("many")).save(
        0,
        many.iter()
            .map(|(name, dtype, shape)| (name.as_str(), make_tensor(name, *dtype, shape, 0)))
            .chain([(GLOBAL_STEP, TensorData::scalar_i64(0))]),
    )?;
    write_json_checkpoint(&mut json, &dir, &prefix, 0, &many, true);
    json.push_str("}\n");
    std::fs::write(dir.join("expected.json"), json)?;
    println!("wrote checkpoints to {}", dir.display());
    Ok(())
}

fn write_json_checkpoint(
    json: &mut String,
    dir: &Path,
    prefix: &Path,
    step: i64,
    spec: &[(String, DType, Vec<u64>)],
    last: bool,
) {
    let relative = prefix
        .strip_prefix(dir)
        .expect("inside DIR")
        .display()
        .to_string();
    writeln!(
        json,
        "    {{\"prefix\": \"{relative}\", \"step\": {step}, \"tensors\": ["
    )
    .unwrap();
    for (name, dtype, shape) in spec {
        json.push_str("      ");
        json_entry(json, name, *dtype, shape);
        json.push_str(",\n");
    }
    json.push_str("      ");
    json_entry(json, GLOBAL_STEP, DType::I64, &[]);
    json.push_str(if last { "\n    ]}\n" } else { "\n    ]},\n" });
}
