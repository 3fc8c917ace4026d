//! `--model unet`: a small U-Net for 256×256 single-channel slices.
//!
//! Written the tch-rs way: a struct of named layers built against a var
//! store path, and a `forward` that only touches its fields. The same
//! `forward` draws the TensorBoard graph: run with a trace it records one
//! node per operation, named by its scope (`down1/conv1/Conv2D`,
//! `up2/concat`, ...), with the shape it actually produced.
//!
//! Layout: four 2×2 max-pool levels (256 → 16 pixels), two 3×3
//! convolutions with bias and ReLU per level, `base` channels doubling per
//! level (8, 16, 32, 64, 128 at the bottom by default), 2×2 stride-2
//! transposed convolutions up, skip connections concatenated, and a 1×1
//! convolution to the two class logits. Its 0.49 M parameters are a
//! quarter of the lab's CNN's, and a step costs about the same on a CPU.
//! No batch normalisation, so training and inference compute the same
//! function and a checkpoint holds only kernels and biases.

use tch::{nn, TchError, Tensor};

use super::graph::{GraphNode, Trace, INPUT};
use super::logits::CLASSES;
use super::tf_layout::{Layout, Variables};

/// Sizes of the U-Net (default: 256-pixel images, 8 base channels, depth 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnetConfig {
    /// Side of the square input image; a multiple of `2^depth`.
    pub image_size: i64,
    /// Channels of the first level; each level down doubles them.
    pub base_channels: i64,
    /// Number of 2×2 poolings.
    pub depth: usize,
}

impl Default for UnetConfig {
    fn default() -> Self {
        UnetConfig {
            image_size: 256,
            base_channels: 8,
            depth: 4,
        }
    }
}

/// An activation with the graph node that produced it.
struct Act {
    x: Tensor,
    node: String,
}

/// `x` as the output of node `name`, recorded when tracing.
fn traced(
    trace: &mut Option<&mut Trace>,
    name: String,
    op: &str,
    inputs: &[&str],
    x: Tensor,
) -> Act {
    if let Some(trace) = trace {
        trace.push(GraphNode::activation(name.as_str(), op, &x).inputs(inputs));
    }
    Act { x, node: name }
}

/// A convolution with bias (`SAME` padding, stride 1), TF names
/// `<scope>/kernel` and `<scope>/bias`.
struct Conv {
    scope: String,
    kernel: Tensor,
    bias: Tensor,
}

impl Conv {
    /// He-initialised `size`×`size` kernel `inputs → outputs`, zero bias.
    fn new(
        p: &nn::Path,
        scope: String,
        inputs: i64,
        outputs: i64,
        size: i64,
        vars: &mut Variables,
    ) -> Conv {
        let p = p.sub(scope.as_str());
        let std = (2.0 / (inputs * size * size) as f64).sqrt();
        let kernel = p.var(
            "kernel",
            &[outputs, inputs, size, size],
            nn::Init::Randn {
                mean: 0.0,
                stdev: std,
            },
        );
        let bias = p.var("bias", &[outputs], nn::Init::Const(0.0));
        vars.push(format!("{scope}/kernel"), Layout::Conv, &kernel);
        vars.push(format!("{scope}/bias"), Layout::Vector, &bias);
        Conv {
            scope,
            kernel,
            bias,
        }
    }

    fn forward(
        &self,
        input: &Act,
        trace: &mut Option<&mut Trace>,
        relu: bool,
    ) -> Result<Act, TchError> {
        let pad = self.kernel.size()[2] / 2;
        let y = input.x.f_conv2d(
            &self.kernel,
            Some(&self.bias),
            [1, 1],
            [pad, pad],
            [1, 1],
            1,
        )?;
        let kernel = format!("{}/kernel", self.scope);
        let bias = format!("{}/bias", self.scope);
        let conv = traced(
            trace,
            format!("{}/Conv2D", self.scope),
            "Conv2D",
            &[&input.node, &kernel, &bias],
            y,
        );
        if !relu {
            return Ok(conv);
        }
        let y = conv.x.f_relu()?;
        Ok(traced(
            trace,
            format!("{}/Relu", self.scope),
            "Relu",
            &[&conv.node],
            y,
        ))
    }
}

/// Two 3×3 convolutions with ReLU: one level of the U.
struct DoubleConv {
    conv1: Conv,
    conv2: Conv,
}

impl DoubleConv {
    fn new(p: &nn::Path, scope: &str, inputs: i64, outputs: i64, vars: &mut Variables) -> Self {
        DoubleConv {
            conv1: Conv::new(p, format!("{scope}/conv1"), inputs, outputs, 3, vars),
            conv2: Conv::new(p, format!("{scope}/conv2"), outputs, outputs, 3, vars),
        }
    }

