//! The lab on libtorch (cargo feature `trainer`): the three networks,
//! training, evaluation and prediction.
//!
//! - [`model`]: the networks (`simple`, `cnn`, `unet`) as structs of named
//!   layers with TensorFlow names, `SAME` padding, the graph each draws of
//!   itself from its `forward`, TF-layout weight export.
//! - [`schedule`]: the staircase learning rate and the example stream
//!   (including the lab's extra summary batch every 100 steps).
//! - [`metrics`]: pixel accuracy and dataset-level Dice as pure functions.
//! - [`trainer`]: the training loop; its output goes to a [`trainer::TrainSink`].
//! - [`guard`]: the per-step check that a loss and its gradients are finite.
//! - [`timing`]: where a step's time goes (forward, loss, backward, guard,
//!   update, logging), for `tbseg bench-step`.
//! - [`eval`]: evaluation (accuracy, Dice) and prediction masks.
//! - [`scores`]: per-image Dice, IoU and Hausdorff distance.
//! - [`validate`]: validation during training (`--eval_every`), the best
//!   checkpoint and early stopping.
//! - [`loss`], [`optim`], [`augment`], [`options`]: the losses, optimisers
//!   and on-the-fly augmentation beyond the lab's recipe.
//! - [`recipe`]: named presets of those flags (`--recipe`).
//! - [`examples`]: a data set as image and label tensors.
//! - [`output`]: the run's `OUTPUT:` lines, TensorBoard events and checkpoints.
//! - [`weights`]: a model as a TensorFlow checkpoint (TF names and layouts).
//! - [`device`]: `--device auto|cpu|cuda` and thread count.

pub mod augment;
pub mod device;
pub mod eval;
pub mod examples;
pub mod guard;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod optim;
pub mod options;
pub mod output;
pub mod recipe;
pub mod schedule;
pub mod scores;
pub mod timing;
pub mod trainer;
pub mod validate;
pub mod weights;

pub use device::DeviceChoice;
pub use model::{Architecture, CnnConfig, Model, ModelKind, SimpleConfig};

use std::path::PathBuf;

/// What can go wrong while training, evaluating or predicting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// `--device cuda` on a machine where libtorch sees no GPU.
    #[error("--device cuda: libtorch sees no CUDA device")]
    NoCuda,
    /// A checkpoint names a variable the model does not have.
    #[error("checkpoint variable `{name}` is not part of this model")]
    UnknownVariable {
        /// The variable's TensorFlow name.
        name: String,
    },
    /// A checkpoint variable has the wrong shape for this model.
    #[error("checkpoint variable `{name}` has shape {found:?}, the model expects {expected:?}")]
    VariableShape {
        /// The variable's TensorFlow name.
        name: String,
        /// Shape the model needs (TF layout).
        expected: Vec<u64>,
        /// Shape found in the checkpoint.
        found: Vec<u64>,
    },
    /// A flag value that cannot work.
    #[error("invalid {flag}: {reason}")]
    InvalidFlag {
        /// The flag as spelled on the command line.
        flag: &'static str,
        /// Why it is rejected.
        reason: String,
    },
    /// The data folder or one of its files is missing.
    #[error("{}: not found; run `tbseg data synth` first to create the synthetic data set (or pass --data_dir)", path.display())]
    MissingData {
        /// The missing path.
        path: PathBuf,
    },
    /// An image or label of the wrong size.
    #[error("{what}: example {index} has {image} image and {label} label values, expected {expected} (a 256x256 image)")]
    ImageSize {
        /// The file (or other source) the example came from.
        what: String,
        /// Index of the example in its source.
        index: usize,
        /// Values per image the network needs.
        expected: usize,
        /// Image values found.
        image: usize,
        /// Label values found.
        label: usize,
    },
    /// A data file without a single example.
    #[error("{what}: no examples")]
    NoExamples {
        /// The file (or other source).
        what: String,
    },
    /// No checkpoint to restore.
    #[error("no checkpoint in {}: train first (`tbseg train --checkpoint_dir {}`)", dir.display(), dir.display())]
    NoCheckpoint {
        /// The folder searched.
        dir: PathBuf,
    },
    /// A checkpoint lacks one of the model's variables.
    #[error("{}: checkpoint has no variable `{name}` (wrong --model?)", prefix.display())]
    MissingVariable {
        /// The checkpoint prefix.
        prefix: PathBuf,
        /// The missing TF variable name.
        name: String,
    },
    /// A checkpoint tensor could not be converted.
    #[error("checkpoint tensor `{name}`: {message}")]
    CheckpointTensor {
        /// The TF variable name.
        name: String,
        /// What went wrong.
        message: String,
    },
    /// Reading or writing a checkpoint failed.
    #[error(transparent)]
    Checkpoint(#[from] tbseg::checkpoint::CheckpointError),
    /// Writing TensorBoard events failed.
    #[error(transparent)]
    Summary(#[from] tbseg::summary::SummaryError),
    /// Reading a data file failed.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// A file-system operation failed.
    #[error("{}: {error}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error, part of the message (not a separate
        /// `source`, so that error chains print it once).
        error: std::io::Error,
    },
    /// A non-finite loss or gradient stopped training
    /// (`--on_nonfinite stop`).
    #[error(
        "training diverged at step {step}: non-finite {what} (loss {loss}); \
         the weights were not updated and the last checkpoint is the last good one \
         (lower --learning_rate, or pass --on_nonfinite skip)"
    )]
    Diverged {
        /// The step whose loss or gradient was not finite.
        step: i64,
        /// Which value.
        what: trainer::NonFinite,
        /// The step's training loss.
        loss: f64,
    },
    /// The checkpoint folder already holds a run and neither `--resume`
    /// nor `--overwrite` was given.
    #[error(
        "{} already holds a training run ({found}); pass --resume to continue it, \
         --overwrite to delete it first, or choose another --checkpoint_dir",
        dir.display()
    )]
    ExistingRun {
        /// The checkpoint folder.
        dir: PathBuf,
        /// What was found there (a file name).
        found: String,
    },
    /// libtorch reported an error (out of memory, a failed copy); the
    /// message keeps libtorch's first line, not its C++ backtrace.
    #[error("libtorch: {}", first_line(&.0.to_string()))]
    Torch(tch::TchError),
}

impl From<tch::TchError> for TrainError {
    fn from(error: tch::TchError) -> Self {
        TrainError::Torch(error)
    }
}

/// The first non-empty line of libtorch's message (the rest is where in
/// its C++ sources the error was raised).
fn first_line(message: &str) -> &str {
    message
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or(message)
}
