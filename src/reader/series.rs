//! The values of one tag in one run, and which dashboard they belong to.

use std::fmt;

use crate::proto::tensorflow::summary::value::Value as ValueKind;
use crate::proto::tensorflow::{summary, DataType, SummaryMetadata, TensorProto};

use super::value::{decode, Point, ReadValueError, Value};

/// Which dashboard a tag's values belong to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SeriesKind {
    /// Scalars: `plugin_name` "scalars" or a legacy `simple_value`.
    Scalar,
    /// Images: "images" or a legacy `Summary.Image`.
    Image,
    /// Histograms: "histograms" or a legacy `HistogramProto`.
    Histogram,
    /// Text: "text".
    Text,
    /// Audio: "audio" or a legacy `Summary.Audio`.
    Audio,
    /// Precision-recall curves: "pr_curves".
    PrCurve,
    /// Hyperparameters: "hparams".
    Hparams,
    /// One component of a 3-D mesh: "mesh".
    Mesh,
    /// A Custom Scalars layout: "custom_scalars".
    CustomScalars,
    /// A tensor with no plugin name.
    Tensor,
    /// Another plugin, by name.
    Other(String),
}

impl SeriesKind {
    /// The kind TensorBoard would pick for a summary value: the plugin
    /// named in its metadata, or else the legacy field it sets.
    pub fn of(value: &summary::Value) -> Self {
        let plugin = value
            .metadata
            .as_ref()
            .and_then(|m| m.plugin_data.as_ref())
            .map(|p| p.plugin_name.as_str())
            .unwrap_or("");
        match plugin {
            "scalars" => SeriesKind::Scalar,
            "images" => SeriesKind::Image,
            "histograms" => SeriesKind::Histogram,
            "text" => SeriesKind::Text,
            "audio" => SeriesKind::Audio,
            "pr_curves" => SeriesKind::PrCurve,
            "hparams" => SeriesKind::Hparams,
            "mesh" => SeriesKind::Mesh,
            "custom_scalars" => SeriesKind::CustomScalars,
            "" => match &value.value {
                Some(ValueKind::SimpleValue(_)) => SeriesKind::Scalar,
                Some(ValueKind::Image(_)) => SeriesKind::Image,
                Some(ValueKind::Histo(_)) | Some(ValueKind::ObsoleteOldStyleHistogram(_)) => {
                    SeriesKind::Histogram
                }
                Some(ValueKind::Audio(_)) => SeriesKind::Audio,
                Some(ValueKind::Tensor(_)) | None => SeriesKind::Tensor,
            },
            other => SeriesKind::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for SeriesKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SeriesKind::Scalar => "scalar",
            SeriesKind::Image => "image",
            SeriesKind::Histogram => "histogram",
            SeriesKind::Text => "text",
            SeriesKind::Audio => "audio",
            SeriesKind::PrCurve => "pr_curve",
            SeriesKind::Hparams => "hparams",
            SeriesKind::Mesh => "mesh",
            SeriesKind::CustomScalars => "custom_scalars",
            SeriesKind::Tensor => "tensor",
            SeriesKind::Other(name) => name,
        })
    }
}

/// The value of a scalar summary, in either form TensorBoard reads: a
/// legacy `simple_value`, or a rank-0 (one element) `DT_FLOAT` or
/// `DT_DOUBLE` tensor in `tensor_content` or `float_val`/`double_val`;
/// narrowed to `f32` (see [`scalar_value_f64`] for the full precision).
pub fn scalar_value(value: &summary::Value) -> Option<f32> {
    scalar_value_f64(value).map(|x| x as f32)
}

/// [`scalar_value`] at the precision logged: a `DT_DOUBLE` scalar keeps
/// all its digits.
pub fn scalar_value_f64(value: &summary::Value) -> Option<f64> {
    match value.value.as_ref()? {
        ValueKind::SimpleValue(x) => Some((*x).into()),
        ValueKind::Tensor(tensor) => tensor_scalar(tensor),
        _ => None,
    }
}

