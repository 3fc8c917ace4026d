//! Reading event files back, one file, a whole log directory, or a run
//! that is still being written, with every tag's values typed for its
//! dashboard.
//!
//! - [`EventFileReader`] decodes the `tensorflow.Event` records of one
//!   file. A torn final record, as left by a writer that crashed or is
//!   still writing, ends the file normally and is reported as
//!   [`FileEnd::TornTail`] rather than as corruption. A record with a bad
//!   data checksum or one that is not an `Event` is skipped and reported
//!   with its byte offset, so one bad record does not hide the rest of the
//!   file; a bad length checksum ends the file, since the next record
//!   cannot be found.
//! - [`Logdir::scan`] walks a directory the way TensorBoard does (every
//!   file whose name contains `tfevents` belongs to the run named by its
//!   directory) and keeps every tag of every run as a [`Series`], plus
//!   graphs and session logs. A `SessionLog START` drops the earlier
//!   points at or after its step, as TensorBoard does, so a resumed run
//!   reads as one curve. [`LogdirWatcher`] does the same incrementally for
//!   a run still being written.
//! - Typed values: [`Run::scalars`], [`Run::images`],
//!   [`Run::histograms`], [`Run::texts`], [`Run::pr_curves`],
//!   [`Run::audio`], [`Run::meshes`], [`Run::hparams`],
//!   [`Run::custom_scalars`], [`Run::graph`] and [`Logdir::embeddings`]
//!   decode what tbseg, TensorFlow and torch write for each dashboard
//!   (TensorFlow 2's tensors and the legacy `Summary.Image`,
//!   `HistogramProto` and `Summary.Audio` alike) into plain Rust types;
//!   [`Series::decoded`] gives any tag's values as [`Value`]s.
//!
//! ```
//! use tbseg::reader::Logdir;
//! use tbseg::summary::SummaryWriter;
//!
//! let dir = std::env::temp_dir().join(format!("tbseg-reader-doc-{}", std::process::id()));
//! let writer = SummaryWriter::new(&dir)?;
//! writer.add_histogram("weights", &[0.5f32, 1.5, 1.5], 3)?;
//! writer.add_text("note", "hello", 3)?;
//! writer.close()?;
//! let run = &Logdir::scan(&dir)?.runs["."];
//! let histogram = &run.histograms("weights")?[0];
//! assert_eq!((histogram.step, histogram.value.count()), (3, 3.0));
//! assert_eq!(run.texts("note")?[0].value.as_markdown(), "hello");
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod audio;
mod custom_scalars;
mod embedding;
mod event_file;
mod follow;
mod graph;
mod histogram;
mod hparams;
mod image;
mod logdir;
mod mesh;
mod pr_curve;
mod series;
mod tensor;
mod text;
mod value;

pub use audio::AudioClip;
pub use custom_scalars::{Layout, LayoutCategory, LayoutChart};
pub use embedding::{read_embeddings, Embedding, EmbeddingMetadata, EmbeddingSprite};
pub use event_file::{EventFileReader, FileEnd, ReadEventError, MAX_SKIPPED_KEPT};
pub use follow::{LogdirWatcher, NewEvent};
pub use graph::{Graph, GraphNode};
pub use histogram::{Bucket, Histogram};
pub use hparams::{
    Experiment, HparamDomain, HparamInfo, HparamType, Hparams, HparamsRecord, SessionEnd,
    SessionStart,
};
#[cfg(feature = "png")]
pub use image::Pixels;
pub use image::{Image, ImageFormat};
pub use logdir::{EventFileSummary, FileStatus, Logdir, Run, ScanError};
pub use mesh::{Mesh, MeshComponent, MeshPart};
pub use pr_curve::PrCurve;
pub use series::{scalar_value, scalar_value_f64, Series, SeriesKind, TimedValue};
pub use tensor::{Tensor, TensorData};
pub use text::{Table, Text};
pub use value::{Point, ReadValueError, Value};
#[cfg(test)]
mod fixtures;
