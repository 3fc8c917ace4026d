//! A Burn `Learner` logging to TensorBoard: a linear regression trained
//! for a few epochs on synthetic data (Burn's Flex CPU backend with
//! autodiff), its train and valid metrics written by
//! `tbseg::integrations::burn::TensorBoardMetricLogger`.
//!
//! ```text
//! cargo run --release --features burn --example burn_logging -- runs/burn
//! tensorboard --logdir runs/burn      # runs `train` and `valid`
//! ```

use std::error::Error;
use std::path::Path;

use burn_autodiff::Autodiff;
use burn_core as burn;
use burn_core::data::dataloader::batcher::Batcher;
use burn_core::data::dataloader::DataLoaderBuilder;
use burn_core::data::dataset::InMemDataset;
use burn_core::module::{Module, Param};
use burn_core::tensor::backend::{AutodiffBackend, Backend};
use burn_core::tensor::{Tensor, TensorData};
use burn_flex::Flex;
use burn_optim::SgdConfig;
use burn_train::metric::store::{Aggregate, Direction, Split};
use burn_train::metric::{LearningRateMetric, LossMetric};
use burn_train::{
    InferenceStep, Learner, MetricEarlyStoppingStrategy, RegressionOutput, StoppingCondition,
    SupervisedTraining, TrainOutput, TrainStep,
};
use tbseg::integrations::burn::TensorBoardMetricLogger;

type TrainBackend = Autodiff<Flex>;

/// `y = x · w + b` with two inputs and one output.
#[derive(Module, Debug)]
pub struct Regression<B: Backend> {
    weight: Param<Tensor<B, 2>>,
    bias: Param<Tensor<B, 1>>,
}

impl<B: Backend> Regression<B> {
    fn new(device: &B::Device) -> Self {
        Regression {
            weight: Param::from_tensor(Tensor::zeros([2, 1], device)),
            bias: Param::from_tensor(Tensor::zeros([1], device)),
        }
    }

    fn forward(&self, batch: &Batch<B>) -> RegressionOutput<B> {
        let output = batch.x.clone().matmul(self.weight.val()) + self.bias.val().unsqueeze();
        let loss = (output.clone() - batch.y.clone()).powi_scalar(2).mean();
        RegressionOutput::new(loss, output, batch.y.clone())
    }
}

impl<B: AutodiffBackend> TrainStep for Regression<B> {
    type Input = Batch<B>;
    type Output = RegressionOutput<B>;

    fn step(&self, batch: Batch<B>) -> TrainOutput<RegressionOutput<B>> {
        let output = self.forward(&batch);
        TrainOutput::new(self, output.loss.backward(), output)
    }
}

impl<B: Backend> InferenceStep for Regression<B> {
    type Input = Batch<B>;
    type Output = RegressionOutput<B>;

    fn step(&self, batch: Batch<B>) -> RegressionOutput<B> {
        self.forward(&batch)
    }
}

/// A batch of inputs `[n, 2]` and targets `[n, 1]`.
#[derive(Clone, Debug)]
pub struct Batch<B: Backend> {
    x: Tensor<B, 2>,
    y: Tensor<B, 2>,
}

/// Stacks `([x1, x2], y)` samples into a [`Batch`].
#[derive(Clone, Default)]
struct Stack;

impl<B: Backend> Batcher<B, ([f32; 2], f32), Batch<B>> for Stack {
    fn batch(&self, items: Vec<([f32; 2], f32)>, device: &B::Device) -> Batch<B> {
        let n = items.len();
        let x: Vec<f32> = items.iter().flat_map(|(x, _)| *x).collect();
        let y: Vec<f32> = items.iter().map(|(_, y)| *y).collect();
        Batch {
            x: Tensor::from_data(TensorData::new(x, [n, 2]), device),
            y: Tensor::from_data(TensorData::new(y, [n, 1]), device),
        }
    }
}

/// `n` samples of `y = 2·x1 − 3·x2 + 0.5` on a deterministic grid.
fn samples(n: usize, offset: usize) -> Vec<([f32; 2], f32)> {
    (0..n)
        .map(|i| {
            let t = (i + offset) as f32;
            let x = [(t * 0.37).sin(), (t * 0.11).cos()];
            (x, 2.0 * x[0] - 3.0 * x[1] + 0.5)
        })
        .collect()
}

/// Trains for `epochs` epochs (24 train and 8 valid samples, batches of 4),
/// logging to TensorBoard under `logdir`; Burn's own artifacts go to
/// `artifacts`.
pub fn train(logdir: &Path, artifacts: &Path, epochs: usize) -> Result<(), Box<dyn Error>> {
    let device = Default::default();
    let train = DataLoaderBuilder::new(Stack)
        .batch_size(4)
        .build(InMemDataset::new(samples(24, 0)));
    let valid = DataLoaderBuilder::new(Stack)
        .batch_size(4)
        .build(InMemDataset::new(samples(8, 100)));
    let learner = Learner::new(
        Regression::<TrainBackend>::new(&device),
        SgdConfig::new().init(),
        0.2,
    );
    // Early stopping reads the valid loss back through the logger's
    // `read_numeric` (the only registered logger here).
    let stopping = MetricEarlyStoppingStrategy::new(
        &LossMetric::<TrainBackend>::new(),
        Aggregate::Mean,
        Direction::Lowest,
        Split::Valid,
        StoppingCondition::NoImprovementSince { n_epochs: 5 },
    );
    SupervisedTraining::new(artifacts, train, valid)
        .num_epochs(epochs)
        .metric_train_numeric(LossMetric::new())
        .metric_valid_numeric(LossMetric::new())
        .metric_train_numeric(LearningRateMetric::new())
        .with_metric_logger(TensorBoardMetricLogger::new(logdir)?)
        .early_stopping(stopping)
        .with_application_logger(None)
        .launch(learner);
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let logdir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "runs/burn".into());
    let artifacts = std::env::temp_dir().join(format!("tbseg-burn-{}", std::process::id()));
    train(Path::new(&logdir), &artifacts, 5)?;
    std::fs::remove_dir_all(&artifacts).ok();
    println!("wrote {logdir}/train and {logdir}/valid");
    Ok(())
}
