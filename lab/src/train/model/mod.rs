//! The lab's networks, each a struct of named layers.
//!
//! [`ModelKind`] names a task (`--model`); [`Model`] owns the var store and
//! the network built for it, and dispatches to that network's `forward`:
//!
//! - `simple` (task 1): two matrix products ([`SimpleConfig`]);
//! - `cnn` and `cnn-dice` (tasks 2 and 3): the fully convolutional network
//!   ([`CnnConfig`]);
//! - `unet`, beyond the lab ([`UnetConfig`]).
//!
//! Each network is built against a var store path with the TensorFlow
//! variable names of [`crate::variables`] (or, for the U-Net, its own), and
//! its `forward` is also what draws its TensorBoard graph
//! ([`Model::graph`]). The shared pieces have files of their own:
//! TensorFlow's `SAME` padding ([`same_padding`] and the layers built on
//! it), channels-last memory ([`to_channels_last`]), the lab's initialiser
//! ([`truncated_normal`]), the graph recorder ([`GraphNode`]) and the
//! conversion to and from the TensorFlow layouts of the lab's checkpoints
//! ([`Model::export_tf`], [`Model::import_tf`]).

mod channels_last;
mod cnn;
mod graph;
mod init;
mod logits;
mod padding;
mod simple;
mod tf_layout;
mod unet;

pub use channels_last::{is_channels_last, to_channels_last};
pub use cnn::CnnConfig;
pub use graph::GraphNode;
pub use init::{truncated_normal, INIT_STDDEV};
pub use logits::{cross_entropy_mean, CLASSES};
pub use padding::{conv2d_same, conv_transpose2d_same, max_pool_same, same_padding};
pub use simple::SimpleConfig;
pub use tf_layout::TfVariable;
pub use unet::UnetConfig;

use tch::{nn, Device, Kind, TchError, Tensor};

use super::TrainError;
use cnn::Cnn;
use graph::{Trace, INPUT};
use simple::Simple;
use tf_layout::Variables;
use unet::Unet;

/// Which of the lab's networks to train (`--model`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum ModelKind {
    /// Task 1: two matrix products, no activations, no biases.
    Simple,
    /// Task 2: the fully convolutional network, scored by pixel accuracy.
    Cnn,
    /// Task 3: the same network, scored by the Dice metric.
    CnnDice,
    /// Beyond the lab: a small U-Net (4 poolings, 8 to 128 channels), scored by Dice.
    Unet,
}

/// How a model's predictions are scored on the validation file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// Fraction of pixels whose label is among the top-1 logits (the lab's
    /// "precision"; ties count as correct, like `tf.nn.in_top_k`).
    PixelAccuracy,
    /// Dataset-level Dice of the LV class, `2·ΣI / (ΣL + ΣP)`.
    Dice,
}

impl ModelKind {
    /// The lab's three tasks, in order (`unet` goes beyond the lab).
    pub const ALL: [ModelKind; 3] = [ModelKind::Simple, ModelKind::Cnn, ModelKind::CnnDice];

    /// The name used on the command line and for the default log folder.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Simple => "simple",
            ModelKind::Cnn => "cnn",
            ModelKind::CnnDice => "cnn-dice",
            ModelKind::Unet => "unet",
        }
    }

    /// The lab's network for this task at full size (256x256 images).
    pub fn architecture(self) -> Architecture {
        match self {
            ModelKind::Simple => Architecture::Simple(SimpleConfig::default()),
            ModelKind::Cnn | ModelKind::CnnDice => Architecture::Cnn(CnnConfig::default()),
            ModelKind::Unet => Architecture::Unet(UnetConfig::default()),
        }
    }

    /// The TensorBoard tag of the training loss (the lab's loss op name).
    pub fn loss_tag(self) -> &'static str {
        match self {
            ModelKind::Simple => "0simple_cross_entropy_mean",
            ModelKind::Cnn => "1cnn_cross_entropy_mean",
            ModelKind::CnnDice => "2cnn_cross_entropy_mean",
            ModelKind::Unet => "3unet_loss",
        }
    }

    /// The learning-rate tag; `None` for `simple`, whose rate is constant
    /// and which the lab did not log.
    pub fn learning_rate_tag(self) -> Option<&'static str> {
        match self {
            ModelKind::Simple => None,
            ModelKind::Cnn => Some("1learning_rate"),
            ModelKind::CnnDice => Some("2learning_rate"),
            ModelKind::Unet => Some("3learning_rate"),
        }
    }

    /// Whether the learning rate follows the staircase decay; the lab's
    /// `simple` task has no decay flags.
    pub fn decays_learning_rate(self) -> bool {
        self != ModelKind::Simple
    }

    /// How evaluation scores this task.
    pub fn metric(self) -> MetricKind {
        match self {
            ModelKind::Simple | ModelKind::Cnn => MetricKind::PixelAccuracy,
            ModelKind::CnnDice | ModelKind::Unet => MetricKind::Dice,
        }
    }

    /// The TensorBoard tag of the evaluation metric.
    pub fn eval_tag(self) -> &'static str {
        match self {
            ModelKind::Simple => "0simple_accuracy",
            ModelKind::Cnn => "1cnn_accuracy",
            // The lab's Dice tag, so the U-Net's curve lands on the same
            // chart as task 3's.
            ModelKind::CnnDice | ModelKind::Unet => "2Dice metric",
        }
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which network to build, with its sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Architecture {
    /// The `simple` network.
    Simple(SimpleConfig),
    /// The `cnn` / `cnn-dice` network.
    Cnn(CnnConfig),
    /// The U-Net.
    Unet(UnetConfig),
}

