//! Training options beyond the lab's flags: the loss, the optimiser and
//! augmentation. Their defaults are the lab's recipe.

use super::loss::LossKind;
use super::optim::OptimizerKind;

/// The loss, optimiser and augmentation of a run (default: the lab's
/// cross-entropy, plain SGD, no augmentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TrainOptions {
    /// `--loss`: what the optimiser minimises (default `cross-entropy`).
    pub loss: LossKind,
    /// `--optimizer`: the update rule (default `sgd`).
    pub optimizer: OptimizerKind,
    /// `--augment`: transform every training example on the fly, seeded by
    /// the run's seed (default off).
    pub augment: bool,
    /// `--augment_symmetries`: with `augment`, also rotate by quarter turns
    /// and flip (the 8 symmetries of the square); off keeps the heart's
    /// orientation.
    pub augment_symmetries: bool,
}
