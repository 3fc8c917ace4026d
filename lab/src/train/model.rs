//! The lab's three networks, layer for layer.
//!
//! A [`Model`] is a list of `Layer`s run in order plus the variables they
//! use. Both networks are built from that one list, so the forward pass,
//! the TensorBoard graph ([`Model::graph`]) and the checkpoint names all come
//! from the same place. Variables live in a `tch` var store in libtorch's
//! layouts; [`Model::export_tf`] and [`Model::import_tf`] convert to and from
//! the TensorFlow names and layouts the lab's checkpoints use.
//!
//! TensorFlow's `SAME` padding is reproduced exactly, including its extra
//! pixel after (bottom/right) when the total padding is odd: libtorch's
//! symmetric `padding` would shift the sampling grid by one pixel.

use tch::{nn, Device, Kind, TchError, Tensor};

use super::unet::{Unet, UnetConfig};
use super::TrainError;
use crate::variables::{
    CONV1_KERNEL, CONV2_KERNEL, CONV3_KERNEL, CONV4_KERNEL, FINAL_W_FC2, HIDDEN1_W_FC,
    SCORE_CLASSES_KERNEL, UPSCORE_KERNEL,
};

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

/// Sizes of the `simple` network. The lab's values are the default; tests
/// use small ones through the same code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimpleConfig {
    /// Side of the square input image in pixels.
    pub image_size: i64,
    /// Width of the hidden layer (the lab's `hidden = 512`).
    pub hidden: i64,
}

impl Default for SimpleConfig {
    fn default() -> Self {
        SimpleConfig {
            image_size: 256,
            hidden: 512,
        }
    }
}

/// Sizes of the fully convolutional network. The lab's values are the
/// default; the image side must be a multiple of 16 (two stride-2
/// convolutions and two 2x2 pools).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CnnConfig {
    /// Side of the square input image in pixels.
    pub image_size: i64,
    /// Output channels of Conv1, Conv2, Conv3 and conv4.
    pub channels: [i64; 4],
}

impl Default for CnnConfig {
    fn default() -> Self {
        CnnConfig {
            image_size: 256,
            channels: [100, 200, 300, 300],
        }
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

/// Number of classes: 0 = background, 1 = left ventricle.
pub const CLASSES: i64 = 2;

/// The lab's weight initialiser: `truncated_normal(stddev = 0.1)`.
pub const INIT_STDDEV: f64 = 0.1;

/// How a variable's libtorch layout maps onto TensorFlow's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// A matrix stored `[in, out]` in both (used with `matmul`).
    Matrix,
    /// A bias vector, the same in both.
    Vector,
    /// Convolution kernel: torch `[out, in, kh, kw]`, TF `[kh, kw, in, out]`.
    Conv,
    /// Transposed-convolution kernel: torch `[in, out, kh, kw]`, TF
    /// `[kh, kw, out, in]`.
    ConvTranspose,
}

impl Layout {
    /// The permutation taking the torch layout to the TF layout. Both 4-D
    /// cases happen to be the same permutation.
    fn to_tf(self) -> Option<[i64; 4]> {
        match self {
            Layout::Matrix | Layout::Vector => None,
            Layout::Conv | Layout::ConvTranspose => Some([2, 3, 1, 0]),
        }
    }