impl Architecture {
    /// Side of the square input image in pixels.
    pub fn image_size(&self) -> i64 {
        match self {
            Architecture::Simple(config) => config.image_size,
            Architecture::Cnn(config) => config.image_size,
            Architecture::Unet(config) => config.image_size,
        }
    }
}

/// The network a [`Model`] runs.
enum Net {
    Simple(Simple),
    Cnn(Cnn),
    Unet(Unet),
}

impl Net {
    fn forward(&self, images: &Tensor, trace: Option<&mut Trace>) -> Result<Tensor, TchError> {
        match self {
            Net::Simple(net) => net.forward(images, trace),
            Net::Cnn(net) => net.forward(images, trace),
            Net::Unet(net) => net.forward(images, trace),
        }
    }
}

/// One of the lab's networks with its variables.
pub struct Model {
    kind: ModelKind,
    architecture: Architecture,
    var_store: nn::VarStore,
    variables: Variables,
    net: Net,
}

impl Model {
    /// The lab's network for `kind`, freshly initialised on `device`.
    pub fn new(kind: ModelKind, device: Device) -> Model {
        Model::with_architecture(kind, kind.architecture(), device)
    }

    /// A network of the given sizes (tests use small ones).
    pub fn with_architecture(kind: ModelKind, architecture: Architecture, device: Device) -> Model {
        let var_store = nn::VarStore::new(device);
        let mut variables = Variables::default();
        let root = var_store.root();
        let net = match architecture {
            Architecture::Simple(config) => Net::Simple(Simple::new(&root, config, &mut variables)),
            Architecture::Cnn(config) => Net::Cnn(Cnn::new(&root, config, &mut variables)),
            Architecture::Unet(config) => Net::Unet(Unet::new(&root, config, &mut variables)),
        };
        Model {
            kind,
            architecture,
            var_store,
            variables,
            net,
        }
    }

    /// Which task this model is for.
    pub fn kind(&self) -> ModelKind {
        self.kind
    }

    /// The network's sizes.
    pub fn architecture(&self) -> Architecture {
        self.architecture
    }

    /// Where the variables live.
    pub fn device(&self) -> Device {
        self.var_store.device()
    }

    /// The var store holding the trainable variables (for an optimiser).
    pub fn var_store(&self) -> &nn::VarStore {
        &self.var_store
    }

    /// Number of trainable scalars.
    pub fn parameter_count(&self) -> i64 {
        self.variables.parameter_count()
    }

    /// Whether the forward pass keeps its activations channels-last (NHWC
    /// strides behind the NCHW shape): the convolutional network on the CPU.
    ///
    /// libtorch's CPU convolutions take NCHW tensors through oneDNN's blocked
    /// kernels and reorder every activation and its gradient to and from that
    /// layout; its NCHW max pooling is scalar code. On channels-last tensors
    /// both use NHWC kernels (oneDNN `brgconv`, a vectorised pool) and keep
    /// the layout; BENCHMARKS.md has the per-kernel figures. On CUDA, cuDNN
    /// gets NCHW as before.
    ///
    /// The convolution kernels are stored channels-last too (`[out, in, kh,
    /// kw]` shape, `[out, kh, kw, in]` memory): libtorch would otherwise
    /// copy every kernel to that layout before each convolution and each of
    /// its gradients. Checkpoints and exports do not see the difference.
    pub fn runs_channels_last(&self) -> bool {
        match &self.net {
            Net::Cnn(cnn) => cnn.runs_channels_last(),
            Net::Simple(_) | Net::Unet(_) => false,
        }
    }

    /// Logits `[N, 2, H, W]` for images `[N, 1, H, W]`, or libtorch's
    /// error (out of memory, a wrong input shape).
    pub fn forward(&self, images: &Tensor) -> Result<Tensor, TchError> {
        self.net.forward(images, None)
    }

    /// The graph of this network as TensorFlow would name it: the input
    /// placeholder `x`, one `VariableV2` node per variable, and one node per
    /// operation of `forward`, with the shape it produced on a
    /// `batch`-sized zero input (run without gradients).
    pub fn graph(&self, batch: i64) -> Result<Vec<GraphNode>, TchError> {
        let size = self.architecture.image_size();
        let input = Tensor::f_zeros([batch, 1, size, size], (Kind::Float, self.device()))?;
        let mut trace = Trace::default();
        trace.push(GraphNode::activation(INPUT, "Placeholder", &input));
        for (name, shape) in self.variables.tf_shapes() {
            let shape = shape.iter().map(|&d| d as i64).collect();
            trace.push(GraphNode::new(name, "VariableV2", shape));
        }
        let _logits = tch::no_grad(|| self.net.forward(&input, Some(&mut trace)))?;
        Ok(trace.into_nodes())
    }

