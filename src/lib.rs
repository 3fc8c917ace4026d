//! tbseg: TensorBoard-compatible logging and TensorFlow-format files in
//! pure Rust. No libtorch, no Python: a plain dependency builds anywhere
//! Rust does. (The lab trainer that the project started from lives in the
//! `tbseg-lab` crate of the same repository and uses this one.)
//!
//! # The format layer (no libtorch)
//!
//! - [`proto`]: the protobuf messages, generated from the project's own
//!   `.proto` files, wire-compatible with TensorFlow's.
//! - [`record`]: TFRecord framing and its masked CRC-32C; a resumable
//!   reader that tells a torn tail from corruption.
//! - [`example`]: `tf.train.Example` building, typed getters, and TFRecord
//!   files of examples.
//! - [`reader`]: event files read back, a whole log directory kept run
//!   by run and tag by tag (`tbseg inspect`), and a run followed while it
//!   is written.
//! - [`atomic`]: crash-safe whole-file writes (temporary file, fsync,
//!   rename, directory fsync) for your own files as for tbseg's:
//!   [`atomic::write`] and the streaming [`atomic::AtomicFile`].
//! - [`checkpoint`]: TensorFlow V2 checkpoints (tensor bundles), the
//!   `checkpoint` state file, crash-safe saving with retention, PyTorch ⇄
//!   TensorFlow weight layouts and safetensors export.
//! - [`storage`]: local paths and object-store URLs (`s3://`, `gs://`,
//!   `az://`, with the `object-store` feature), accepted by every function
//!   that takes a path.
//! - [`summary`]: TensorBoard event files: the asynchronous
//!   [`summary::SummaryWriter`] (scalars, images, histograms, text, PR
//!   curves, graphs, hparams) over the synchronous
//!   [`summary::EventWriter`].
//!
//! Writing a run and reading it back:
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
#![deny(missing_docs)]

pub mod atomic;
pub mod checkpoint;
mod error_line;
pub mod example;
#[cfg(any(feature = "tch", feature = "burn", feature = "candle"))]
pub mod integrations;
pub mod proto;
pub mod reader;
pub mod record;
pub mod storage;
pub mod summary;

pub use error_line::error_line;

// The README's Rust blocks (the library quickstart) run as doc tests, so
// the front page cannot drift from the API. Its other blocks are marked
// `sh`, `text`, `toml` or `python` and are not compiled.
#[cfg(all(doctest, feature = "png"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