    /// The inverse of [`Layout::to_tf`].
    fn to_torch(self) -> Option<[i64; 4]> {
        match self {
            Layout::Matrix | Layout::Vector => None,
            Layout::Conv | Layout::ConvTranspose => Some([3, 2, 0, 1]),
        }
    }
}

/// A trainable tensor with its TensorFlow name (e.g. `Conv1/kernel`).
pub(crate) struct Variable {
    tf_name: String,
    layout: Layout,
    tensor: Tensor,
}

impl Variable {
    /// A variable named `tf_name` whose TF layout follows `layout`.
    pub(crate) fn new(tf_name: String, layout: Layout, tensor: Tensor) -> Variable {
        Variable {
            tf_name,
            layout,
            tensor,
        }
    }
}

/// One variable in TensorFlow's name, layout and shape, as stored in the
/// lab's checkpoints.
#[derive(Clone, Debug, PartialEq)]
pub struct TfVariable {
    /// TensorFlow variable name, e.g. `Conv1/kernel` or `Hidden1/W_fc`.
    pub name: String,
    /// Shape in TensorFlow's layout.
    pub shape: Vec<u64>,
    /// Row-major values in TensorFlow's layout.
    pub values: Vec<f32>,
}

/// What one layer computes.
enum Op {
    /// Reshape every example to `shape` (the batch dimension is kept).
    Reshape { shape: Vec<i64> },
    /// `x · W` with `W` stored `[in, out]`.
    MatMul { weight: usize },
    /// Convolution with TensorFlow `SAME` padding, no bias.
    Conv2d { kernel: usize, stride: i64 },
    /// Rectified linear unit.
    Relu,
    /// Max pooling `size`x`size`, stride `size`, `SAME` padding.
    MaxPool { size: i64 },
    /// `tf.nn.dropout(x, keep_prob)`. The lab uses keep_prob 1.0, which
    /// TensorFlow turns into the identity; kept as a layer so the graph
    /// shows it.
    Dropout { keep_prob: f64 },
    /// Transposed convolution with TensorFlow `SAME` semantics: the output
    /// is exactly `stride` times the input.
    ConvTranspose2d { kernel: usize, stride: i64 },
    /// The `simple` model's `[N, H·W·C]` logits (class fastest, as in TF's
    /// `reshape([-1, H, W, 2])`) to libtorch's `[N, C, H, W]`.
    ClassesFirst { height: i64, width: i64 },
}

/// A layer: a TensorFlow node name (scope/op) and what it computes.
struct Layer {
    node: String,
    op: Op,
}

/// Padding (before, after) that TensorFlow's `SAME` adds to one spatial
/// dimension of size `input` for a `kernel`-wide window with `stride`:
/// the output has `ceil(input / stride)` elements and the odd pixel goes
/// after.
pub fn same_padding(input: i64, kernel: i64, stride: i64) -> (i64, i64) {
    let output = (input + stride - 1) / stride;
    let total = ((output - 1) * stride + kernel - input).max(0);
    (total / 2, total - total / 2)
}

/// 2-D convolution with TensorFlow's `SAME` padding on an NCHW input and a
/// torch-layout `[out, in, kh, kw]` kernel, no bias.
pub fn conv2d_same(input: &Tensor, kernel: &Tensor, stride: i64) -> Result<Tensor, TchError> {
    let (height, width) = spatial(input);
    let (kh, kw) = spatial(kernel);
    let (top, bottom) = same_padding(height, kh, stride);
    let (left, right) = same_padding(width, kw, stride);
    let no_bias: Option<&Tensor> = None;
    if top == bottom && left == right {
        // Symmetric: let the convolution pad, which avoids a copy.
        return input.f_conv2d(kernel, no_bias, [stride, stride], [top, left], [1, 1], 1);
    }
    input
        .f_constant_pad_nd([left, right, top, bottom])?
        .f_conv2d(kernel, no_bias, [stride, stride], [0, 0], [1, 1], 1)
}

/// Max pooling with TensorFlow's `SAME` padding (padded cells never win).
pub fn max_pool_same(input: &Tensor, size: i64) -> Result<Tensor, TchError> {
    let (height, width) = spatial(input);
    let (top, bottom) = same_padding(height, size, size);
    let (left, right) = same_padding(width, size, size);
    let padded = if top + bottom + left + right == 0 {
        input.shallow_clone()
    } else {
        input.f_pad([left, right, top, bottom], "constant", f64::NEG_INFINITY)?
    };
    padded.f_max_pool2d([size, size], [size, size], [0, 0], [1, 1], false)
}

/// `tf.nn.conv2d_transpose(..., padding="SAME")` on NCHW with a torch-layout
/// `[in, out, kh, kw]` kernel: output side = input side · stride.
///
/// TensorFlow keeps the window of the full transposed output that starts at
/// the `SAME` padding-before of the matching forward convolution. libtorch's
/// `padding = before` trims that much from both ends; when the total is odd
/// one extra row/column is left at the end and is cropped here.
pub fn conv_transpose2d_same(
    input: &Tensor,
    kernel: &Tensor,
    stride: i64,
) -> Result<Tensor, TchError> {
    let (height, width) = spatial(input);
    let (kh, kw) = spatial(kernel);
    let (out_h, out_w) = (height * stride, width * stride);
    let (top, _) = same_padding(out_h, kh, stride);
    let (left, _) = same_padding(out_w, kw, stride);
    let no_bias: Option<&Tensor> = None;
    // NCHW even when the layers before ran channels-last: on the CPU,
    // libtorch's channels-last transposed convolution computes its weight
    // gradient several times slower, and the input here is tiny
    // (`[N, 2, H/16, W/16]` in the lab), so the copy costs nothing.
    let full = input.f_contiguous()?.f_conv_transpose2d(
        kernel,
        no_bias,
        [stride, stride],
        [top, left],
        [0, 0],
        1,
        [1, 1],
    )?;
    full.f_narrow(2, 0, out_h)?.f_narrow(3, 0, out_w)
}

/// `x` (`[N, C, H, W]`) with channels-last strides `[H·W·C, 1, W·C, C]`,
/// the values unchanged; `x` itself when it already has them.
///
/// Written with explicit strides because the usual route (`permute`,
/// `contiguous`, `permute` back) leaves a one-channel image as it is:
/// libtorch counts it as contiguous either way and would run the first
/// convolution in NCHW.
pub fn to_channels_last(x: &Tensor) -> Result<Tensor, TchError> {
    let size = x.size();
    let [_, channels, height, width] = size[..] else {
        return Ok(x.shallow_clone());
    };
    let strides = [height * width * channels, 1, width * channels, channels];
    if x.stride() == strides {
        return Ok(x.shallow_clone());
    }
    let mut out = Tensor::f_empty_strided(&size, strides, (x.kind(), x.device()))?;
    out.f_copy_(x)?;
    Ok(out)
}

/// Whether `x` is `[N, C, H, W]` with exactly channels-last strides.
pub fn is_channels_last(x: &Tensor) -> bool {
    match x.size()[..] {
        [_, channels, height, width] => {
            x.stride() == [height * width * channels, 1, width * channels, channels]
        }
        _ => false,
    }
}

fn spatial(tensor: &Tensor) -> (i64, i64) {
    let size = tensor.size();
    (size[size.len() - 2], size[size.len() - 1])
}

/// Samples `truncated_normal(stddev)` like TensorFlow: normal values, with
/// every value further than two standard deviations from 0 drawn again.
pub fn truncated_normal(shape: &[i64], stddev: f64, device: Device) -> Tensor {
    tch::no_grad(|| {
        let mut values = Tensor::randn(shape, (Kind::Float, device)) * stddev;
        loop {
            let outside = values.abs().gt(2.0 * stddev);
            if !bool::try_from(outside.any()).unwrap_or(false) {
                return values;
            }
            let fresh = Tensor::randn(shape, (Kind::Float, device)) * stddev;
            values = fresh.where_self(&outside, &values);
        }
    })
}

/// One node of the graph a model draws of itself (see [`Model::graph`]).
#[derive(Clone, Debug, PartialEq)]
pub struct GraphNode {
    /// TensorFlow node name, e.g. `Conv1/Conv2D`.
    pub name: String,
    /// TensorFlow op type, e.g. `Conv2D`, `VariableV2`, `Placeholder`.
    pub op: String,
    /// Names of the nodes feeding this one.
    pub inputs: Vec<String>,
    /// Shape of the output in TensorFlow's layout (NHWC activations, TF
    /// kernel layouts), taken from the tensor the layer actually produced.
    pub output_shape: Vec<i64>,
    /// Integer-list attributes (`strides`, `ksize`).
    pub int_list_attrs: Vec<(String, Vec<i64>)>,
    /// String attributes (`padding`, `data_format`).
    pub string_attrs: Vec<(String, String)>,
    /// Float attributes (`keep_prob`).
    pub float_attrs: Vec<(String, f32)>,
}

impl GraphNode {
    fn new(name: &str, op: &str, output_shape: Vec<i64>) -> GraphNode {
        GraphNode {
            name: name.to_string(),
            op: op.to_string(),
            inputs: Vec::new(),
            output_shape,
            int_list_attrs: Vec::new(),
            string_attrs: Vec::new(),
            float_attrs: Vec::new(),
        }
    }
}

/// NCHW → NHWC for 4-D shapes (TensorBoard shows the lab's layout).
fn tf_activation_shape(shape: &[i64]) -> Vec<i64> {
    match shape {
        [n, c, h, w] => vec![*n, *h, *w, *c],
        other => other.to_vec(),
    }
}

/// One of the lab's networks with its variables.
pub struct Model {
    kind: ModelKind,
    architecture: Architecture,
    var_store: nn::VarStore,
    variables: Vec<Variable>,
    layers: Vec<Layer>,
    /// The U-Net, which runs its own `forward` instead of `layers`.
    unet: Option<Unet>,
}

impl Model {
    /// The lab's network for `kind`, freshly initialised on `device`.
    pub fn new(kind: ModelKind, device: Device) -> Model {
        Model::with_architecture(kind, kind.architecture(), device)
    }

