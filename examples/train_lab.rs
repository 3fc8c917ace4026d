//! The lab's `cnn-dice` network trained with tch on the lab's TFRecords,
//! logging through tbseg's public API: loss, learning rate and Dice
//! scalars, mask images, weight and gradient histograms, the graph, and
//! TensorFlow checkpoints. A model for writing your own training loop.
//!
//! ```text
//! scripts/cargo.sh run --release --features trainer --example train_lab -- \
//!     --data_dir data --logdir logs/example --num_epochs 1
//! ```
//!
//! Flags (lab spelling): `--data_dir` (`data`), `--logdir` (`logs/example`),
//! `--num_epochs` (1), `--learning_rate` (0.01), `--decay_rate` (1.0),
//! `--decay_steps` (10000), `--max_steps` (none: run every epoch).

use std::error::Error;
use std::path::{Path, PathBuf};

use tbseg::checkpoint::{layout, Saver, TensorData};
use tbseg::example::ExampleReader;
use tbseg::integrations::tch::TchSummaries;
use tbseg::summary::{GraphBuilder, Node, SummaryWriter};
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Reduction, Tensor};

/// The network, layer by layer: scope, op, kernel, stride, output channels.
/// Scopes are the lab's variable names (`conv4` is lower case in its code);
/// its dropout keeps everything (`keep_prob` 1.0), so it is left out.
const LAYERS: [(&str, Op, i64, i64, i64); 8] = [
    ("Conv1", Op::Conv, 5, 2, 100),
    ("Pool1", Op::Pool, 2, 2, 100),
    ("Conv2", Op::Conv, 5, 2, 200),
    ("Pool2", Op::Pool, 2, 2, 200),
    ("Conv3", Op::Conv, 3, 1, 300),
    ("conv4", Op::Conv, 3, 1, 300),
    ("score_classes", Op::Score, 1, 1, 2),
    ("upscore", Op::Upscore, 31, 16, 2),
];

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Conv,    // convolution, TF SAME padding, ReLU
    Pool,    // max pooling
    Score,   // 1x1 convolution, no activation
    Upscore, // transposed convolution back to the input size
}

/// The lab's flags, `--name value` or `--name=value`.
struct Flags {
    data_dir: PathBuf,
    logdir: PathBuf,
    num_epochs: usize,
    learning_rate: f64,
    decay_rate: f64,
    decay_steps: i64,
    max_steps: Option<i64>,
}

impl Flags {
    fn parse(args: impl IntoIterator<Item = String>) -> Result<Flags, String> {
        let mut f = Flags {
            data_dir: "data".into(),
            logdir: "logs/example".into(),
            num_epochs: 1,
            learning_rate: 0.01,
            decay_rate: 1.0,
            decay_steps: 10000,
            max_steps: None,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
                None => (arg, None),
            };
            let value = inline
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))?;
            let bad = |e: &dyn std::fmt::Display| format!("{name} {value:?}: {e}");
            match name.trim_start_matches('-').replace('-', "_").as_str() {
                "data_dir" => f.data_dir = value.clone().into(),
                "logdir" => f.logdir = value.clone().into(),
                "num_epochs" => f.num_epochs = value.parse().map_err(|e| bad(&e))?,
                "learning_rate" => f.learning_rate = value.parse().map_err(|e| bad(&e))?,
                "decay_rate" => f.decay_rate = value.parse().map_err(|e| bad(&e))?,
                "decay_steps" => f.decay_steps = value.parse().map_err(|e| bad(&e))?,
                "max_steps" => f.max_steps = Some(value.parse().map_err(|e| bad(&e))?),
                _ => return Err(format!("unknown flag {name}")),
            }
        }
        Ok(f)
    }
}

