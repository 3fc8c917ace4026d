//! Tasks 2 and 3 (`cnn`, `cnn-dice`): the fully convolutional network of
//! the lab's `tf.layers` version, without biases.
//!
//! `Conv1` (5×5, stride 2) → ReLU → `Pool1` (2×2) → `Conv2` (5×5, stride 2)
//! → ReLU → `Pool2` → `Conv3` (3×3) → ReLU → `conv4` (3×3) → ReLU →
//! dropout (keep 1.0) → `score_classes` (1×1, 2 classes) → `upscore` (31×31
//! transposed convolution, stride 16) back to the input size. Every window
//! uses TensorFlow's `SAME` padding.

use tch::{nn, TchError, Tensor};

use super::channels_last::to_channels_last;
use super::graph::{Chain, GraphNode, Trace};
use super::init::lab_variable;
use super::logits::CLASSES;
use super::padding::{conv2d_same, conv_transpose2d_same, max_pool_same};
use super::tf_layout::{Layout, Variables};
use crate::variables::{
    CONV1_KERNEL, CONV2_KERNEL, CONV3_KERNEL, CONV4_KERNEL, SCORE_CLASSES_KERNEL, UPSCORE_KERNEL,
};

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

/// The lab's `keep_prob`: 1.0, which TensorFlow turns into the identity.
/// The dropout node stays in the graph, as in the lab's.
const KEEP_PROB: f32 = 1.0;

/// Side of the 2×2 pools.
const POOL: i64 = 2;

/// Stride of `upscore`: the two stride-2 convolutions and the two pools
/// undone at once.
const UPSCORE_STRIDE: i64 = 16;

/// A bias-free convolution with TensorFlow's `SAME` padding; its kernel is
/// the lab variable `<scope>/kernel` and its node `<scope>/Conv2D`.
struct Conv {
    kernel_name: &'static str,
    kernel: Tensor,
    stride: i64,
}

impl Conv {
    fn forward(&self, x: &Tensor, chain: &mut Chain) -> Result<Tensor, TchError> {
        let y = conv2d_same(x, &self.kernel, self.stride)?;
        chain.record(|| {
            GraphNode::activation(node(self.kernel_name, "Conv2D"), "Conv2D", &y)
                .inputs(&[self.kernel_name])
                .same_window(self.stride)
        });
        Ok(y)
    }
}

/// The node `<scope>/<op>` in the scope of the variable `scope/name`.
fn node(variable: &str, op: &str) -> String {
    let (scope, _) = variable.split_once('/').unwrap_or((variable, ""));
    format!("{scope}/{op}")
}

/// The `cnn` network (also `cnn-dice`'s).
pub(crate) struct Cnn {
    channels_last: bool,
    conv1: Conv,
    conv2: Conv,
    conv3: Conv,
    conv4: Conv,
    score_classes: Conv,
    upscore: Tensor,
}

impl Cnn {
    /// A freshly initialised network under `root`, registering its
    /// variables in `variables`. On the CPU it runs channels-last (see
    /// [`super::Model::runs_channels_last`]).
    pub(crate) fn new(root: &nn::Path, config: CnnConfig, variables: &mut Variables) -> Cnn {
        let channels_last = root.device() == tch::Device::Cpu;
        let [c1, c2, c3, c4] = config.channels;
        let mut conv = |kernel_name, shape: &[i64], stride| Conv {
            kernel_name,
            kernel: lab_variable(
                root,
                variables,
                kernel_name,
                shape,
                Layout::Conv,
                channels_last,
            ),
            stride,
        };
        let conv1 = conv(CONV1_KERNEL, &[c1, 1, 5, 5], 2);
        let conv2 = conv(CONV2_KERNEL, &[c2, c1, 5, 5], 2);
        let conv3 = conv(CONV3_KERNEL, &[c3, c2, 3, 3], 1);
        let conv4 = conv(CONV4_KERNEL, &[c4, c3, 3, 3], 1);
        let score_classes = conv(SCORE_CLASSES_KERNEL, &[CLASSES, c4, 1, 1], 1);
        let upscore = lab_variable(
            root,
            variables,
            UPSCORE_KERNEL,
            &[CLASSES, CLASSES, 31, 31],
            Layout::ConvTranspose,
            channels_last,
        );
        Cnn {
            channels_last,
            conv1,
            conv2,
            conv3,
            conv4,
            score_classes,
            upscore,
        }
    }

    /// Whether activations and kernels are channels-last.
    pub(crate) fn runs_channels_last(&self) -> bool {
        self.channels_last
    }

