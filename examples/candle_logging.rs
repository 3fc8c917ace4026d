//! Logging a candle training loop to TensorBoard: a tiny convolutional
//! classifier learns to tell horizontal from vertical bars on synthetic
//! 12×12 images, on the CPU, in about a second. It logs the loss and the
//! accuracy from tensors, the weights and gradients of its `VarMap` as
//! histograms, the input batch as an image grid, the learned filters, two
//! inputs overlaid as one RGB image built channels-last (HWC), and the
//! inputs as points in the Projector, labelled by class.
//!
//! ```text
//! cargo run --release --features candle --example candle_logging -- runs/candle
//! tensorboard --logdir runs/candle
//! ```
//!
//! It prints the loss every 10 steps; `scripts/conformance/check_candle.py`
//! compares those lines with what TensorBoard reads.

use std::error::Error;

use candle_core::{DType, Device, Tensor, D};
use candle_nn::{
    conv2d, linear, loss, AdamW, Conv2d, Conv2dConfig, Linear, Module, Optimizer, ParamsAdamW,
    VarBuilder, VarMap,
};
use tbseg::integrations::candle::{CandleSummaries, ChannelOrder};
use tbseg::summary::SummaryWriter;

/// Image side, in pixels.
const SIDE: usize = 12;
/// Images in the (only) batch: both classes at every bar position.
const BATCH: usize = 2 * SIDE;
/// Training steps.
const STEPS: i64 = 200;

/// The classifier: 3×3 convolution to 4 channels, ReLU, 2×2 max pooling,
/// and a linear layer from the pooled maps to the two classes' logits.
struct Net {
    conv1: Conv2d,
    fc: Linear,
}

impl Net {
    fn new(vb: VarBuilder) -> candle_core::Result<Self> {
        let padded = Conv2dConfig {
            padding: 1,
            ..Default::default()
        };
        Ok(Net {
            conv1: conv2d(1, 4, 3, padded, vb.pp("conv1"))?,
            fc: linear(4 * (SIDE / 2) * (SIDE / 2), 2, vb.pp("fc"))?,
        })
    }
}

impl Module for Net {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let maps = self.conv1.forward(xs)?.relu()?.max_pool2d(2)?;
        self.fc.forward(&maps.flatten_from(1)?)
    }
}

/// `[BATCH, 1, SIDE, SIDE]` images and their `[BATCH]` labels: image `i`
/// has a bright bar (0.75 on a 0.25 background) at row `i / 2` when `i` is
/// even (label 0, horizontal) and at column `i / 2` when odd (label 1,
/// vertical).
fn bars(device: &Device) -> candle_core::Result<(Tensor, Tensor)> {
    let mut pixels = Vec::with_capacity(BATCH * SIDE * SIDE);
    for i in 0..BATCH {
        let (vertical, at) = (i % 2 == 1, i / 2);
        for y in 0..SIDE {
            for x in 0..SIDE {
                let on = if vertical { x == at } else { y == at };
                pixels.push(if on { 0.75f32 } else { 0.25 });
            }
        }
    }
    let labels: Vec<u32> = (0..BATCH as u32).map(|i| i % 2).collect();
    Ok((
        Tensor::from_vec(pixels, (BATCH, 1, SIDE, SIDE), device)?,
        Tensor::from_vec(labels, BATCH, device)?,
    ))
}

fn main() -> Result<(), Box<dyn Error>> {
    let logdir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "runs/candle".into());
    let writer = SummaryWriter::new(&logdir)?;
    let device = Device::Cpu;
    let vars = VarMap::new();
    let net = Net::new(VarBuilder::from_varmap(&vars, DType::F32, &device))?;
    let params = ParamsAdamW {
        lr: 0.01,
        ..Default::default()
    };
    let mut opt = AdamW::new(vars.all_vars(), params)?;
    let (images, labels) = bars(&device)?;
    writer.add_images_tensor("inputs", &images, ChannelOrder::Chw, 0)?;

    for step in 0..STEPS {
        let logits = net.forward(&images)?;
        let loss = loss::cross_entropy(&logits, &labels)?;
        let correct = logits.argmax(D::Minus1)?.eq(&labels)?;
        let accuracy = correct.to_dtype(DType::F32)?.mean_all()?;
        let grads = loss.backward()?;
        writer.add_scalar_tensor("loss", &loss, step)?;
        writer.add_scalar_tensor("accuracy", &accuracy, step)?;
        if step % 50 == 0 || step == STEPS - 1 {
            writer.add_var_map(&vars, step)?; // weights/conv1.weight, ...
            writer.add_gradients(&vars, &grads, step)?; // grads/conv1.weight, ...
        }
        if step % 10 == 0 {
            println!("step {step}: loss {:.6}", loss.to_scalar::<f32>()?);
        }
        opt.step(&grads)?;
    }

    // The four learned 3×3 filters, each stretched to [0, 1], as a grid.
    let filters = net.conv1.weight();
    let low = filters.min_keepdim(D::Minus1)?.min_keepdim(D::Minus2)?;
    let high = filters.max_keepdim(D::Minus1)?.max_keepdim(D::Minus2)?;
    let stretched = filters
        .broadcast_sub(&low)?
        .broadcast_div(&(high - &low)?)?;
    writer.add_images_tensor("conv1_filters", &stretched, ChannelOrder::Chw, STEPS)?;

    // Two inputs overlaid as one RGB image, built channels-last (HWC): a
    // horizontal bar (row 3) in red, a vertical bar (column 8) in green.
    let channel = |i: usize| images.get(i)?.get(0); // [H, W]
    let blue = Tensor::zeros((SIDE, SIDE), DType::F32, &device)?;
    let overlay = Tensor::stack(&[channel(6)?, channel(17)?, blue], 2)?;
    writer.add_image_tensor("overlay", &overlay, ChannelOrder::Hwc, STEPS)?;

    // The inputs as points in the Projector: one row of pixels per image.
    let points = images.flatten_from(1)?;
    let names: Vec<&str> = (0..BATCH)
        .map(|i| ["horizontal", "vertical"][i % 2])
        .collect();
    writer.add_embedding_tensor("inputs", &points, &names, STEPS)?;

    writer.close()?;
    println!("wrote {logdir}");
    Ok(())
}