    fn forward(&self, input: &Act, trace: &mut Option<&mut Trace>) -> Result<Act, TchError> {
        let x = self.conv1.forward(input, trace, true)?;
        self.conv2.forward(&x, trace, true)
    }
}

/// One level up: a 2×2 stride-2 transposed convolution, the skip
/// connection concatenated, two convolutions.
struct Up {
    scope: String,
    kernel: Tensor,
    bias: Tensor,
    convs: DoubleConv,
}

impl Up {
    fn new(p: &nn::Path, scope: String, inputs: i64, outputs: i64, vars: &mut Variables) -> Up {
        let sub = p.sub(format!("{scope}/upconv").as_str());
        let std = (2.0 / (inputs * 4) as f64).sqrt();
        let kernel = sub.var(
            "kernel",
            &[inputs, outputs, 2, 2],
            nn::Init::Randn {
                mean: 0.0,
                stdev: std,
            },
        );
        let bias = sub.var("bias", &[outputs], nn::Init::Const(0.0));
        vars.push(
            format!("{scope}/upconv/kernel"),
            Layout::ConvTranspose,
            &kernel,
        );
        vars.push(format!("{scope}/upconv/bias"), Layout::Vector, &bias);
        let convs = DoubleConv::new(p, &scope, 2 * outputs, outputs, vars);
        Up {
            scope,
            kernel,
            bias,
            convs,
        }
    }

    fn forward(
        &self,
        input: &Act,
        skip: &Act,
        trace: &mut Option<&mut Trace>,
    ) -> Result<Act, TchError> {
        let y = input.x.f_conv_transpose2d(
            &self.kernel,
            Some(&self.bias),
            [2, 2],
            [0, 0],
            [0, 0],
            1,
            [1, 1],
        )?;
        let kernel = format!("{}/upconv/kernel", self.scope);
        let up = traced(
            trace,
            format!("{}/upconv/conv2d_transpose", self.scope),
            "Conv2DBackpropInput",
            &[&input.node, &kernel],
            y,
        );
        let y = Tensor::f_cat(&[&skip.x, &up.x], 1)?;
        let joined = traced(
            trace,
            format!("{}/concat", self.scope),
            "ConcatV2",
            &[&skip.node, &up.node],
            y,
        );
        self.convs.forward(&joined, trace)
    }
}

/// The U-Net: `down1..downD`, `bottom`, `upD..up1`, `score`.
pub(crate) struct Unet {
    down: Vec<DoubleConv>,
    bottom: DoubleConv,
    up: Vec<Up>,
    score: Conv,
}

impl Unet {
    /// A freshly initialised U-Net under `p`, registering its variables
    /// (TF names and layouts) in `vars`.
    pub(crate) fn new(p: &nn::Path, config: UnetConfig, vars: &mut Variables) -> Unet {
        let channels = |level: usize| config.base_channels << level;
        let mut down = Vec::new();
        let mut inputs = 1;
        for level in 0..config.depth {
            down.push(DoubleConv::new(
                p,
                &format!("down{}", level + 1),
                inputs,
                channels(level),
                vars,
            ));
            inputs = channels(level);
        }
        let bottom = DoubleConv::new(p, "bottom", inputs, channels(config.depth), vars);
        let mut up = Vec::new();
        for level in (0..config.depth).rev() {
            up.push(Up::new(
                p,
                format!("up{}", level + 1),
                channels(level + 1),
                channels(level),
                vars,
            ));
        }
        let score = Conv::new(p, "score".into(), channels(0), CLASSES, 1, vars);
        Unet {
            down,
            bottom,
            up,
            score,
        }
    }