    /// A network of the given sizes (tests use small ones).
    pub fn with_architecture(kind: ModelKind, architecture: Architecture, device: Device) -> Model {
        let var_store = nn::VarStore::new(device);
        let mut builder = Builder {
            root: var_store.root(),
            variables: Vec::new(),
            layers: Vec::new(),
            channels_last_kernels: channels_last(architecture, device),
        };
        let mut unet = None;
        match architecture {
            Architecture::Simple(config) => builder.simple(config),
            Architecture::Cnn(config) => builder.cnn(config),
            Architecture::Unet(config) => {
                unet = Some(Unet::new(&builder.root, config, &mut builder.variables));
            }
        }
        let Builder {
            variables, layers, ..
        } = builder;
        Model {
            kind,
            architecture,
            var_store,
            variables,
            layers,
            unet,
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
        self.variables.iter().map(|v| v.tensor.numel() as i64).sum()
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
        channels_last(self.architecture, self.device())
    }

    /// Logits `[N, 2, H, W]` for images `[N, 1, H, W]`, or libtorch's
    /// error (out of memory, a wrong input shape).
    pub fn forward(&self, images: &Tensor) -> Result<Tensor, TchError> {
        match &self.unet {
            Some(unet) => unet.forward(images),
            None => self.run(images, |_, _| {}),
        }
    }

    /// Runs the layers in order, telling `observe` each layer's output
    /// shape.
    ///
    /// A ReLU directly followed by a max pool runs as pool, then ReLU: the
    /// two commute exactly (a maximum of rectified values is the rectified
    /// maximum, and the gradient reaches the same pixel), and rectifying
    /// the pooled tensor touches a quarter of the values, forward and
    /// backward. The layers, and so the graph, keep the lab's order.
    fn run(
        &self,
        images: &Tensor,
        mut observe: impl FnMut(&Layer, &[i64]),
    ) -> Result<Tensor, TchError> {
        let mut x = if self.runs_channels_last() {
            to_channels_last(images)?
        } else {
            images.shallow_clone()
        };
        let mut layers = self.layers.iter().peekable();
        while let Some(layer) = layers.next() {
            let pool_next = layers.next_if(|next| {
                matches!(layer.op, Op::Relu) && matches!(next.op, Op::MaxPool { .. })
            });
            match pool_next {
                Some(pool) => {
                    observe(layer, &x.size());
                    x = self.apply(&pool.op, &x)?.f_relu()?;
                    observe(pool, &x.size());
                }
                None => {
                    x = self.apply(&layer.op, &x)?;
                    observe(layer, &x.size());
                }
            }
        }
        Ok(x)
    }

    fn apply(&self, op: &Op, x: &Tensor) -> Result<Tensor, TchError> {
        let var = |index: usize| &self.variables[index].tensor;
        match op {
            Op::Reshape { shape } => {
                let mut full = vec![x.size()[0]];
                full.extend_from_slice(shape);
                x.f_reshape(full)
            }
            Op::MatMul { weight } => x.f_matmul(var(*weight)),
            Op::Conv2d { kernel, stride } => conv2d_same(x, var(*kernel), *stride),
            Op::Relu => x.f_relu(),
            Op::MaxPool { size } => max_pool_same(x, *size),
            Op::Dropout { keep_prob } => {
                if *keep_prob >= 1.0 {
                    Ok(x.shallow_clone())
                } else {
                    x.f_dropout(1.0 - keep_prob, true)
                }
            }
            Op::ConvTranspose2d { kernel, stride } => {
                conv_transpose2d_same(x, var(*kernel), *stride)
            }
            Op::ClassesFirst { height, width } => x
                .f_reshape([-1, *height, *width, CLASSES])?
                .f_permute([0, 3, 1, 2]),
        }
    }

    /// The graph of this network as TensorFlow would name it: the input
    /// placeholder `x`, one `VariableV2` node per variable, and one node per
    /// layer with the shape the layer produced on a `batch`-sized zero input
    /// (run without gradients).
    pub fn graph(&self, batch: i64) -> Result<Vec<GraphNode>, TchError> {
        let size = self.architecture.image_size();
        let input = Tensor::f_zeros([batch, 1, size, size], (Kind::Float, self.device()))?;
        let mut nodes = vec![GraphNode::new(
            "x",
            "Placeholder",
            tf_activation_shape(&input.size()),
        )];
        for variable in &self.variables {
            nodes.push(GraphNode::new(
                &variable.tf_name,
                "VariableV2",
                self.tf_shape(variable),
            ));
        }
        if let Some(unet) = &self.unet {
            return unet.graph(batch, &nodes[1..]);
        }
        let mut previous = "x".to_string();
        let _logits = tch::no_grad(|| {
            self.run(&input, |layer, output| {
                let mut node = self.layer_node(layer, tf_activation_shape(output));
                node.inputs.insert(0, previous.clone());
                previous = node.name.clone();
                nodes.push(node);
            })
        })?;
        Ok(nodes)
    }

    fn layer_node(&self, layer: &Layer, output_shape: Vec<i64>) -> GraphNode {
        let variable_name = |index: &usize| self.variables[*index].tf_name.clone();
        let (op, variable) = match &layer.op {
            Op::Reshape { .. } | Op::ClassesFirst { .. } => ("Reshape", None),
            Op::MatMul { weight } => ("MatMul", Some(variable_name(weight))),
            Op::Conv2d { kernel, .. } => ("Conv2D", Some(variable_name(kernel))),
            Op::Relu => ("Relu", None),
            Op::MaxPool { .. } => ("MaxPool", None),
            Op::Dropout { .. } => ("Identity", None),
            Op::ConvTranspose2d { kernel, .. } => {
                ("Conv2DBackpropInput", Some(variable_name(kernel)))
            }
        };
        let mut node = GraphNode::new(&layer.node, op, output_shape);
        node.inputs.extend(variable);
        match &layer.op {
            Op::Conv2d { stride, .. } | Op::ConvTranspose2d { stride, .. } => {
                node.int_list_attrs
                    .push(("strides".into(), vec![1, *stride, *stride, 1]));
                node.string_attrs.push(("padding".into(), "SAME".into()));
                node.string_attrs
                    .push(("data_format".into(), "NHWC".into()));
            }
            Op::MaxPool { size } => {
                node.int_list_attrs
                    .push(("ksize".into(), vec![1, *size, *size, 1]));
                node.int_list_attrs
                    .push(("strides".into(), vec![1, *size, *size, 1]));
                node.string_attrs.push(("padding".into(), "SAME".into()));
                node.string_attrs
                    .push(("data_format".into(), "NHWC".into()));
            }
            Op::Dropout { keep_prob } => node
                .float_attrs
                .push(("keep_prob".into(), *keep_prob as f32)),
            _ => {}
        }
        node
    }

    fn tf_shape(&self, variable: &Variable) -> Vec<i64> {
        let size = variable.tensor.size();
        match variable.layout.to_tf() {
            None => size,
            Some(perm) => perm.iter().map(|&axis| size[axis as usize]).collect(),
        }
    }

    /// Every variable in TensorFlow's name, layout and shape, copied to
    /// the CPU, or libtorch's error (a failed copy is an error, never
    /// empty values).
    pub fn export_tf(&self) -> Result<Vec<TfVariable>, TchError> {
        tch::no_grad(|| {
            self.variables
                .iter()
                .map(|variable| {
                    let tf = match variable.layout.to_tf() {
                        None => variable.tensor.shallow_clone(),
                        Some(perm) => variable.tensor.f_permute(perm)?,
                    };
                    let tf = tf
                        .f_to_device(Device::Cpu)?
                        .f_to_kind(Kind::Float)?
                        .f_contiguous()?;
                    let values = Vec::<f32>::try_from(tf.f_flatten(0, -1)?)?;
                    Ok(TfVariable {
                        name: variable.tf_name.clone(),
                        shape: tf.size().iter().map(|&d| d as u64).collect(),
                        values,
                    })
                })
                .collect()
        })
    }

    /// Names and TensorFlow shapes of the variables, in order.
    pub fn tf_variable_shapes(&self) -> Vec<(String, Vec<u64>)> {
        self.variables
            .iter()
            .map(|v| {
                (
                    v.tf_name.clone(),
                    self.tf_shape(v).iter().map(|&d| d as u64).collect(),
                )
            })
            .collect()
    }

    /// Overwrites the variable `name` with TensorFlow-layout `values` of
    /// TensorFlow shape `shape`.
    pub fn import_tf(
        &mut self,
        name: &str,
        shape: &[u64],
        values: &[f32],
    ) -> Result<(), TrainError> {
        let device = self.device();
        let index = self
            .variables
            .iter()
            .position(|v| v.tf_name == name)
            .ok_or_else(|| TrainError::UnknownVariable {
                name: name.to_string(),
            })?;
        let expected: Vec<u64> = self
            .tf_shape(&self.variables[index])
            .iter()
            .map(|&d| d as u64)
            .collect();
        let count: u64 = shape.iter().product();
        if expected != shape || count != values.len() as u64 {
            return Err(TrainError::VariableShape {
                name: name.to_string(),
                expected,
                found: shape.to_vec(),
            });
        }
        let variable = &mut self.variables[index];
        let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let tf = Tensor::f_from_slice(values)?.f_reshape(dims)?;
        let torch = match variable.layout.to_torch() {
            None => tf,
            Some(perm) => tf.f_permute(perm)?,
        };
        tch::no_grad(|| variable.tensor.f_copy_(&torch.f_to_device(device)?))?;
        Ok(())
    }
}

/// Whether a network runs channels-last (see [`Model::runs_channels_last`]).
fn channels_last(architecture: Architecture, device: Device) -> bool {
    matches!(architecture, Architecture::Cnn(_)) && device == Device::Cpu
}

/// Collects variables and layers while a network is described.
struct Builder<'a> {
    root: nn::Path<'a>,
    variables: Vec<Variable>,
    layers: Vec<Layer>,
    /// Store convolution kernels channels-last (see
    /// [`Model::runs_channels_last`]).
    channels_last_kernels: bool,
}

impl Builder<'_> {
    /// Adds a truncated-normal variable named `tf_name` (`scope/name`, one
    /// of the lab's names from [`crate::variables`]; torch shape `shape`).
    fn variable(&mut self, tf_name: &str, shape: &[i64], layout: Layout) -> usize {
        let (scope, name) = tf_name
            .split_once('/')
            .expect("the lab's variable names are scope/name");
        let path = self.root.sub(scope);
        let mut init = truncated_normal(shape, INIT_STDDEV, path.device());
        if self.channels_last_kernels && layout == Layout::Conv {
            // Only a memory layout: should the copy fail, NCHW still works.
            if let Ok(channels_last) = to_channels_last(&init) {
                init = channels_last;
            }
        }
        let tensor = path.add(name, init, true);
        self.variables.push(Variable {
            tf_name: tf_name.to_string(),
            layout,
            tensor,
        });
        self.variables.len() - 1
    }

