//! The lab's `truncated_normal` against its definition, bit for bit. A test
//! binary of its own: libtorch's generator is global to the process, and
//! another test seeding or drawing on a parallel thread would shift the
//! stream.
#![cfg(feature = "trainer")]

use tbseg_lab::train::model::truncated_normal;
use tch::{Device, Kind, Tensor};

/// Redraw the whole tensor and keep the new values where the old ones are
/// further than two standard deviations from 0, until none is (how the
/// trainer drew its weights before redraws examined only the positions
/// redrawn).
fn by_definition(shape: &[i64], stddev: f64) -> Tensor {
    let mut values = Tensor::randn(shape, (Kind::Float, Device::Cpu)) * stddev;
    loop {
        let outside = values.abs().gt(2.0 * stddev);
        if !bool::try_from(outside.any()).unwrap() {
            return values;
        }
        let fresh = Tensor::randn(shape, (Kind::Float, Device::Cpu)) * stddev;
        values = fresh.where_self(&outside, &values);
    }
}

#[test]
fn truncated_normal_equals_its_definition_bit_for_bit() {
    // Several layers in a row, as a model draws them: the generator's
    // state after each must match too, or the next layer would differ.
    let shapes: [&[i64]; 4] = [
        &[300, 700],
        &[5, 5, 1, 100],
        &[1_000_003],
        &[3, 3, 300, 300],
    ];
    tch::manual_seed(7);
    let fast: Vec<Tensor> = shapes
        .iter()
        .map(|shape| truncated_normal(shape, 0.1, Device::Cpu))
        .collect();
    tch::manual_seed(7);
    for (shape, fast) in shapes.iter().zip(&fast) {
        let reference = by_definition(shape, 0.1);
        let differ = i64::try_from(fast.ne_tensor(&reference).sum(Kind::Int64)).unwrap();
        assert_eq!(differ, 0, "shape {shape:?}: {differ} values differ");
    }
}