/// Reads a lab TFRecord file: images `[1, 1, H, W]` (int64 ÷ 1024) and
/// labels `[1, H, W]` (0 background, 1 left ventricle).
fn load(path: &Path) -> Result<Vec<(Tensor, Tensor)>, Box<dyn Error>> {
    let mut slices = Vec::new();
    for example in ExampleReader::open(path)? {
        let example = example?;
        let (h, w) = (
            example.single_int64("height")?,
            example.single_int64("width")?,
        );
        let (image, label) = (
            example.single_bytes("img_raw")?,
            example.single_bytes("label_raw")?,
        );
        if image.len() as i64 != h * w * 8 || label.len() as i64 != h * w {
            return Err(format!("{}: a record is not {h}x{w}", path.display()).into());
        }
        let pixels: Vec<f32> = image
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap()) as f32 / 1024.0)
            .collect();
        let label = Tensor::from_slice(label)
            .to_kind(Kind::Int64)
            .reshape([1, h, w]);
        slices.push((Tensor::from_slice(&pixels).reshape([1, 1, h, w]), label));
    }
    Ok(slices)
}

/// TensorFlow's `SAME` padding (the odd pixel goes after) for a convolution
/// or pooling over the last two dimensions.
fn pad_same(x: &Tensor, kernel: i64, stride: i64) -> Tensor {
    let pad = |size: i64| {
        let total = ((size + stride - 1) / stride - 1) * stride + kernel - size;
        [total.max(0) / 2, total.max(0) - total.max(0) / 2]
    };
    let (h, w) = (pad(x.size()[2]), pad(x.size()[3]));
    x.constant_pad_nd([w[0], w[1], h[0], h[1]])
}

fn forward(kernels: &[Option<Tensor>], image: &Tensor) -> Tensor {
    let mut x = image.shallow_clone();
    for ((_, op, k, s, _), kernel) in LAYERS.iter().zip(kernels) {
        let conv = |x: &Tensor, w: &Tensor| {
            pad_same(x, *k, *s).conv2d::<Tensor>(w, None, [*s, *s], 0, 1, 1)
        };
        x = match (op, kernel) {
            (Op::Conv, Some(w)) => conv(&x, w).relu(),
            (Op::Score, Some(w)) => conv(&x, w),
            (Op::Pool, _) => x.max_pool2d([*k, *k], [*s, *s], 0, 1, false),
            (Op::Upscore, Some(w)) => {
                let (h, w_) = (image.size()[2], image.size()[3]);
                let full = x.conv_transpose2d::<Tensor>(w, None, [*s, *s], (*k - *s) / 2, 0, 1, 1);
                full.narrow(2, 0, h).narrow(3, 0, w_)
            }
            _ => unreachable!("every layer but pooling has a kernel"),
        };
    }
    x
}

/// TensorFlow's `truncated_normal(stddev=0.1)`: draws past 2σ are redrawn.
fn truncated_normal(shape: &[i64]) -> Tensor {
    let randn = || Tensor::randn(shape, (Kind::Float, Device::Cpu));
    let mut t = randn();
    loop {
        let outside = t.abs().gt(2.0);
        if outside.sum(Kind::Int64).int64_value(&[]) == 0 {
            return t * 0.1;
        }
        t = randn().where_self(&outside, &t);
    }
}

/// The graph TensorBoard draws: one scope per layer, shapes on the edges.
fn graph(size: i64) -> tbseg::proto::tensorflow::GraphDef {
    let mut graph = GraphBuilder::new();
    let mut prev =
        graph.add_node(Node::new("images", "Placeholder").output_shape(&[1, size, size, 1]));
    let mut hw = size;
    for (name, op, _, stride, channels) in LAYERS {
        hw = if op == Op::Upscore { size } else { hw / stride };
        let kind = match op {
            Op::Pool => "MaxPool",
            Op::Upscore => "Conv2DBackpropInput",
            _ => "Conv2D",
        };
        let mut scope = graph.scope(name);
        prev = scope.add_node(
            Node::new(kind, kind)
                .input(prev)
                .output_shape(&[1, hw, hw, channels]),
        );
    }
    graph.into_graph_def()
}

/// The kernels in TensorFlow's layouts, named as the lab's checkpoints.
fn tf_variables(
    kernels: &[Option<Tensor>],
    step: i64,
) -> Result<Vec<(String, TensorData)>, Box<dyn Error>> {
    let mut vars = vec![("global_step".to_owned(), TensorData::scalar_i64(step))];
    for ((name, op, ..), kernel) in LAYERS.iter().zip(kernels) {
        let Some(kernel) = kernel else { continue };
        let d = kernel.size();
        let shape = [d[0], d[1], d[2], d[3]].map(|d| d as usize);
        let data = Vec::<f32>::try_from(&kernel.flatten(0, -1))?;
        let (data, tf_shape) = match op {
            Op::Upscore => layout::conv_transpose_torch_to_tf(&data, shape)?, // [kh, kw, out, in]
            _ => layout::conv_torch_to_tf(&data, shape)?,                     // [kh, kw, in, out]
        };
        vars.push((
            format!("{name}/kernel"),
            TensorData::from_f32(tf_shape.map(|d| d as u64), &data)?,
        ));
    }
    Ok(vars)
}