    fn layer(&mut self, node: &str, op: Op) {
        self.layers.push(Layer {
            node: node.to_string(),
            op,
        });
    }

    /// Task 1 (`simple`): `x[N, 65536] · W_fc[65536, 512] · W_fc2[512, 131072]`,
    /// reshaped to `[N, 256, 256, 2]`.
    fn simple(&mut self, config: SimpleConfig) {
        let pixels = config.image_size * config.image_size;
        let w_fc = self.variable(HIDDEN1_W_FC, &[pixels, config.hidden], Layout::Matrix);
        let w_fc2 = self.variable(
            FINAL_W_FC2,
            &[config.hidden, pixels * CLASSES],
            Layout::Matrix,
        );
        self.layer(
            "Reshape",
            Op::Reshape {
                shape: vec![pixels],
            },
        );
        self.layer("Hidden1/MatMul", Op::MatMul { weight: w_fc });
        self.layer("Final/MatMul", Op::MatMul { weight: w_fc2 });
        let size = config.image_size;
        self.layer(
            "Reshape_1",
            Op::ClassesFirst {
                height: size,
                width: size,
            },
        );
    }

    /// Tasks 2 and 3 (`cnn`, `cnn-dice`): the fully convolutional network of
    /// the lab's `tf.layers` version (no biases).
    fn cnn(&mut self, config: CnnConfig) {
        let [c1, c2, c3, c4] = config.channels;
        let conv1 = self.variable(CONV1_KERNEL, &[c1, 1, 5, 5], Layout::Conv);
        let conv2 = self.variable(CONV2_KERNEL, &[c2, c1, 5, 5], Layout::Conv);
        let conv3 = self.variable(CONV3_KERNEL, &[c3, c2, 3, 3], Layout::Conv);
        let conv4 = self.variable(CONV4_KERNEL, &[c4, c3, 3, 3], Layout::Conv);
        let score = self.variable(SCORE_CLASSES_KERNEL, &[CLASSES, c4, 1, 1], Layout::Conv);
        let upscore = self.variable(
            UPSCORE_KERNEL,
            &[CLASSES, CLASSES, 31, 31],
            Layout::ConvTranspose,
        );
        self.layer(
            "Conv1/Conv2D",
            Op::Conv2d {
                kernel: conv1,
                stride: 2,
            },
        );
        self.layer("Conv1/Relu", Op::Relu);
        self.layer("Pool1/MaxPool", Op::MaxPool { size: 2 });
        self.layer(
            "Conv2/Conv2D",
            Op::Conv2d {
                kernel: conv2,
                stride: 2,
            },
        );
        self.layer("Conv2/Relu", Op::Relu);
        self.layer("Pool2/MaxPool", Op::MaxPool { size: 2 });
        self.layer(
            "Conv3/Conv2D",
            Op::Conv2d {
                kernel: conv3,
                stride: 1,
            },
        );
        self.layer("Conv3/Relu", Op::Relu);
        self.layer(
            "conv4/Conv2D",
            Op::Conv2d {
                kernel: conv4,
                stride: 1,
            },
        );
        self.layer("conv4/Relu", Op::Relu);
        self.layer("dropout/Identity", Op::Dropout { keep_prob: 1.0 });
        self.layer(
            "score_classes/Conv2D",
            Op::Conv2d {
                kernel: score,
                stride: 1,
            },
        );
        self.layer(
            "upscore/conv2d_transpose",
            Op::ConvTranspose2d {
                kernel: upscore,
                stride: 16,
            },
        );
    }
}

