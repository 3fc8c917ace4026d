//! tbseg: TensorBoard-compatible logging and TensorFlow-format files in
//! pure Rust, and a libtorch trainer for NVIDIA's cardiac MRI segmentation
//! lab.
//!
//! # The format layer (no libtorch)
//!
//! - [`proto`]: the protobuf messages, generated from the project's own
//!   `.proto` files, wire-compatible with TensorFlow's.
//! - [`record`]: TFRecord framing and its masked CRC-32C; a resumable
//!   reader that tells a torn tail from corruption.
//! - [`example`]: `tf.train.Example` building, typed getters, and TFRecord
//!   files of examples.
//! - [`reader`]: event files read back, and a whole log directory
//!   summarized run by run and tag by tag (`tbseg inspect`).
//! - [`checkpoint`]: TensorFlow V2 checkpoints (tensor bundles), the
//!   `checkpoint` state file, crash-safe saving with retention, PyTorch ⇄
//!   TensorFlow weight layouts and safetensors export.
//! - [`summary`]: TensorBoard event files: the asynchronous
//!   [`summary::SummaryWriter`] (scalars, images, histograms, text, PR
//!   curves, graphs, hparams) over the synchronous
//!   [`summary::EventWriter`].
//!
//! The format layer never depends on the trainer; it builds with
//! `--no-default-features`. Writing a run and reading it back:
//!
//! ```
//! use tbseg::reader::Logdir;
//! use tbseg::summary::SummaryWriter;
//!
//! let dir = std::env::temp_dir().join(format!("tbseg-doc-{}", std::process::id()));
//! let writer = SummaryWriter::new(&dir)?;
//! for step in 0..10 {
//!     writer.add_scalar("loss", 1.0 / (1 + step) as f32, step)?;
//! }
//! writer.close()?;
//! let logdir = Logdir::scan(&dir)?;
//! let loss = logdir.runs["."].scalars("loss").unwrap();
//! assert_eq!(loss.len(), 10);
//! assert_eq!(loss[9], (9, 0.1));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The lab's data (no libtorch)
//!
//! - [`data`]: the lab's TFRecord schema, a synthetic cardiac MRI
//!   generator, `cv2.fillPoly` and the Sunnybrook converter.
//!
//! # The trainer (cargo feature `trainer`, libtorch)
//!
//! - `train`: the lab's `simple` and `cnn` networks with TensorFlow
//!   names and `SAME` padding, the training loop, evaluation (pixel
//!   accuracy, Dice) and prediction.
//!
//! # The command line
//!
//! - [`cli`]: the `tbseg` subcommands (`data`, `inspect`, `export`, and with
//!   the trainer `train`, `eval`, `predict`, `lab`).
#![deny(missing_docs)]

pub mod checkpoint;
pub mod data;
pub mod example;
pub mod proto;
pub mod reader;
pub mod record;
pub mod summary;
#[cfg(feature = "trainer")]
pub mod train;

pub mod cli;