pub(crate) fn tensor_scalar(tensor: &TensorProto) -> Option<f64> {
    let one_element = tensor
        .tensor_shape
        .as_ref()
        .is_none_or(|shape| shape.dim.iter().all(|d| d.size == 1));
    if !one_element {
        return None;
    }
    let content = tensor.tensor_content.as_slice();
    match DataType::try_from(tensor.dtype).ok()? {
        DataType::DtFloat => match content.try_into() {
            Ok(bytes) => Some(f32::from_le_bytes(bytes).into()),
            Err(_) => match tensor.float_val.as_slice() {
                [x] => Some((*x).into()),
                _ => None,
            },
        },
        DataType::DtDouble => match content.try_into() {
            Ok(bytes) => Some(f64::from_le_bytes(bytes)),
            Err(_) => match tensor.double_val.as_slice() {
                [x] => Some(*x),
                _ => None,
            },
        },
        _ => None,
    }
}

/// One non-scalar value of a series, as it was logged.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedValue {
    /// The event's step.
    pub step: i64,
    /// The event's wall time, in seconds since the Unix epoch.
    pub wall_time: f64,
    /// The value: a tensor for every summary written the TensorFlow 2 way
    /// (images, histograms, text, PR curves, audio, hparams ...), or a
    /// legacy `Summary.Image`, `HistogramProto` or `Summary.Audio`.
    pub value: ValueKind,
}

/// The values of one tag in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The dashboard, taken from the tag's first value.
    pub kind: SeriesKind,
    /// How many values the tag has (after any purge).
    pub count: u64,
    /// Step of the first value, in file order.
    pub first_step: i64,
    /// Step of the last value, in file order.
    pub last_step: i64,
    /// The metadata of the tag's first value (plugin name and content,
    /// display name), which is the one TensorBoard keeps too.
    pub metadata: Option<SummaryMetadata>,
    tag: String,
    /// Scalars, kept decoded (at the precision logged) since a long run
    /// holds millions of them.
    points: Vec<Point<f64>>,
    values: Vec<TimedValue>,
}

