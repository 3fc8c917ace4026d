//! Times one training step (forward, loss, backward, SGD update) of a lab
//! network on random data: `cargo run --release --example step_time -- cnn 20`.

use std::time::Instant;

use tbseg_lab::train::model::{cross_entropy_mean, Model};
use tbseg_lab::train::ModelKind;
use tch::{nn::OptimizerConfig, Device, Kind, Tensor};

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = match args.next().as_deref() {
        Some("simple") => ModelKind::Simple,
        Some("cnn-dice") => ModelKind::CnnDice,
        _ => ModelKind::Cnn,
    };
    let steps: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(10);
    let batch: i64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    tbseg_lab::train::device::set_threads(None);
    tch::manual_seed(0);
    let model = Model::new(kind, Device::Cpu);
    let mut opt = tch::nn::Sgd::default()
        .build(model.var_store(), 0.01)
        .expect("optimizer");
    let images = Tensor::rand([batch, 1, 256, 256], (Kind::Float, Device::Cpu));
    let labels = Tensor::randint(2, [batch, 256, 256], (Kind::Int64, Device::Cpu));
    let mut times = Vec::new();
    for _ in 0..steps {
        let start = Instant::now();
        let loss =
            cross_entropy_mean(&model.forward(&images).expect("forward"), &labels).expect("loss");
        opt.backward_step(&loss);
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{kind} batch {batch} threads {}: median step {:.4} s, min {:.4} s over {steps} steps",
        tch::get_num_threads(),
        times[times.len() / 2],
        times[0]
    );
}