    /// Logits `[N, 2, H, W]` for images `[N, 1, H, W]`, recording the
    /// graph in `trace` when given one.
    pub(crate) fn forward(
        &self,
        images: &Tensor,
        mut trace: Option<&mut Trace>,
    ) -> Result<Tensor, TchError> {
        let trace = &mut trace;
        let mut x = Act {
            x: images.shallow_clone(),
            node: INPUT.to_string(),
        };
        let mut skips = Vec::new();
        for (level, block) in self.down.iter().enumerate() {
            let features = block.forward(&x, trace)?;
            let pooled = features
                .x
                .f_max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false)?;
            x = traced(
                trace,
                format!("pool{}/MaxPool", level + 1),
                "MaxPool",
                &[&features.node],
                pooled,
            );
            skips.push(features);
        }
        x = self.bottom.forward(&x, trace)?;
        for (block, skip) in self.up.iter().zip(skips.iter().rev()) {
            x = block.forward(&x, skip, trace)?;
        }
        Ok(self.score.forward(&x, trace, false)?.x)
    }
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind};

    use super::*;
    use crate::train::model::{cross_entropy_mean, Architecture, Model, ModelKind};

    fn small() -> Model {
        tch::manual_seed(0);
        let config = UnetConfig {
            image_size: 32,
            base_channels: 2,
            depth: 2,
        };
        Model::with_architecture(ModelKind::Unet, Architecture::Unet(config), Device::Cpu)
    }

    #[test]
    fn full_size_unet_maps_images_to_logits_of_the_same_size() {
        let model = Model::new(ModelKind::Unet, Device::Cpu);
        let logits = tch::no_grad(|| {
            model.forward(&Tensor::zeros([2, 1, 256, 256], (Kind::Float, Device::Cpu)))
        })
        .unwrap();
        assert_eq!(logits.size(), [2, 2, 256, 256]);
        // 8-16-32-64-128 channels: 3×3 convolutions, 2×2 up-convolutions, biases.
        assert_eq!(model.parameter_count(), 485_682);
        let shapes = model.tf_variable_shapes();
        let shape = |name: &str| {
            shapes
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("{name}"))
                .1
                .clone()
        };
        assert_eq!(shape("down1/conv1/kernel"), [3, 3, 1, 8]);
        assert_eq!(shape("bottom/conv2/kernel"), [3, 3, 128, 128]);
        assert_eq!(shape("up4/upconv/kernel"), [2, 2, 64, 128]);
        assert_eq!(shape("up1/conv1/kernel"), [3, 3, 16, 8]);
        assert_eq!(shape("score/kernel"), [1, 1, 8, 2]);
        assert_eq!(shape("score/bias"), [2]);
    }

    #[test]
    fn graph_follows_forward_with_scopes_and_shapes() {
        let model = small();
        let graph = model.graph(1).unwrap();
        let find = |name: &str| {
            graph
                .iter()
                .find(|n| n.name == name)
                .unwrap_or_else(|| panic!("{name} not in the graph"))
        };
        assert_eq!(find("x").output_shape, [1, 32, 32, 1]);
        assert_eq!(find("down1/conv1/kernel").op, "VariableV2");
        assert_eq!(
            find("down1/conv1/Conv2D").inputs,
            ["x", "down1/conv1/kernel", "down1/conv1/bias"]
        );
        assert_eq!(find("down1/conv2/Relu").output_shape, [1, 32, 32, 2]);
        assert_eq!(find("pool1/MaxPool").output_shape, [1, 16, 16, 2]);
        assert_eq!(find("bottom/conv2/Relu").output_shape, [1, 8, 8, 8]);
        let up = find("up2/upconv/conv2d_transpose");
        assert_eq!(up.inputs[0], "bottom/conv2/Relu");
        assert_eq!(up.output_shape, [1, 16, 16, 4]);
        let concat = find("up1/concat");
        assert_eq!(
            concat.inputs,
            ["down1/conv2/Relu", "up1/upconv/conv2d_transpose"]
        );
        assert_eq!(concat.output_shape, [1, 32, 32, 4]);
        let last = graph.last().unwrap();
        assert_eq!(last.name, "score/Conv2D");
        assert_eq!(last.output_shape, [1, 32, 32, 2]);
        // Every input names a node defined before it.
        for (index, node) in graph.iter().enumerate() {
            for input in &node.inputs {
                assert!(
                    graph[..index].iter().any(|n| &n.name == input),
                    "{} reads {input} before it exists",
                    node.name
                );
            }
        }
    }

    #[test]
    fn tf_export_import_round_trip_and_training_moves_every_variable() {
        let source = small();
        tch::manual_seed(9);
        let mut target = small();
        let x = Tensor::rand([2, 1, 32, 32], (Kind::Float, Device::Cpu));
        for variable in source.export_tf().unwrap() {
            target
                .import_tf(&variable.name, &variable.shape, &variable.values)
                .unwrap();
        }
        let (a, b) = tch::no_grad(|| (source.forward(&x).unwrap(), target.forward(&x).unwrap()));
        assert!(a.equal(&b));

        use tch::nn::OptimizerConfig;
        let before = source.export_tf().unwrap();
        let mut sgd = nn::Sgd::default().build(source.var_store(), 0.1).unwrap();
        let labels = Tensor::randint(2, [2, 32, 32], (Kind::Int64, Device::Cpu));
        let loss = cross_entropy_mean(&source.forward(&x).unwrap(), &labels).unwrap();
        sgd.backward_step(&loss);
        for (old, new) in before.iter().zip(source.export_tf().unwrap()) {
            assert_ne!(old.values, new.values, "{} did not train", old.name);
        }
    }
}
