//! Training losses (`--loss`): the lab's cross-entropy and three that
//! target the Dice metric more directly.
//!
//! Every loss takes logits `[N, 2, H, W]` and class ids `[N, H, W]`
//! (int64) and returns a scalar tensor to minimise.

use tch::{Kind, Reduction, TchError, Tensor};

/// Smoothing of the soft Dice: keeps the ratio defined on a batch with no
/// LV pixel and its gradient bounded (1 pixel's worth, negligible against
/// the hundreds of LV pixels of a slice).
pub const DICE_SMOOTH: f64 = 1.0;

/// Largest class weight of the weighted cross-entropy: a batch with a
/// handful of LV pixels would otherwise weight each of them by thousands.
pub const MAX_CLASS_WEIGHT: f64 = 100.0;

/// Which loss the optimiser minimises (`--loss`, default `cross-entropy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum LossKind {
    /// The lab's per-pixel softmax cross-entropy, averaged over all pixels.
    #[default]
    CrossEntropy,
    /// Cross-entropy with each class weighted by the inverse of its share
    /// of the batch's pixels, so the small LV counts as much as the
    /// background.
    WeightedCrossEntropy,
    /// Soft Dice: `1 − (2·Σ p·g + 1) / (Σ p + Σ g + 1)` over the batch, with
    /// `p` the softmax LV probability and `g` the LV label.
    Dice,
    /// Soft Dice plus cross-entropy: Dice's focus on the LV overlap with
    /// cross-entropy's well-behaved gradients early in training.
    DiceCrossEntropy,
}

impl LossKind {
    /// The name used on the command line and in hparams.
    pub fn name(self) -> &'static str {
        match self {
            LossKind::CrossEntropy => "cross-entropy",
            LossKind::WeightedCrossEntropy => "weighted-cross-entropy",
            LossKind::Dice => "dice",
            LossKind::DiceCrossEntropy => "dice-cross-entropy",
        }
    }

    /// The loss of `logits` `[N, 2, H, W]` against class ids `labels`
    /// `[N, H, W]`, or libtorch's error (out of memory, mismatched shapes).
    pub fn compute(self, logits: &Tensor, labels: &Tensor) -> Result<Tensor, TchError> {
        match self {
            LossKind::CrossEntropy => cross_entropy(logits, labels, None),
            LossKind::WeightedCrossEntropy => {
                let weights = inverse_frequency_weights(labels, logits.size()[1], logits.kind())?;
                cross_entropy(logits, labels, Some(&weights))
            }
            LossKind::Dice => soft_dice_loss(logits, labels),
            LossKind::DiceCrossEntropy => {
                soft_dice_loss(logits, labels)?.f_add(&cross_entropy(logits, labels, None)?)
            }
        }
    }
}

impl std::fmt::Display for LossKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Per-pixel softmax cross-entropy; with `weights` the mean is weighted
/// (`Σ w_y·ℓ / Σ w_y`, PyTorch's and TensorFlow's convention).
fn cross_entropy(
    logits: &Tensor,
    labels: &Tensor,
    weights: Option<&Tensor>,
) -> Result<Tensor, TchError> {
    logits.f_cross_entropy_loss(labels, weights, Reduction::Mean, -100, 0.0)
}

/// Class weights `pixels / (classes · count_c)` of the batch, capped at
/// [`MAX_CLASS_WEIGHT`]; a class absent from the batch gets the cap. They
/// are constants for the gradient (computed from the labels only).
pub fn inverse_frequency_weights(
    labels: &Tensor,
    classes: i64,
    kind: Kind,
) -> Result<Tensor, TchError> {
    tch::no_grad(|| {
        let counts = labels
            .f_flatten(0, -1)?
            .f_bincount::<Tensor>(None, classes)?
            .f_to_kind(kind)?;
        let pixels = labels.numel() as f64;
        counts
            .f_mul_scalar(classes as f64)?
            .f_reciprocal()?
            .f_mul_scalar(pixels)?
            .f_clamp_max(MAX_CLASS_WEIGHT)
    })
}

