//! Decoded values: one typed [`Value`] per logged summary value, whatever
//! form (TensorFlow 2 tensor or legacy field) it was written in.

use std::io;
use std::path::PathBuf;

use crate::proto::tensorflow::summary::value::Value as ValueKind;
use crate::proto::tensorflow::SummaryMetadata;

use super::audio::{self, AudioClip};
use super::custom_scalars::{self, Layout};
use super::histogram::{self, Histogram};
use super::hparams::{self, HparamsRecord};
use super::image::{self, Image};
use super::mesh::{self, MeshPart};
use super::pr_curve::{self, PrCurve};
use super::series::SeriesKind;
use super::tensor::{Tensor, TensorError};
use super::text::{self, Text};

/// One value of a tag with its step and wall time.
#[derive(Debug, Clone, PartialEq)]
pub struct Point<T> {
    /// The event's step.
    pub step: i64,
    /// The event's wall time, in seconds since the Unix epoch.
    pub wall_time: f64,
    /// The value.
    pub value: T,
}

impl<T> Point<T> {
    /// The same point with its value converted.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Point<U> {
        Point {
            step: self.step,
            wall_time: self.wall_time,
            value: f(self.value),
        }
    }
}

/// One logged value, decoded for its dashboard.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// A scalar, at the precision it was logged (`f32` or `f64`).
    Scalar(f64),
    /// One or more images of one size (a video is a GIF image).
    Images(Vec<Image>),
    /// A histogram.
    Histogram(Histogram),
    /// Text or a table of text.
    Text(Text),
    /// A precision-recall curve.
    PrCurve(PrCurve),
    /// One or more audio clips.
    Audio(Vec<AudioClip>),
    /// Hyperparameters: an experiment, a session start or a session end.
    Hparams(HparamsRecord),
    /// One component of a mesh.
    Mesh(MeshPart),
    /// A Custom Scalars layout.
    CustomScalars(Layout),
    /// A tensor of a plugin the reader has no typed form for.
    Tensor(Tensor),
}

/// A tag's values could not be read as asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadValueError {
    /// The run has no such tag.
    #[error("no tag {tag:?} in the run")]
    MissingTag {
        /// The tag asked for.
        tag: String,
    },
    /// The tag belongs to another dashboard.
    #[error("tag {tag:?} holds {found} values, not {expected}")]
    WrongKind {
        /// The tag.
        tag: String,
        /// The kind asked for.
        expected: SeriesKind,
        /// The tag's kind.
        found: SeriesKind,
    },
    /// A value is not in the form its dashboard reads.
    #[error("tag {tag:?} at step {step}: {reason}")]
    Malformed {
        /// The tag.
        tag: String,
        /// The value's step.
        step: i64,
        /// What is wrong.
        reason: String,
    },
    /// A file that the run's configuration points at (an embedding's
    /// tensor, metadata or sprite, or the configuration itself) could not
    /// be read or parsed.
    #[error("cannot read {}", path.display())]
    Asset {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// Decodes one stored value of a tag of kind `kind`; `metadata` is the
/// tag's (the first value's) metadata, which is where hparams and meshes
/// keep their data.
pub(crate) fn decode(
    kind: &SeriesKind,
    metadata: Option<&SummaryMetadata>,
    value: &ValueKind,
) -> Result<Value, TensorError> {
    let plugin_content = || {
        metadata
            .and_then(|m| m.plugin_data.as_ref())
            .map_or(&[][..], |p| p.content.as_slice())
    };
    match value {
        ValueKind::SimpleValue(x) => Ok(Value::Scalar((*x).into())),
        ValueKind::Image(legacy) => Ok(Value::Images(vec![image::from_legacy(legacy)?])),
        ValueKind::Histo(legacy) => Ok(Value::Histogram(histogram::from_legacy(legacy)?)),
        ValueKind::Audio(legacy) => Ok(Value::Audio(vec![audio::from_legacy(legacy)?])),
        ValueKind::ObsoleteOldStyleHistogram(_) => {
            Err(TensorError("an obsolete old-style histogram".into()))
        }
        ValueKind::Tensor(tensor) => Ok(match kind {
            SeriesKind::Scalar => match super::series::tensor_scalar(tensor) {
                Some(x) => Value::Scalar(x),
                None => {
                    return Err(TensorError(
                        "a scalar tag's tensor holds no single number".into(),
                    ))
                }
            },
            SeriesKind::Image => Value::Images(image::from_tensor(tensor)?),
            SeriesKind::Histogram => Value::Histogram(histogram::from_tensor(tensor)?),
            SeriesKind::Text => Value::Text(text::from_tensor(tensor)?),
            SeriesKind::Audio => Value::Audio(audio::from_tensor(tensor)?),
            SeriesKind::PrCurve => Value::PrCurve(pr_curve::from_tensor(tensor)?),
            SeriesKind::Hparams => Value::Hparams(hparams::from_plugin_content(plugin_content())?),
            SeriesKind::Mesh => Value::Mesh(mesh::from_tensor(tensor, plugin_content())?),
            SeriesKind::CustomScalars => Value::CustomScalars(custom_scalars::from_tensor(tensor)?),
            SeriesKind::Tensor | SeriesKind::Other(_) => Value::Tensor(Tensor::from_proto(tensor)?),
        }),
    }
}