    /// Logits `[N, 2, H, W]` for images `[N, 1, H, W]`, recording the
    /// lab's graph in `trace` when given one.
    pub(crate) fn forward(
        &self,
        images: &Tensor,
        trace: Option<&mut Trace>,
    ) -> Result<Tensor, TchError> {
        let mut chain = Chain::new(trace);
        let x = if self.channels_last {
            to_channels_last(images)?
        } else {
            images.shallow_clone()
        };
        let x = self.conv1.forward(&x, &mut chain)?;
        let x = relu_pool(&x, "Conv1/Relu", "Pool1/MaxPool", &mut chain)?;
        let x = self.conv2.forward(&x, &mut chain)?;
        let x = relu_pool(&x, "Conv2/Relu", "Pool2/MaxPool", &mut chain)?;
        let x = self.conv3.forward(&x, &mut chain)?;
        let x = relu(&x, "Conv3/Relu", &mut chain)?;
        let x = self.conv4.forward(&x, &mut chain)?;
        let x = relu(&x, "conv4/Relu", &mut chain)?;
        chain.record(|| {
            GraphNode::activation("dropout/Identity", "Identity", &x).float("keep_prob", KEEP_PROB)
        });
        let x = self.score_classes.forward(&x, &mut chain)?;
        let logits = conv_transpose2d_same(&x, &self.upscore, UPSCORE_STRIDE)?;
        chain.record(|| {
            GraphNode::activation(
                node(UPSCORE_KERNEL, "conv2d_transpose"),
                "Conv2DBackpropInput",
                &logits,
            )
            .inputs(&[UPSCORE_KERNEL])
            .same_window(UPSCORE_STRIDE)
        });
        Ok(logits)
    }
}

/// ReLU, recorded as node `name`.
fn relu(x: &Tensor, name: &'static str, chain: &mut Chain) -> Result<Tensor, TchError> {
    let y = x.f_relu()?;
    chain.record(|| GraphNode::activation(name, "Relu", &y));
    Ok(y)
}

/// ReLU then a 2×2 max pool, recorded in that (the lab's) order but
/// computed as pool, then ReLU: the two commute exactly (a maximum of
/// rectified values is the rectified maximum, and the gradient reaches the
/// same pixel), and rectifying the pooled tensor touches a quarter of the
/// values, forward and backward.
fn relu_pool(
    x: &Tensor,
    relu_name: &'static str,
    pool_name: &'static str,
    chain: &mut Chain,
) -> Result<Tensor, TchError> {
    // The ReLU's output has its input's shape.
    chain.record(|| GraphNode::activation(relu_name, "Relu", x));
    let y = max_pool_same(x, POOL)?.f_relu()?;
    chain.record(|| {
        GraphNode::activation(pool_name, "MaxPool", &y)
            .ints("ksize", [1, POOL, POOL, 1])
            .same_window(POOL)
    });
    Ok(y)
}

#[cfg(test)]
mod tests {
    use tch::nn::OptimizerConfig;
    use tch::{Device, Kind};

    use super::*;
    use crate::train::model::channels_last::is_channels_last;
    use crate::train::model::{cross_entropy_mean, Architecture, Model, ModelKind, Net};

    fn values(tensor: &Tensor) -> Vec<f32> {
        Vec::<f32>::try_from(tensor.flatten(0, -1)).expect("float tensor")
    }

    fn tiny() -> Model {
        let config = CnnConfig {
            image_size: 32,
            channels: [3, 4, 5, 6],
        };
        Model::with_architecture(ModelKind::Cnn, Architecture::Cnn(config), Device::Cpu)
    }

    fn cnn(model: &Model) -> &Cnn {
        match &model.net {
            Net::Cnn(cnn) => cnn,
            _ => panic!("not the cnn"),
        }
    }

    /// The five convolution kernels, then `upscore`.
    fn kernels(cnn: &Cnn) -> Vec<Tensor> {
        let convs = [
            &cnn.conv1,
            &cnn.conv2,
            &cnn.conv3,
            &cnn.conv4,
            &cnn.score_classes,
        ];
        let mut kernels: Vec<Tensor> = convs.iter().map(|c| c.kernel.shallow_clone()).collect();
        kernels.push(cnn.upscore.shallow_clone());
        kernels
    }

    /// The lab's layers one by one in its order (ReLU, then pool), NCHW.
    fn lab_order(kernels: &[Tensor], images: &Tensor) -> Tensor {
        let x = conv2d_same(images, &kernels[0], 2).unwrap().relu();
        let x = max_pool_same(&x, 2).unwrap();
        let x = conv2d_same(&x, &kernels[1], 2).unwrap().relu();
        let x = max_pool_same(&x, 2).unwrap();
        let x = conv2d_same(&x, &kernels[2], 1).unwrap().relu();
        let x = conv2d_same(&x, &kernels[3], 1).unwrap().relu();
        let x = conv2d_same(&x, &kernels[4], 1).unwrap();
        conv_transpose2d_same(&x, &kernels[5], 16).unwrap()
    }

