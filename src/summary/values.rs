//! Constructors for summary values in TensorBoard 2.x's tensor form.
//!
//! Each function returns one [`Value`]: a tensor plus `SummaryMetadata`
//! whose `plugin_data.plugin_name` picks the dashboard and whose
//! `data_class` says how TensorBoard stores it. The metadata is always
//! filled in; [`crate::summary::EventWriter`] and
//! [`crate::summary::SummaryWriter`] drop it from all but a tag's first
//! value in a file. Wrap values in a [`Summary`] to write several in one
//! event.

use std::collections::BTreeMap;

use prost::Message;

use super::hparams::{
    experiment_content, session_end_content, session_start_content, HParamValue, Metric,
    SessionStatus, EXPERIMENT_TAG, SESSION_END_TAG, SESSION_START_TAG,
};
use super::pr_curve::PrCurve;
use crate::proto::tensorboard::PrCurvePluginData;
use crate::proto::tensorflow::{
    summary, summary_metadata, tensor_shape_proto, DataClass, DataType, SummaryMetadata,
    TensorProto, TensorShapeProto,
};

pub use crate::proto::tensorflow::summary::Value;
pub use crate::proto::tensorflow::Summary;

fn metadata(plugin_name: &str, content: Vec<u8>, data_class: DataClass) -> SummaryMetadata {
    SummaryMetadata {
        plugin_data: Some(summary_metadata::PluginData {
            plugin_name: plugin_name.to_owned(),
            content,
        }),
        data_class: data_class as i32,
        ..Default::default()
    }
}

