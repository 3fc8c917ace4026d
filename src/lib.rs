//! tbseg: TensorBoard-compatible logging and TensorFlow-format files in
//! pure Rust, and a libtorch trainer for NVIDIA's cardiac MRI segmentation
//! lab.
//!
//! # The format layer (no libtorch)
//!
//! - [`proto`]: the protobuf messages, generated from the project's own
//!   `.proto` files, wire-compatible with TensorFlow's.
//! - [`record`]: TFRecord framing and its masked CRC-32C.
//! - [`data`]: the lab's TFRecord schema, a synthetic cardiac MRI
//!   generator, `cv2.fillPoly` and the Sunnybrook converter.
//!
//! The format layer never depends on the trainer; it builds with
//! `--no-default-features`.
//!
//! # The trainer (cargo feature `trainer`, libtorch)
//!
//! - [`train`]: the lab's `simple` and `cnn` networks with TensorFlow
//!   names and `SAME` padding, the training loop, evaluation (pixel
//!   accuracy, Dice) and prediction.
#![deny(missing_docs)]

pub mod data;
pub mod proto;
pub mod record;
#[cfg(feature = "trainer")]
pub mod train;

pub mod cli;