    /// Every variable in TensorFlow's name, layout and shape, copied to
    /// the CPU, or libtorch's error (a failed copy is an error, never
    /// empty values).
    pub fn export_tf(&self) -> Result<Vec<TfVariable>, TchError> {
        self.variables.export()
    }

    /// Names and TensorFlow shapes of the variables, in order.
    pub fn tf_variable_shapes(&self) -> Vec<(String, Vec<u64>)> {
        self.variables.tf_shapes()
    }

    /// Overwrites the variable `name` with TensorFlow-layout `values` of
    /// TensorFlow shape `shape`.
    pub fn import_tf(
        &mut self,
        name: &str,
        shape: &[u64],
        values: &[f32],
    ) -> Result<(), TrainError> {
        self.variables.import(name, shape, values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(tensor: &Tensor) -> Vec<f32> {
        Vec::<f32>::try_from(tensor.flatten(0, -1)).expect("float tensor")
    }

    fn tiny_simple(image_size: i64, hidden: i64) -> Model {
        let config = SimpleConfig { image_size, hidden };
        Model::with_architecture(ModelKind::Simple, Architecture::Simple(config), Device::Cpu)
    }

    #[test]
    fn simple_shapes_through_a_reduced_network() {
        let model = tiny_simple(8, 5);
        assert!(
            !model.runs_channels_last(),
            "matrix products have no layout to gain"
        );
        let logits = model
            .forward(&Tensor::ones([3, 1, 8, 8], (Kind::Float, Device::Cpu)))
            .unwrap();
        assert_eq!(logits.size(), [3, 2, 8, 8]);
        assert_eq!(
            model.tf_variable_shapes(),
            vec![
                ("Hidden1/W_fc".to_string(), vec![64, 5]),
                ("Final/W_fc2".to_string(), vec![5, 128])
            ]
        );
        assert_eq!(model.parameter_count(), 64 * 5 + 5 * 128);
        assert_eq!(
            ModelKind::Simple.architecture(),
            Architecture::Simple(SimpleConfig {
                image_size: 256,
                hidden: 512
            })
        );
    }

    #[test]
    fn simple_logits_put_the_class_fastest_like_tf_reshape() {
        // With identity-like weights the flat output index 2·p + c must land
        // at class c of pixel p.
        let mut model = tiny_simple(2, 8);
        let mut w1 = vec![0.0f32; 4 * 8];
        for p in 0..4 {
            w1[p * 8 + p] = 1.0;
        }
        let w2: Vec<f32> = (0..8 * 8)
            .map(|i| if i % 9 == 0 { 1.0 } else { 0.0 })
            .collect();
        model.import_tf("Hidden1/W_fc", &[4, 8], &w1).unwrap();
        model.import_tf("Final/W_fc2", &[8, 8], &w2).unwrap();
        // Input pixel p = p + 1; flat output = [1, 2, 3, 4, 0, 0, 0, 0]:
        // pixel 0 → (1, 2), pixel 1 → (3, 4), pixels 2, 3 → (0, 0).
        let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).reshape([1, 1, 2, 2]);
        let logits = model.forward(&x).unwrap();
        assert_eq!(values(&logits.select(1, 0)), [1.0, 3.0, 0.0, 0.0]);
        assert_eq!(values(&logits.select(1, 1)), [2.0, 4.0, 0.0, 0.0]);
    }

    #[test]
    fn simple_graph_is_the_labs_with_real_shapes() {
        let graph = tiny_simple(8, 5).graph(2).unwrap();
        let summary: Vec<(&str, &str, Vec<&str>, &[i64])> = graph
            .iter()
            .map(|n| {
                let inputs = n.inputs.iter().map(String::as_str).collect();
                (n.name.as_str(), n.op.as_str(), inputs, &n.output_shape[..])
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("x", "Placeholder", vec![], &[2, 8, 8, 1][..]),
                ("Hidden1/W_fc", "VariableV2", vec![], &[64, 5]),
                ("Final/W_fc2", "VariableV2", vec![], &[5, 128]),
                ("Reshape", "Reshape", vec!["x"], &[2, 64]),
                (
                    "Hidden1/MatMul",
                    "MatMul",
                    vec!["Reshape", "Hidden1/W_fc"],
                    &[2, 5]
                ),
                (
                    "Final/MatMul",
                    "MatMul",
                    vec!["Hidden1/MatMul", "Final/W_fc2"],
                    &[2, 128]
                ),
                ("Reshape_1", "Reshape", vec!["Final/MatMul"], &[2, 8, 8, 2]),
            ]
        );
    }

    #[test]
    fn import_rejects_wrong_names_and_shapes() {
        let mut model = tiny_simple(2, 3);
        assert!(matches!(
            model.import_tf("Conv1/kernel", &[1], &[0.0]),
            Err(TrainError::UnknownVariable { .. })
        ));
        assert!(matches!(
            model.import_tf("Hidden1/W_fc", &[3, 4], &[0.0; 12]),
            Err(TrainError::VariableShape { .. })
        ));
    }
}