impl Series {
    pub(crate) fn new(value: &summary::Value, step: i64) -> Self {
        Series {
            kind: SeriesKind::of(value),
            count: 0,
            first_step: step,
            last_step: step,
            metadata: value.metadata.clone(),
            tag: value.tag.clone(),
            points: Vec::new(),
            values: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, step: i64, wall_time: f64, value: &summary::Value) {
        if self.count == 0 {
            self.first_step = step;
        }
        self.count += 1;
        self.last_step = step;
        let scalar = match self.kind {
            SeriesKind::Scalar => scalar_value_f64(value),
            _ => None,
        };
        match (scalar, &value.value) {
            (Some(value), _) => self.points.push(Point {
                step,
                wall_time,
                value,
            }),
            (None, Some(kind)) => self.values.push(TimedValue {
                step,
                wall_time,
                value: kind.clone(),
            }),
            // A value with no payload at all has nothing to keep but its
            // step, which the count and range already hold.
            (None, None) => {}
        }
    }

    /// Drops every value at `step` or later, as TensorBoard does when a
    /// run restarts (`SessionLog START`); returns how many went.
    pub(crate) fn purge_from(&mut self, step: i64) -> u64 {
        let before = self.points.len() + self.values.len();
        self.points.retain(|p| p.step < step);
        self.values.retain(|v| v.step < step);
        let removed = (before - self.points.len() - self.values.len()) as u64;
        if removed > 0 {
            self.count = self.count.saturating_sub(removed);
            let firsts = [
                self.points.first().map(|p| p.step),
                self.values.first().map(|v| v.step),
            ];
            let lasts = [
                self.points.last().map(|p| p.step),
                self.values.last().map(|v| v.step),
            ];
            self.first_step = firsts.into_iter().flatten().min().unwrap_or(step);
            self.last_step = lasts.into_iter().flatten().max().unwrap_or(step);
        }
        removed
    }

    /// The tag.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// Every `(step, value)` of a scalar tag, in file order, narrowed to
    /// `f32`; empty for other kinds. See
    /// [`scalar_points`](Self::scalar_points) for the precision logged and
    /// the wall times.
    pub fn points(&self) -> Vec<(i64, f32)> {
        self.points
            .iter()
            .map(|p| (p.step, p.value as f32))
            .collect()
    }

    /// Every point of a scalar tag, in file order, at the precision logged
    /// (a `DT_DOUBLE` scalar keeps all its digits); empty for other kinds.
    pub fn scalar_points(&self) -> &[Point<f64>] {
        &self.points
    }

    /// The last scalar value, if this is a scalar tag.
    pub fn last_value(&self) -> Option<f64> {
        self.points.last().map(|p| p.value)
    }

    /// Every non-scalar value (and any scalar value that held no number),
    /// in file order, as logged (protobuf messages); see
    /// [`decoded`](Self::decoded) for typed values.
    pub fn values(&self) -> &[TimedValue] {
        &self.values
    }

    /// Every value, decoded for the tag's dashboard, in file order: a
    /// [`Value::Scalar`] for each scalar, an image list, a histogram, a
    /// text, ... for the others. A value not in the form its dashboard
    /// reads is an [`ReadValueError::Malformed`] naming the tag and step;
    /// the others still decode.
    pub fn decoded(&self) -> impl Iterator<Item = Result<Point<Value>, ReadValueError>> + '_ {
        let scalars = self.points.iter().map(|p| Ok(p.clone().map(Value::Scalar)));
        scalars.chain(self.values.iter().map(|v| self.decode(v)))
    }

    /// The last value, decoded (see [`decoded`](Self::decoded)); `None`
    /// for a tag with no stored value.
    pub fn last_decoded(&self) -> Option<Result<Point<Value>, ReadValueError>> {
        let last_scalar = self.points.last();
        let last_value = self.values.last();
        // Scalars and other values of one tag are ordered by file position
        // only within each list; a tag normally holds one or the other.
        match (last_scalar, last_value) {
            (Some(p), None) => Some(Ok(p.clone().map(Value::Scalar))),
            (_, Some(v)) => Some(self.decode(v)),
            (None, None) => None,
        }
    }

    fn decode(&self, v: &TimedValue) -> Result<Point<Value>, ReadValueError> {
        let value = decode(&self.kind, self.metadata.as_ref(), &v.value).map_err(|e| {
            ReadValueError::Malformed {
                tag: self.tag.clone(),
                step: v.step,
                reason: e.0,
            }
        })?;
        Ok(Point {
            step: v.step,
            wall_time: v.wall_time,
            value,
        })
    }

    /// Every value as `T`, checking that the tag is of kind `expected`.
    pub(crate) fn typed<T>(
        &self,
        expected: SeriesKind,
        pick: impl Fn(Value) -> Option<T>,
    ) -> Result<Vec<Point<T>>, ReadValueError> {
        if self.kind != expected {
            return Err(ReadValueError::WrongKind {
                tag: self.tag.clone(),
                expected,
                found: self.kind.clone(),
            });
        }
        self.decoded()
            .map(|point| {
                let point = point?;
                let step = point.step;
                let kind = &self.kind;
                let (wall_time, value) = (point.wall_time, point.value);
                match pick(value) {
                    Some(value) => Ok(Point {
                        step,
                        wall_time,
                        value,
                    }),
                    None => Err(ReadValueError::Malformed {
                        tag: self.tag.clone(),
                        step,
                        reason: format!("a value that is not a {kind} value"),
                    }),
                }
            })
            .collect()
    }