/// The lab's loss: per-pixel sparse softmax cross-entropy of logits
/// `[N, 2, H, W]` against class ids `[N, H, W]` (int64), averaged over all
/// `N·H·W` pixels.
pub fn cross_entropy_mean(logits: &Tensor, labels: &Tensor) -> Result<Tensor, TchError> {
    let no_weight: Option<&Tensor> = None;
    logits.f_cross_entropy_loss(labels, no_weight, tch::Reduction::Mean, -100, 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(tensor: &Tensor) -> Vec<f32> {
        Vec::<f32>::try_from(tensor.flatten(0, -1)).expect("float tensor")
    }

    fn tiny_cnn() -> Model {
        let config = CnnConfig {
            image_size: 32,
            channels: [3, 4, 5, 6],
        };
        Model::with_architecture(ModelKind::Cnn, Architecture::Cnn(config), Device::Cpu)
    }

    #[test]
    fn to_channels_last_sets_nhwc_strides_and_keeps_values() {
        for channels in [1, 3] {
            let x = Tensor::rand([2, channels, 5, 7], (Kind::Float, Device::Cpu));
            assert!(!is_channels_last(&x));
            let cl = to_channels_last(&x).unwrap();
            assert!(
                is_channels_last(&cl),
                "{channels} channel(s): {:?}",
                cl.stride()
            );
            assert_eq!(cl.stride(), [35 * channels, 1, 7 * channels, channels]);
            assert_eq!(values(&cl), values(&x));
            let again = to_channels_last(&cl).unwrap();
            assert_eq!(
                again.data_ptr(),
                cl.data_ptr(),
                "already channels-last: no copy"
            );
        }
    }

    /// The CPU forward pass (channels-last, pool before ReLU) must compute
    /// what the plain NCHW layers in the lab's order compute (same logits,
    /// same gradients), and its kernels must stay channels-last through an
    /// SGD step and a TF export/import.
    #[test]
    fn channels_last_cpu_path_matches_nchw() {
        let model = tiny_cnn();
        assert!(model.runs_channels_last());
        let conv_kernels = |model: &Model| -> Vec<Tensor> {
            model
                .variables
                .iter()
                .filter(|v| v.layout == Layout::Conv)
                .map(|v| v.tensor.shallow_clone())
                .collect()
        };
        assert_eq!(conv_kernels(&model).len(), 5);
        assert!(conv_kernels(&model).iter().all(is_channels_last));

        let images = Tensor::rand([2, 1, 32, 32], (Kind::Float, Device::Cpu));
        let labels = Tensor::randint(2, [2, 32, 32], (Kind::Int64, Device::Cpu));
        let loss_and_grads = |model: &Model, fused: bool| {
            let tensors: Vec<Tensor> = model
                .variables
                .iter()
                .map(|v| v.tensor.shallow_clone())
                .collect();
            let logits = if fused {
                model.forward(&images).unwrap()
            } else {
                // Layer by layer in the lab's order: ReLU, then pool.
                let apply = |x: Tensor, layer: &Layer| model.apply(&layer.op, &x).unwrap();
                model.layers.iter().fold(images.shallow_clone(), apply)
            };
            let loss = cross_entropy_mean(&logits, &labels).unwrap();
            let grads = Tensor::run_backward(&[&loss], &tensors, false, false);
            (
                values(&logits),
                grads.iter().map(values).collect::<Vec<_>>(),
            )
        };
        let (logits_cl, grads_cl) = loss_and_grads(&model, true);

        let mut reference = tiny_cnn();
        for (theirs, ours) in reference.variables.iter_mut().zip(&model.variables) {
            theirs.tensor = ours.tensor.detach().contiguous().set_requires_grad(true);
            assert!(theirs.tensor.is_contiguous());
        }
        let (logits_nchw, grads_nchw) = loss_and_grads(&reference, false);

        let close = |a: &[f32], b: &[f32], what: &str| {
            assert_eq!(a.len(), b.len());
            let scale = b.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
            let worst = a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
            assert!(
                worst <= 1e-4 * scale,
                "{what}: max difference {worst} (scale {scale})"
            );
        };
        close(&logits_cl, &logits_nchw, "logits");
        for (i, (a, b)) in grads_cl.iter().zip(&grads_nchw).enumerate() {
            close(a, b, &format!("gradient of variable {i}"));
        }

        use tch::nn::OptimizerConfig;
        let mut sgd = nn::Sgd::default().build(model.var_store(), 0.1).unwrap();
        let loss = cross_entropy_mean(&model.forward(&images).unwrap(), &labels).unwrap();
        sgd.backward_step(&loss);
        assert!(conv_kernels(&model).iter().all(is_channels_last));
        let exported = model.export_tf().unwrap();
        let mut restored = tiny_cnn();
        for variable in &exported {
            restored
                .import_tf(&variable.name, &variable.shape, &variable.values)
                .unwrap();
        }
        assert!(conv_kernels(&restored).iter().all(is_channels_last));
        assert_eq!(restored.export_tf().unwrap(), exported);
    }

    #[test]
    fn same_padding_puts_the_odd_pixel_after() {
        assert_eq!(same_padding(256, 5, 2), (1, 2));
        assert_eq!(same_padding(64, 5, 2), (1, 2));
        assert_eq!(same_padding(16, 3, 1), (1, 1));
        assert_eq!(same_padding(128, 2, 2), (0, 0));
        assert_eq!(same_padding(256, 31, 16), (7, 8));
        assert_eq!(same_padding(5, 2, 2), (0, 1));
    }

    // Expected values from TensorFlow 2.21 (the conformance venv):
    //   x = np.arange(36, dtype=np.float32).reshape(1, 6, 6, 1)
    //   tf.nn.conv2d(x, np.ones((5, 5, 1, 1), np.float32), strides=2, padding="SAME")
    // Symmetric padding 2 would give 63 in the first cell instead of 168.
    #[test]
    fn conv2d_same_matches_tensorflow() {
        let x = Tensor::arange(36, (Kind::Float, Device::Cpu)).reshape([1, 1, 6, 6]);
        let kernel = Tensor::ones([1, 1, 5, 5], (Kind::Float, Device::Cpu));
        let y = conv2d_same(&x, &kernel, 2).unwrap();
        assert_eq!(y.size(), [1, 1, 3, 3]);
        assert_eq!(
            values(&y),
            [168.0, 240.0, 156.0, 390.0, 525.0, 330.0, 306.0, 405.0, 252.0]
        );
    }

    // From TensorFlow 2.21:
    //   x = np.array([1, 2, 3, 4], np.float32).reshape(1, 2, 2, 1)
    //   k = np.arange(25, dtype=np.float32).reshape(5, 5, 1, 1)
    //   tf.nn.conv2d_transpose(x, k, output_shape=[1, 4, 4, 1], strides=2, padding="SAME")
    // The forward view pads (1, 2), so the odd row/column must be cropped
    // from the end, not split.
    #[test]
    fn conv_transpose2d_same_matches_tensorflow() {
        let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).reshape([1, 1, 2, 2]);
        let kernel = Tensor::arange(25, (Kind::Float, Device::Cpu)).reshape([1, 1, 5, 5]);
        let y = conv_transpose2d_same(&x, &kernel, 2).unwrap();
        assert_eq!(y.size(), [1, 1, 4, 4]);
        #[rustfmt::skip]
        let expected = [
            6.0, 17.0, 20.0, 23.0,
            14.0, 38.0, 48.0, 58.0,
            34.0, 88.0, 98.0, 108.0,
            54.0, 138.0, 148.0, 158.0,
        ];
        assert_eq!(values(&y), expected);
    }

    // From TensorFlow 2.21:
    //   tf.nn.max_pool2d(-np.arange(25, dtype=np.float32).reshape(1, 5, 5, 1), 2, 2, "SAME")
    // The padded last row/column must never win even though all inputs are <= 0.
    #[test]
    fn max_pool_same_ignores_padding() {
        let x = -Tensor::arange(25, (Kind::Float, Device::Cpu)).reshape([1, 1, 5, 5]);
        let y = max_pool_same(&x, 2).unwrap();
        assert_eq!(
            values(&y),
            [0.0, -2.0, -4.0, -10.0, -12.0, -14.0, -20.0, -22.0, -24.0]
        );
    }

    #[test]
    fn truncated_normal_stays_within_two_sigma() {
        tch::manual_seed(1);
        let t = truncated_normal(&[200_000], 0.1, Device::Cpu);
        let max = f64::try_from(t.abs().max()).unwrap();
        let std = f64::try_from(t.std(true)).unwrap();
        assert!(max <= 0.2, "max {max}");
        // The std of a normal truncated at ±2σ is 0.8796σ.
        assert!((std - 0.08796).abs() < 0.001, "std {std}");
    }

    #[test]
    fn cnn_maps_full_size_images_to_full_size_logits() {
        let model = Model::new(ModelKind::CnnDice, Device::Cpu);
        let logits = tch::no_grad(|| {
            model
                .forward(&Tensor::zeros([1, 1, 256, 256], (Kind::Float, Device::Cpu)))
                .unwrap()
        });
        assert_eq!(logits.size(), [1, 2, 256, 256]);
        // The lab's table (without global_step, which the trainer adds).
        let expected: Vec<(String, Vec<u64>)> = crate::variables::CNN_VARIABLES
            .iter()
            .filter(|v| v.name != tbseg::checkpoint::GLOBAL_STEP)
            .map(|v| (v.name.to_string(), v.shape.to_vec()))
            .collect();
        assert_eq!(model.tf_variable_shapes(), expected);
    }

    #[test]
    fn simple_shapes_through_a_reduced_network() {
        let config = SimpleConfig {
            image_size: 8,
            hidden: 5,
        };
        let model =
            Model::with_architecture(ModelKind::Simple, Architecture::Simple(config), Device::Cpu);
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
        let config = SimpleConfig {
            image_size: 2,
            hidden: 8,
        };
        let mut model =
            Model::with_architecture(ModelKind::Simple, Architecture::Simple(config), Device::Cpu);
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
    fn tf_export_import_round_trip_gives_identical_outputs() {
        tch::manual_seed(3);
        let source = tiny_cnn();
        let mut target = tiny_cnn();
        let x = Tensor::rand([2, 1, 32, 32], (Kind::Float, Device::Cpu));
        let before = tch::no_grad(|| target.forward(&x).unwrap());
        for variable in source.export_tf().unwrap() {
            target
                .import_tf(&variable.name, &variable.shape, &variable.values)
                .unwrap();
        }
        let (a, b) = tch::no_grad(|| (source.forward(&x).unwrap(), target.forward(&x).unwrap()));
        assert!(a.equal(&b));
        assert!(!a.equal(&before));
    }

    #[test]
    fn tf_layout_is_hwio_for_conv_kernels() {
        let model = tiny_cnn();
        let exported = model.export_tf().unwrap();
        let conv2 = exported.iter().find(|v| v.name == "Conv2/kernel").unwrap();
        assert_eq!(conv2.shape, [5, 5, 3, 4]);
        // TF [kh, kw, in, out][1, 2, 0, 3] is torch [out, in, kh, kw][3, 0, 1, 2].
        let torch = model.variables[1].tensor.double_value(&[3, 0, 1, 2]) as f32;
        let index = ((5 + 2) * 3) * 4 + 3;
        assert_eq!(conv2.values[index], torch);
    }

    #[test]
    fn import_rejects_wrong_names_and_shapes() {
        let mut model = tiny_cnn();
        assert!(matches!(
            model.import_tf("Conv9/kernel", &[1], &[0.0]),
            Err(TrainError::UnknownVariable { .. })
        ));
        assert!(matches!(
            model.import_tf("Conv1/kernel", &[5, 5, 1, 4], &[0.0; 100]),
            Err(TrainError::VariableShape { .. })
        ));
    }

    #[test]
    fn graph_has_lab_names_and_real_shapes() {
        let model = tiny_cnn();
        let graph = model.graph(1).unwrap();
        let find = |name: &str| {
            graph
                .iter()
                .find(|n| n.name == name)
                .unwrap_or_else(|| panic!("{name}"))
        };
        assert_eq!(find("x").output_shape, [1, 32, 32, 1]);
        assert_eq!(find("Conv1/kernel").output_shape, [5, 5, 1, 3]);
        assert_eq!(find("Conv1/Conv2D").inputs, ["x", "Conv1/kernel"]);
        assert_eq!(find("Conv1/Conv2D").output_shape, [1, 16, 16, 3]);
        assert_eq!(find("Pool1/MaxPool").output_shape, [1, 8, 8, 3]);
        assert_eq!(find("Pool2/MaxPool").output_shape, [1, 2, 2, 4]);
        assert_eq!(find("conv4/Relu").inputs, ["conv4/Conv2D"]);
        assert_eq!(find("score_classes/Conv2D").output_shape, [1, 2, 2, 2]);
        let upscore = find("upscore/conv2d_transpose");
        assert_eq!(upscore.op, "Conv2DBackpropInput");
        assert_eq!(upscore.output_shape, [1, 32, 32, 2]);
        assert_eq!(upscore.inputs, ["score_classes/Conv2D", "upscore/kernel"]);
    }
}