/// Dice over a whole data set, as the lab reports it: 2·ΣI / (ΣL + ΣP).
fn dice(kernels: &[Option<Tensor>], data: &[(Tensor, Tensor)]) -> f64 {
    let (mut overlap, mut total) = (0.0, 0.0);
    tch::no_grad(|| {
        for (image, label) in data {
            let predicted = forward(kernels, image).argmax(1, false);
            overlap += (&predicted * label).sum(Kind::Float).double_value(&[]);
            total += (predicted.sum(Kind::Float) + label.sum(Kind::Float)).double_value(&[]);
        }
    });
    2.0 * overlap / total
}

pub fn run(args: impl IntoIterator<Item = String>) -> Result<(), Box<dyn Error>> {
    let flags = Flags::parse(args)?;
    let train = load(&flags.data_dir.join("train_images.tfrecords"))?;
    let valid = load(&flags.data_dir.join("val_images.tfrecords"))?;
    let size = train.first().ok_or("no training images")?.0.size()[2];

    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let mut in_channels = 1;
    let kernels: Vec<Option<Tensor>> = LAYERS
        .iter()
        .map(|&(name, op, k, _, out)| {
            let shape = match op {
                Op::Pool => return None,
                Op::Upscore => [in_channels, out, k, k], // torch's transposed layout
                _ => [out, in_channels, k, k],
            };
            in_channels = out;
            Some(vs.root().var_copy(name, &truncated_normal(&shape)))
        })
        .collect();

    let writer = SummaryWriter::new(&flags.logdir)?;
    let saver = Saver::new(&flags.logdir).max_to_keep(5);
    writer.add_graph(&graph(size))?;
    let mut opt = nn::Sgd::default().build(&vs, flags.learning_rate)?;
    let mut step = 0i64;
    for epoch in 0..flags.num_epochs {
        if flags.max_steps.is_some_and(|max| step >= max) {
            break;
        }
        for (image, label) in &train {
            if flags.max_steps.is_some_and(|max| step >= max) {
                break;
            }
            // Staircase decay: lr0 · rate^floor(step / decay_steps).
            let lr = flags.learning_rate * flags.decay_rate.powi((step / flags.decay_steps) as i32);
            opt.set_lr(lr);
            let logits = forward(&kernels, image);
            let loss = logits.cross_entropy_loss::<Tensor>(label, None, Reduction::Mean, -100, 0.0);
            opt.zero_grad();
            loss.backward();
            writer.add_scalar_tensor("loss", &loss, step)?;
            writer.add_scalar("learning_rate", lr as f32, step)?;
            if step % 100 == 0 {
                writer.add_var_store(&vs, step)?; // weights/<name> and grads/<name>
                println!("step {step}: loss = {:.4}", loss.double_value(&[]));
            }
            opt.step();
            step += 1;
        }
        let dice = dice(&kernels, &valid);
        writer.add_scalar("dice", dice as f32, step)?;
        let (image, label) = valid.first().ok_or("no validation images")?;
        let predicted = tch::no_grad(|| forward(&kernels, image).argmax(1, true));
        let panel = Tensor::cat(
            &[
                image.clamp(0.0, 1.0),
                label.unsqueeze(1).to_kind(Kind::Float),
                predicted.to_kind(Kind::Float),
            ],
            0,
        );
        writer.add_images_tensor("masks/image_label_prediction", &panel, step)?;
        saver.save(step, tf_variables(&kernels, step)?)?;
        println!("epoch {}: {step} steps, Dice = {dice:.3}", epoch + 1);
    }
    writer.close()?;
    Ok(())
}

fn main() {
    if let Err(e) = run(std::env::args().skip(1)) {
        eprintln!("train_lab: {e}");
        std::process::exit(1);
    }
}