    /// The CPU forward pass (channels-last, pool before ReLU) must compute
    /// what the plain NCHW layers in the lab's order compute (same logits,
    /// same gradients), and its kernels must stay channels-last through an
    /// SGD step and a TF export/import.
    #[test]
    fn channels_last_cpu_path_matches_nchw() {
        let model = tiny();
        assert!(model.runs_channels_last());
        let conv_kernels_channels_last =
            |model: &Model| kernels(cnn(model))[..5].iter().all(is_channels_last);
        assert!(conv_kernels_channels_last(&model));

        let images = Tensor::rand([2, 1, 32, 32], (Kind::Float, Device::Cpu));
        let labels = Tensor::randint(2, [2, 32, 32], (Kind::Int64, Device::Cpu));
        let loss_and_grads = |logits: &Tensor, kernels: &[Tensor]| {
            let loss = cross_entropy_mean(logits, &labels).unwrap();
            let grads = Tensor::run_backward(&[&loss], kernels, false, false);
            (values(logits), grads.iter().map(values).collect::<Vec<_>>())
        };
        let (logits_cl, grads_cl) =
            loss_and_grads(&model.forward(&images).unwrap(), &kernels(cnn(&model)));

        let reference: Vec<Tensor> = kernels(cnn(&model))
            .iter()
            .map(|k| k.detach().contiguous().set_requires_grad(true))
            .collect();
        assert!(reference.iter().all(Tensor::is_contiguous));
        let (logits_nchw, grads_nchw) = loss_and_grads(&lab_order(&reference, &images), &reference);

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

        let mut sgd = nn::Sgd::default().build(model.var_store(), 0.1).unwrap();
        let loss = cross_entropy_mean(&model.forward(&images).unwrap(), &labels).unwrap();
        sgd.backward_step(&loss);
        assert!(conv_kernels_channels_last(&model));
        let exported = model.export_tf().unwrap();
        let mut restored = tiny();
        for variable in &exported {
            restored
                .import_tf(&variable.name, &variable.shape, &variable.values)
                .unwrap();
        }
        assert!(conv_kernels_channels_last(&restored));
        assert_eq!(restored.export_tf().unwrap(), exported);
    }

    #[test]
    fn graph_is_the_labs_layer_list_with_real_shapes() {
        let graph = tiny().graph(1).unwrap();
        let names: Vec<&str> = graph.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "x",
                "Conv1/kernel",
                "Conv2/kernel",
                "Conv3/kernel",
                "conv4/kernel",
                "score_classes/kernel",
                "upscore/kernel",
                "Conv1/Conv2D",
                "Conv1/Relu",
                "Pool1/MaxPool",
                "Conv2/Conv2D",
                "Conv2/Relu",
                "Pool2/MaxPool",
                "Conv3/Conv2D",
                "Conv3/Relu",
                "conv4/Conv2D",
                "conv4/Relu",
                "dropout/Identity",
                "score_classes/Conv2D",
                "upscore/conv2d_transpose",
            ]
        );
        let find = |name: &str| graph.iter().find(|n| n.name == name).unwrap();
        assert_eq!(find("x").output_shape, [1, 32, 32, 1]);
        assert_eq!(find("Conv1/kernel").output_shape, [5, 5, 1, 3]);
        assert_eq!(find("Conv1/Conv2D").inputs, ["x", "Conv1/kernel"]);
        assert_eq!(find("Conv1/Conv2D").output_shape, [1, 16, 16, 3]);
        assert_eq!(
            find("Conv1/Conv2D").int_list_attrs,
            [("strides".to_string(), vec![1, 2, 2, 1])]
        );
        assert_eq!(find("Conv1/Relu").output_shape, [1, 16, 16, 3]);
        assert_eq!(find("Pool1/MaxPool").inputs, ["Conv1/Relu"]);
        assert_eq!(find("Pool1/MaxPool").output_shape, [1, 8, 8, 3]);
        assert_eq!(find("Pool2/MaxPool").output_shape, [1, 2, 2, 4]);
        assert_eq!(find("conv4/Relu").inputs, ["conv4/Conv2D"]);
        assert_eq!(
            find("dropout/Identity").float_attrs,
            [("keep_prob".to_string(), 1.0)]
        );
        assert_eq!(find("score_classes/Conv2D").output_shape, [1, 2, 2, 2]);
        let upscore = find("upscore/conv2d_transpose");
        assert_eq!(upscore.op, "Conv2DBackpropInput");
        assert_eq!(upscore.output_shape, [1, 32, 32, 2]);
        assert_eq!(upscore.inputs, ["score_classes/Conv2D", "upscore/kernel"]);
        assert_eq!(
            upscore.string_attrs,
            [
                ("padding".to_string(), "SAME".to_string()),
                ("data_format".to_string(), "NHWC".to_string())
            ]
        );
    }

    #[test]
    fn full_size_images_give_full_size_logits_and_the_labs_variables() {
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
    fn tf_export_import_round_trip_gives_identical_outputs() {
        tch::manual_seed(3);
        let source = tiny();
        let mut target = tiny();
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
}
