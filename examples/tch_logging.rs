//! Logging a tch training loop to TensorBoard: a tiny convolutional
//! auto-encoder trained a few steps on random images, with the loss from a
//! `Tensor`, the weights and gradients of its `VarStore` as histograms, and
//! a batch of inputs and reconstructions as an image grid.
//!
//! ```text
//! scripts/cargo.sh run --release --features tch --example tch_logging -- runs/tch
//! tensorboard --logdir runs/tch
//! ```

use std::error::Error;

use tbseg::integrations::tch::TchSummaries;
use tbseg::summary::SummaryWriter;
use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Tensor};

fn main() -> Result<(), Box<dyn Error>> {
    let logdir = std::env::args().nth(1).unwrap_or_else(|| "runs/tch".into());
    let writer = SummaryWriter::new(&logdir)?;
    tch::manual_seed(0);
    let device = Device::cuda_if_available();
    let vs = nn::VarStore::new(device);
    let root = vs.root();
    let conv = |p, i, o| {
        nn::conv2d(
            p,
            i,
            o,
            3,
            nn::ConvConfig {
                padding: 1,
                ..Default::default()
            },
        )
    };
    let net = nn::seq()
        .add(conv(&root / "encode", 3, 8))
        .add_fn(|x| x.relu())
        .add(conv(&root / "decode", 8, 3))
        .add_fn(|x| x.sigmoid());
    let mut opt = nn::Adam::default().build(&vs, 1e-2)?;

    // Eight 3×16×16 images: smooth colour gradients the network can learn.
    let ramp = Tensor::linspace(0.0, 1.0, 16, (Kind::Float, device));
    let images = (ramp.view([1, 1, 1, 16]) * Tensor::rand([8, 3, 1, 1], (Kind::Float, device)))
        .expand([8, 3, 16, 16], false);
    for step in 0..50 {
        let output = net.forward(&images);
        let loss = (&output - &images).square().mean(Kind::Float);
        opt.zero_grad();
        loss.backward();
        writer.add_scalar_tensor("loss", &loss, step)?;
        if step % 10 == 0 {
            writer.add_var_store(&vs, step)?; // weights/encode.weight, grads/encode.weight, ...
            writer.add_images_tensor("inputs", &images, step)?;
            writer.add_images_tensor("reconstructions", &output, step)?;
        }
        opt.step();
    }
    writer.close()?;
    println!("wrote {logdir}");
    Ok(())
}