    /// The `(step, tensor)` of every value stored as a tensor, in file
    /// order; read them with the plugin named by
    /// [`plugin_name`](Self::plugin_name).
    pub fn tensors(&self) -> impl Iterator<Item = (i64, &TensorProto)> {
        self.values.iter().filter_map(|v| match &v.value {
            ValueKind::Tensor(tensor) => Some((v.step, tensor)),
            _ => None,
        })
    }

    /// The plugin named in the first value's metadata; `""` when none is.
    pub fn plugin_name(&self) -> &str {
        self.metadata
            .as_ref()
            .and_then(|m| m.plugin_data.as_ref())
            .map_or("", |p| p.plugin_name.as_str())
    }

    /// The steps present more than once, sorted: after a crash and
    /// resume without a purge, TensorBoard would show them twice.
    pub fn duplicate_steps(&self) -> Vec<i64> {
        let mut steps: Vec<i64> = self
            .points
            .iter()
            .map(|p| p.step)
            .chain(self.values.iter().map(|v| v.step))
            .collect();
        steps.sort_unstable();
        let mut dups: Vec<i64> = steps
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .collect();
        dups.dedup();
        dups
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::tensorflow::{HistogramProto, TensorShapeProto};
    use crate::reader::fixtures::{float_tensor, value};

    #[test]
    fn kinds_from_plugin_name_or_legacy_field() {
        let histo = ValueKind::Histo(HistogramProto::default());
        let cases = [
            (
                value("s", Some("scalars"), float_tensor(1.0, true)),
                SeriesKind::Scalar,
            ),
            (
                value("s", None, ValueKind::SimpleValue(1.0)),
                SeriesKind::Scalar,
            ),
            (value("h", None, histo.clone()), SeriesKind::Histogram),
            (
                value("h", Some("histograms"), float_tensor(0.0, true)),
                SeriesKind::Histogram,
            ),
            (
                value("i", None, ValueKind::Image(Default::default())),
                SeriesKind::Image,
            ),
            (
                value("t", Some("text"), float_tensor(0.0, true)),
                SeriesKind::Text,
            ),
            (
                value("p", Some("pr_curves"), float_tensor(0.0, true)),
                SeriesKind::PrCurve,
            ),
            (
                value("x", Some("hparams"), float_tensor(0.0, true)),
                SeriesKind::Hparams,
            ),
            (
                value("x", None, float_tensor(0.0, true)),
                SeriesKind::Tensor,
            ),
            (
                value("c", Some("custom_scalars"), float_tensor(0.0, true)),
                SeriesKind::CustomScalars,
            ),
            (
                value("o", Some("projector"), float_tensor(0.0, true)),
                SeriesKind::Other("projector".into()),
            ),
            (value("m", Some("mesh"), histo), SeriesKind::Mesh),
        ];
        for (v, want) in cases {
            assert_eq!(SeriesKind::of(&v), want, "{v:?}");
        }
    }

    #[test]
    fn scalar_values_in_every_form() {
        assert_eq!(
            scalar_value(&value("a", None, ValueKind::SimpleValue(2.5))),
            Some(2.5)
        );
        assert_eq!(
            scalar_value(&value("a", None, float_tensor(-1.25, true))),
            Some(-1.25)
        );
        assert_eq!(
            scalar_value(&value("a", None, float_tensor(7.0, false))),
            Some(7.0)
        );
        let double = ValueKind::Tensor(TensorProto {
            dtype: DataType::DtDouble as i32,
            tensor_content: 0.125f64.to_le_bytes().to_vec(),
            ..Default::default()
        });
        assert_eq!(scalar_value(&value("a", None, double)), Some(0.125));
        let vector = ValueKind::Tensor(TensorProto {
            dtype: DataType::DtFloat as i32,
            tensor_shape: Some(TensorShapeProto {
                dim: vec![Default::default(); 1],
                ..Default::default()
            }),
            float_val: vec![1.0, 2.0],
            ..Default::default()
        });
        assert_eq!(scalar_value(&value("a", None, vector)), None);
    }
}
