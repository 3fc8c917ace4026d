//! tbseg: TensorBoard-compatible logging and TensorFlow-format files in
//! pure Rust, and a libtorch trainer for NVIDIA's cardiac MRI segmentation
//! lab.
//!
//! # The format layer (no libtorch)
//!
//! - [`proto`]: the protobuf messages, generated from the project's own
//!   `.proto` files, wire-compatible with TensorFlow's.
//! - [`record`]: TFRecord framing and its masked CRC-32C.
//! - [`summary`]: TensorBoard event files: the asynchronous
//!   [`summary::SummaryWriter`] (scalars, images, histograms, text, PR
//!   curves, graphs, hparams) over the synchronous
//!   [`summary::EventWriter`].
//!
//! The format layer never depends on the trainer; it builds with
//! `--no-default-features`.
#![deny(missing_docs)]

pub mod proto;
pub mod record;
pub mod summary;

pub mod cli;
