//! What every network outputs: logits `[N, CLASSES, H, W]`, and the lab's
//! loss on them.

use tch::{TchError, Tensor};

/// Number of classes: 0 = background, 1 = left ventricle.
pub const CLASSES: i64 = 2;

/// The lab's loss: per-pixel sparse softmax cross-entropy of logits
/// `[N, 2, H, W]` against class ids `[N, H, W]` (int64), averaged over all
/// `N·H·W` pixels.
pub fn cross_entropy_mean(logits: &Tensor, labels: &Tensor) -> Result<Tensor, TchError> {
    let no_weight: Option<&Tensor> = None;
    logits.f_cross_entropy_loss(labels, no_weight, tch::Reduction::Mean, -100, 0.0)
}
