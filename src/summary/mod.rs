//! Writing TensorBoard event files.
//!
//! Two layers:
//!
//! - [`EventWriter`]: synchronous. It turns events and summaries into
//!   TFRecord-framed protobuf records on any [`std::io::Write`] (a file, a
//!   `Vec<u8>` in tests). It attaches each tag's plugin metadata to the first
//!   value of that tag only, since TensorBoard reads metadata from the first
//!   event of a (run, tag) and ignores it afterwards.
//! - [`SummaryWriter`]: what a training loop uses. It owns one event file
//!   in a log directory (one TensorBoard "run"), and a background thread
//!   writes to it, so `add_*` calls only encode a few bytes into memory and
//!   return; the caller waits for the disk only when the queue is full or in
//!   [`SummaryWriter::flush`].
//!
//! Every summary is written in the form TensorBoard 2.x treats as canonical:
//! a tensor plus `plugin_data` naming the dashboard (scalars, images,
//! histograms, text, PR curves, hparams). [`values`] builds those summary
//! values; [`graph`] builds a `GraphDef` for the Graphs dashboard; [`Image`]
//! turns raw pixel data (HW, HWC or CHW; `u8` or floats in `[0, 1]`) into
//! images and grids, and [`overlay_classes`] draws a segmentation's class
//! map over a grey image.
//!
//! Every `add_*` method takes its step as `impl Into<`[`Step`]`>`: an
//! integer, or a [`Step`] that also carries the event's wall time.
//!
//! ```no_run
//! use tbseg::summary::SummaryWriter;
//! let writer = SummaryWriter::new("runs/exp1")?;
//! for step in 0..100 {
//!     writer.add_scalar("loss", 1.0 / (1.0 + step as f32), step)?;
//! }
//! writer.close()?;
//! # Ok::<(), tbseg::summary::SummaryError>(())
//! ```

pub mod audio;
pub mod boxes;
pub mod custom_scalars;
pub mod embedding;
mod error;
mod event_writer;
pub mod graph;
mod histogram;
mod hparams;
mod image;
mod inputs;
mod local_time;
pub mod mesh;
mod multi_scalars;
mod pairs;
#[cfg(feature = "png")]
pub mod png;
mod pr_curve;
pub mod projector_config;
pub mod segments;
pub mod text_table;
pub mod values;
pub mod video;
mod writer;

pub use error::SummaryError;
pub use event_writer::{EventEncoder, EventWriter, FILE_VERSION, WRITER_NAME};
pub use graph::{GraphBuilder, Node};
pub use histogram::{
    bucket_values, histogram_buckets, tensorflow_edges, Bins, Buckets, HISTOGRAM_BUCKETS,
};
pub use hparams::{DatasetType, HParamValue, Metric, SessionStatus};
pub use image::{overlay_classes, BatchLayout, GridOptions, Image, ImageLayout, PixelValue};
pub use inputs::{Double, Scalar, Step};
pub use multi_scalars::sub_run_name;
pub use pairs::{HParamPair, ScalarPair, NO_METRICS};
pub use pr_curve::{
    pr_curve_counts, pr_curve_weighted, PrCurve, PrCurveOptions, PrLabel, DEFAULT_PR_THRESHOLDS,
    MAX_PR_THRESHOLDS,
};
pub use writer::{
    event_file_name, is_event_file_name, SummaryWriter, SummaryWriterBuilder,
    DEFAULT_FLUSH_INTERVAL, DEFAULT_MAX_QUEUE_BYTES,
};
