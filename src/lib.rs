//! tbseg: TensorBoard-compatible logging and TensorFlow-format files in
//! pure Rust, and a libtorch trainer for NVIDIA's cardiac MRI segmentation
//! lab.
//!
//! # The format layer (no libtorch)
//!
//! - [`proto`]: the protobuf messages, generated from the project's own
//!   `.proto` files, wire-compatible with TensorFlow's.
//! - [`record`]: TFRecord framing and its masked CRC-32C.
//! - [`checkpoint`]: TensorFlow V2 checkpoints (tensor bundles), the
//!   `checkpoint` state file, crash-safe saving with retention, PyTorch ⇄
//!   TensorFlow weight layouts and safetensors export.
//!
//! The format layer never depends on the trainer; it builds with
//! `--no-default-features`.
#![deny(missing_docs)]

pub mod checkpoint;
pub mod proto;
pub mod record;

pub mod cli;