/// `1 − soft Dice` of the LV class over the whole batch (the dataset-level
/// Dice the lab reports, made differentiable by using probabilities).
pub fn soft_dice_loss(logits: &Tensor, labels: &Tensor) -> Result<Tensor, TchError> {
    let kind = logits.kind();
    let probability = logits.f_softmax(1, kind)?.f_select(1, 1)?;
    let truth = labels.f_to_kind(kind)?;
    let intersection = probability.f_mul(&truth)?.f_sum(kind)?;
    let total = probability.f_sum(kind)?.f_add(&truth.f_sum(kind)?)?;
    let dice = intersection
        .f_mul_scalar(2.0)?
        .f_add_scalar(DICE_SMOOTH)?
        .f_div(&total.f_add_scalar(DICE_SMOOTH)?)?;
    dice.f_neg()?.f_add_scalar(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;
    use tch::Device;

    const ALL: [LossKind; 4] = [
        LossKind::CrossEntropy,
        LossKind::WeightedCrossEntropy,
        LossKind::Dice,
        LossKind::DiceCrossEntropy,
    ];

    /// Logits `[2, 2, 3, 3]` in double precision (finite differences need
    /// it) and a label map with LV on 5 of the 18 pixels.
    fn tiny_input() -> (Tensor, Tensor) {
        tch::manual_seed(7);
        let logits = Tensor::randn([2, 2, 3, 3], (Kind::Double, Device::Cpu));
        #[rustfmt::skip]
        let labels = Tensor::from_slice(&[
            0i64, 1, 0,  0, 1, 1,  0, 0, 0,
            0, 0, 0,  0, 1, 0,  0, 1, 0,
        ])
        .reshape([2, 3, 3]);
        (logits, labels)
    }

    #[test]
    fn every_gradient_matches_central_differences() {
        let (logits, labels) = tiny_input();
        let h = 1e-6;
        for kind in ALL {
            let x = logits.copy().set_requires_grad(true);
            let loss = kind.compute(&x, &labels).unwrap();
            let grad = Tensor::run_backward(&[&loss], &[&x], false, false)
                .pop()
                .unwrap();
            let grad = Vec::<f64>::try_from(grad.flatten(0, -1)).unwrap();
            let base = Vec::<f64>::try_from(logits.flatten(0, -1)).unwrap();
            for (i, analytic) in grad.iter().enumerate() {
                let at = |delta: f64| {
                    let mut values = base.clone();
                    values[i] += delta;
                    let x = Tensor::from_slice(&values).reshape([2, 2, 3, 3]);
                    kind.compute(&x, &labels).unwrap().double_value(&[])
                };
                let numeric = (at(h) - at(-h)) / (2.0 * h);
                assert!(
                    (numeric - analytic).abs() < 1e-6,
                    "{kind}: d/dx[{i}] autograd {analytic}, finite difference {numeric}"
                );
            }
            assert!(
                grad.iter().any(|g| g.abs() > 1e-4),
                "{kind}: gradient vanishes on the test input"
            );
        }
    }

    #[test]
    fn losses_are_small_for_confident_right_answers_and_large_for_wrong_ones() {
        let (_, labels) = tiny_input();
        let lv = labels.to_kind(Kind::Double);
        let right = Tensor::stack(&[(-&lv + 1.0) * 10.0, &lv * 10.0], 1);
        let wrong = Tensor::stack(&[&lv * 10.0, (-&lv + 1.0) * 10.0], 1);
        for kind in ALL {
            let good = kind.compute(&right, &labels).unwrap().double_value(&[]);
            let bad = kind.compute(&wrong, &labels).unwrap().double_value(&[]);
            assert!(good < 0.01, "{kind}: {good}");
            // Soft Dice saturates at 1 − 1/(ΣL + 1) = 0.83 here.
            assert!(bad > 0.8, "{kind}: {bad}");
        }
    }

    #[test]
    fn class_weights_balance_the_batch() {
        let (_, labels) = tiny_input();
        let weights = inverse_frequency_weights(&labels, 2, Kind::Double).unwrap();
        // 13 background and 5 LV pixels of 18: 18/26 and 18/10.
        let weights = Vec::<f64>::try_from(weights).unwrap();
        assert!((weights[0] - 18.0 / 26.0).abs() < 1e-12, "{weights:?}");
        assert!((weights[1] - 1.8).abs() < 1e-12, "{weights:?}");
        let none = Tensor::zeros([1, 2, 2], (Kind::Int64, Device::Cpu));
        let weights = inverse_frequency_weights(&none, 2, Kind::Double).unwrap();
        assert_eq!(weights.double_value(&[1]), MAX_CLASS_WEIGHT);
    }

    #[test]
    fn names_match_the_flag_values() {
        for kind in ALL {
            let parsed = LossKind::from_str(kind.name(), false).unwrap();
            assert_eq!(parsed, kind);
        }
    }
}