pub(crate) fn shape(dims: &[i64]) -> TensorShapeProto {
    TensorShapeProto {
        dim: dims
            .iter()
            .map(|&size| tensor_shape_proto::Dim {
                size,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn tensor_value(tag: &str, metadata: SummaryMetadata, tensor: TensorProto) -> Value {
    Value {
        tag: tag.to_owned(),
        metadata: Some(metadata),
        value: Some(summary::value::Value::Tensor(tensor)),
        ..Default::default()
    }
}

/// A scalar: a DT_FLOAT rank-0 tensor, plugin `scalars`. Non-finite values
/// are kept as they are (TensorBoard plots NaN and ±inf specially).
pub fn scalar(tag: &str, value: f32) -> Value {
    tensor_value(
        tag,
        metadata("scalars", Vec::new(), DataClass::Scalar),
        TensorProto {
            dtype: DataType::DtFloat as i32,
            tensor_shape: Some(shape(&[])),
            tensor_content: value.to_le_bytes().to_vec(),
            ..Default::default()
        },
    )
}

/// A scalar at double precision: a DT_DOUBLE rank-0 tensor, plugin
/// `scalars`, which TensorBoard reads without narrowing it to 32 bits.
pub fn scalar_f64(tag: &str, value: f64) -> Value {
    tensor_value(
        tag,
        metadata("scalars", Vec::new(), DataClass::Scalar),
        TensorProto {
            dtype: DataType::DtDouble as i32,
            tensor_shape: Some(shape(&[])),
            tensor_content: value.to_le_bytes().to_vec(),
            ..Default::default()
        },
    )
}

/// An image of `height × width` pixels: the v2 form `[b"<width>",
/// b"<height>", png]` (TensorBoard's order, width first), a DT_STRING
/// rank-1 tensor, plugin `images`, data class blob sequence. `png` must
/// be an encoded image of the given size (`tbseg::summary::png::encode`
/// makes one, with the `png` feature).
pub fn image(tag: &str, height: usize, width: usize, png: Vec<u8>) -> Value {
    images(tag, height, width, vec![png])
}

/// Several images of `height × width` pixels under one tag: `[b"<width>",
/// b"<height>", png, png, ...]`. TensorBoard shows them as one card with a sample
/// slider.
pub fn images(tag: &str, height: usize, width: usize, pngs: Vec<Vec<u8>>) -> Value {
    let mut strings = Vec::with_capacity(pngs.len() + 2);
    strings.push(width.to_string().into_bytes());
    strings.push(height.to_string().into_bytes());
    strings.extend(pngs);
    tensor_value(
        tag,
        metadata("images", Vec::new(), DataClass::BlobSequence),
        TensorProto {
            dtype: DataType::DtString as i32,
            tensor_shape: Some(shape(&[strings.len() as i64])),
            string_val: strings,
            ..Default::default()
        },
    )
}

/// A histogram from rows `[left_edge, right_edge, count]` (see
/// [`crate::summary::bucket_values`]): a DT_DOUBLE `[k, 3]` tensor,
/// plugin `histograms`.
pub fn histogram(tag: &str, buckets: &[[f64; 3]]) -> Value {
    let mut content = Vec::with_capacity(buckets.len() * 24);
    for x in buckets.iter().flatten() {
        content.extend_from_slice(&x.to_le_bytes());
    }
    tensor_value(
        tag,
        metadata("histograms", Vec::new(), DataClass::Tensor),
        TensorProto {
            dtype: DataType::DtDouble as i32,
            tensor_shape: Some(shape(&[buckets.len() as i64, 3])),
            tensor_content: content,
            ..Default::default()
        },
    )
}

/// Markdown text: a DT_STRING rank-0 tensor, plugin `text`.
pub fn text(tag: &str, markdown: &str) -> Value {
    tensor_value(
        tag,
        metadata("text", Vec::new(), DataClass::Tensor),
        TensorProto {
            dtype: DataType::DtString as i32,
            tensor_shape: Some(shape(&[])),
            string_val: vec![markdown.as_bytes().to_vec()],
            ..Default::default()
        },
    )
}

/// A PR curve: a DT_FLOAT `[6, num_thresholds]` tensor (rows TP, FP, TN,
/// FN, precision, recall), plugin `pr_curves` with
/// `PrCurvePluginData{version: 0, num_thresholds}`.
pub fn pr_curve(tag: &str, curve: &PrCurve) -> Value {
    let n = curve.num_thresholds as usize;
    let mut content = Vec::with_capacity(6 * n * 4);
    for row in curve.rows() {
        for x in row {
            content.extend_from_slice(&x.to_le_bytes());
        }
    }
    let plugin = PrCurvePluginData {
        version: 0,
        num_thresholds: curve.num_thresholds,
    };
    tensor_value(
        tag,
        metadata("pr_curves", plugin.encode_to_vec(), DataClass::Tensor),
        TensorProto {
            dtype: DataType::DtFloat as i32,
            tensor_shape: Some(shape(&[6, n as i64])),
            tensor_content: content,
            ..Default::default()
        },
    )
}

/// The empty DT_FLOAT tensor of shape `[0]` TensorFlow puts on hparams
/// summaries (their data is all in the metadata).
fn null_tensor() -> TensorProto {
    TensorProto {
        dtype: DataType::DtFloat as i32,
        tensor_shape: Some(shape(&[0])),
        ..Default::default()
    }
}

/// `_hparams_/session_start_info`: this run's hyperparameters, plugin
/// `hparams`. `group_name` groups sessions (runs) of the same
/// configuration; `None` makes each run its own group.
pub fn hparams_session_start(
    hparams: &BTreeMap<String, HParamValue>,
    group_name: Option<&str>,
    start_time_secs: f64,
) -> Value {
    tensor_value(
        SESSION_START_TAG,
        metadata(
            "hparams",
            session_start_content(hparams, group_name, start_time_secs),
            DataClass::Tensor,
        ),
        null_tensor(),
    )
}

/// `_hparams_/experiment`: the hyperparameters' names and types and the
/// declared metrics, plugin `hparams`, so the HParams dashboard shows the
/// metric columns before any metric is logged.
pub fn hparams_experiment(
    hparams: &BTreeMap<String, HParamValue>,
    metrics: &[Metric],
    time_created_secs: f64,
) -> Value {
    tensor_value(
        EXPERIMENT_TAG,
        metadata(
            "hparams",
            experiment_content(hparams, metrics, time_created_secs),
            DataClass::Tensor,
        ),
        null_tensor(),
    )
}

/// `_hparams_/session_end_info`: how the run ended, plugin `hparams`.
pub fn hparams_session_end(status: SessionStatus, end_time_secs: f64) -> Value {
    tensor_value(
        SESSION_END_TAG,
        metadata(
            "hparams",
            session_end_content(status, end_time_secs),
            DataClass::Tensor,
        ),
        null_tensor(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(value: &Value) -> &TensorProto {
        match &value.value {
            Some(summary::value::Value::Tensor(t)) => t,
            other => panic!("not a tensor: {other:?}"),
        }
    }

    fn dims(t: &TensorProto) -> Vec<i64> {
        t.tensor_shape
            .as_ref()
            .unwrap()
            .dim
            .iter()
            .map(|d| d.size)
            .collect()
    }

    fn plugin(value: &Value) -> &str {
        &value
            .metadata
            .as_ref()
            .unwrap()
            .plugin_data
            .as_ref()
            .unwrap()
            .plugin_name
    }

    #[test]
    fn image_is_width_height_png() {
        let v = image("img", 2, 4, vec![1, 2, 3]);
        let t = tensor(&v);
        assert_eq!(t.dtype, DataType::DtString as i32);
        assert_eq!(dims(t), [3]);
        assert_eq!(t.string_val, [b"4".to_vec(), b"2".to_vec(), vec![1, 2, 3]]);
        assert_eq!(plugin(&v), "images");
        assert_eq!(
            v.metadata.as_ref().unwrap().data_class,
            DataClass::BlobSequence as i32
        );
    }

    #[test]
    fn images_share_one_width_and_height() {
        let v = images("imgs", 2, 4, vec![vec![1], vec![2, 3]]);
        let t = tensor(&v);
        assert_eq!(dims(t), [4]);
        assert_eq!(
            t.string_val,
            [b"4".to_vec(), b"2".to_vec(), vec![1], vec![2, 3]]
        );
        assert_eq!(plugin(&v), "images");
    }

    #[test]
    fn histogram_is_k_by_3_doubles() {
        let v = histogram("h", &[[0.0, 1.0, 2.0], [1.0, 2.0, 5.0]]);
        let t = tensor(&v);
        assert_eq!(t.dtype, DataType::DtDouble as i32);
        assert_eq!(dims(t), [2, 3]);
        let values: Vec<f64> = t
            .tensor_content
            .chunks(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(values, [0.0, 1.0, 2.0, 1.0, 2.0, 5.0]);
        assert_eq!(plugin(&v), "histograms");
    }

    #[test]
    fn pr_curve_metadata_names_thresholds() {
        let curve = crate::summary::pr_curve_counts(&[true, false], &[0.9, 0.2], 5).unwrap();
        let v = pr_curve("pr", &curve);
        assert_eq!(dims(tensor(&v)), [6, 5]);
        assert_eq!(tensor(&v).tensor_content.len(), 6 * 5 * 4);
        let content = &v
            .metadata
            .as_ref()
            .unwrap()
            .plugin_data
            .as_ref()
            .unwrap()
            .content;
        let plugin_data = PrCurvePluginData::decode(content.as_slice()).unwrap();
        assert_eq!(plugin_data.num_thresholds, 5);
        assert_eq!(plugin(&v), "pr_curves");
    }

    #[test]
    fn hparams_values_carry_a_null_tensor() {
        let v = hparams_session_start(&BTreeMap::new(), None, 1.0);
        assert_eq!(v.tag, "_hparams_/session_start_info");
        assert_eq!(dims(tensor(&v)), [0]);
        assert_eq!(tensor(&v).dtype, DataType::DtFloat as i32);
        assert_eq!(plugin(&v), "hparams");
    }

    #[test]
    fn text_is_a_string_scalar() {
        let v = text("notes", "**hi**");
        assert_eq!(tensor(&v).string_val, [b"**hi**".to_vec()]);
        assert!(dims(tensor(&v)).is_empty());
        assert_eq!(plugin(&v), "text");
    }
}
