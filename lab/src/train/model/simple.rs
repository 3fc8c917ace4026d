//! Task 1 (`simple`): `x[N, 65536] · W_fc[65536, 512] · W_fc2[512, 131072]`,
//! reshaped to `[N, 256, 256, 2]`: two matrix products, no activations, no
//! biases.

use tch::{nn, TchError, Tensor};

use super::graph::{Chain, GraphNode, Trace};
use super::init::lab_variable;
use super::logits::CLASSES;
use super::tf_layout::{Layout, Variables};
use crate::variables::{FINAL_W_FC2, HIDDEN1_W_FC};

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

/// The `simple` network: `Hidden1/W_fc` and `Final/W_fc2`, both `[in, out]`.
pub(crate) struct Simple {
    config: SimpleConfig,
    w_fc: Tensor,
    w_fc2: Tensor,
}

impl Simple {
    /// A freshly initialised network under `root`, registering its
    /// variables in `variables`.
    pub(crate) fn new(root: &nn::Path, config: SimpleConfig, variables: &mut Variables) -> Simple {
        let pixels = config.image_size * config.image_size;
        let mut variable =
            |name, shape: &[i64]| lab_variable(root, variables, name, shape, Layout::Matrix, false);
        let w_fc = variable(HIDDEN1_W_FC, &[pixels, config.hidden]);
        let w_fc2 = variable(FINAL_W_FC2, &[config.hidden, pixels * CLASSES]);
        Simple {
            config,
            w_fc,
            w_fc2,
        }
    }

    /// Logits `[N, 2, H, W]` for images `[N, 1, H, W]`, recording the
    /// lab's graph in `trace` when given one.
    pub(crate) fn forward(
        &self,
        images: &Tensor,
        trace: Option<&mut Trace>,
    ) -> Result<Tensor, TchError> {
        let mut chain = Chain::new(trace);
        let size = self.config.image_size;
        let flat = images.f_reshape([images.size()[0], size * size])?;
        chain.record(|| GraphNode::activation("Reshape", "Reshape", &flat));
        let hidden = flat.f_matmul(&self.w_fc)?;
        chain.record(|| {
            GraphNode::activation("Hidden1/MatMul", "MatMul", &hidden).inputs(&[HIDDEN1_W_FC])
        });
        let scores = hidden.f_matmul(&self.w_fc2)?;
        chain.record(|| {
            GraphNode::activation("Final/MatMul", "MatMul", &scores).inputs(&[FINAL_W_FC2])
        });
        // TensorFlow's `reshape([-1, H, W, 2])` puts the class fastest;
        // libtorch's losses want `[N, C, H, W]`.
        let logits = scores
            .f_reshape([-1, size, size, CLASSES])?
            .f_permute([0, 3, 1, 2])?;
        chain.record(|| GraphNode::activation("Reshape_1", "Reshape", &logits));
        Ok(logits)
    }
}
