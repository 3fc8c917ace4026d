//! tbseg-lab: NVIDIA's lab "Image Segmentation with TensorFlow" redone in
//! Rust on libtorch, with the [`tbseg`] library for every file it writes.
//!
//! This crate is the lab side of the project; the `tbseg` crate beside it
//! is the format library that other Rust ML code depends on, and it knows
//! nothing of the lab.
//!
//! - [`data`]: the lab's TFRecord schema, a synthetic cardiac MRI
//!   generator, `cv2.fillPoly` and the Sunnybrook converter (no libtorch).
//! - [`variables`]: the lab's TensorFlow variable names and shapes, in one
//!   table.
//! - [`overlay`]: the prediction overlay in the lab's colours.
//! - [`sweep`]: the trials of a hyper-parameter sweep and their results.
//! - `train` (cargo feature `trainer`, libtorch): the lab's networks with
//!   TensorFlow names and `SAME` padding, the training loop, evaluation
//!   (pixel accuracy, Dice) and prediction.
//! - [`job`]: what the subcommands do: train, eval, predict, sweep and the
//!   whole lab (with the trainer), the data files behind `--data_dir`, and
//!   each path flag resolved once into a local path or an object-store URL.
//! - [`cli`]: the `tbseg` subcommands (`data`, `inspect`, `export`, and with
//!   the trainer `train`, `eval`, `predict`, `sweep`, `lab`): flags in,
//!   a job called, its report printed.
#![deny(missing_docs)]

pub mod cli;
pub mod data;
pub mod job;
pub mod overlay;
pub mod png_file;
pub mod sweep;
#[cfg(feature = "trainer")]
pub mod train;
pub mod variables;
