//! What the server keeps of a log directory: per run, per tag, a reservoir
//! sample of the tag's points, already in the shape the data provider hands
//! out (a scalar, a tensor or a sequence of blobs), with the tag's
//! metadata completed the way TensorBoard completes it.

use std::collections::BTreeMap;

use tbseg::proto::tensorflow::event::What;
use tbseg::proto::tensorflow::summary::value::Value as ValueKind;
use tbseg::proto::tensorflow::summary::Value;
use tbseg::proto::tensorflow::summary_metadata::PluginData;
use tbseg::proto::tensorflow::{
    session_log::SessionStatus, tensor_shape_proto::Dim, DataClass, DataType, Event,
    HistogramProto, SummaryMetadata, TensorProto, TensorShapeProto,
};
use tbseg::reader::scalar_value_f64;

use crate::sampling::{Reservoir, SamplesPerPlugin};

/// The tag TensorBoard gives a run's `GraphDef`.
pub const GRAPH_TAG: &str = "__run_graph__";

/// One kept point of a time series.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The event's step.
    pub step: i64,
    /// The event's wall time, seconds since the Unix epoch.
    pub wall_time: f64,
    /// The value, in the time series' data class.
    pub payload: Payload,
}

/// A value as the data provider serves it.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// A scalar time series' value.
    Scalar(f64),
    /// A tensor time series' value (boxed: a scalar point stays small).
    Tensor(Box<TensorProto>),
    /// A blob sequence time series' value: for instance an image's width,
    /// height and encoded bytes.
    Blobs(Vec<Vec<u8>>),
}

/// One tag of one run.
#[derive(Debug, Clone)]
pub struct TimeSeries {
    /// The metadata of the tag's first value, with its data class filled in.
    pub metadata: SummaryMetadata,
    /// The kept points, in arrival order.
    pub points: Reservoir<Point>,
}

impl TimeSeries {
    /// The data class, from the metadata.
    pub fn data_class(&self) -> DataClass {
        DataClass::try_from(self.metadata.data_class).unwrap_or(DataClass::Unknown)
    }

    /// The plugin that owns the tag.
    pub fn plugin_name(&self) -> &str {
        self.metadata
            .plugin_data
            .as_ref()
            .map_or("", |p| p.plugin_name.as_str())
    }
}

/// One run: its time series and what the purge rules need.
#[derive(Debug, Clone, Default)]
pub struct RunData {
    /// Wall time of the run's first event.
    pub start_time: Option<f64>,
    /// Time series by tag.
    pub series: BTreeMap<String, TimeSeries>,
    /// Events whose value could not be read as their tag's data class.
    pub data_loss: u64,
    file_version: Option<String>,
    seen_session_start: bool,
    most_recent_step: i64,
}

impl RunData {
    /// Adds one event, as TensorBoard's `EventAccumulator` does: purges
    /// first (see `maybe_purge`), then keeps the event's values.
    pub fn add_event(&mut self, event: &Event, sampling: &SamplesPerPlugin) {
        if self.start_time.is_none() {
            self.start_time = Some(event.wall_time);
        }
        if let Some(What::FileVersion(version)) = &event.what {
            self.file_version = Some(version.clone());
        }
        self.maybe_purge(event);
        match &event.what {
            Some(What::GraphDef(graph)) => {
                let metadata = blank_metadata("graphs", DataClass::BlobSequence);
                self.push(
                    GRAPH_TAG,
                    metadata,
                    event,
                    Payload::Blobs(vec![graph.clone()]),
                    sampling,
                );
            }
            Some(What::TaggedRunMetadata(tagged)) => {
                // TensorFlow 1's per-step run metadata, under its own tag,
                // for the graphs dashboard.
                let metadata = blank_metadata("graph_tagged_run_metadata", DataClass::BlobSequence);
                self.push(
                    &tagged.tag,
                    metadata,
                    event,
                    Payload::Blobs(vec![tagged.run_metadata.clone()]),
                    sampling,
                );
            }
            Some(What::Summary(summary)) => {
                for value in &summary.value {
                    self.add_value(value, event, sampling);
                }
            }
            _ => {}
        }
    }

    /// TensorBoard's `_MaybePurgeOrphanedData`: for files of version 2 and
    /// later, a `SessionLog START` other than the run's first drops every
    /// point at its step or later in every tag; for older files, a summary
    /// whose step is below the last summary's drops its own tags' points
    /// at that step or later.
    fn maybe_purge(&mut self, event: &Event) {
        let version_2 = self
            .file_version
            .as_deref()
            .and_then(|v| v.strip_prefix("brain.Event:"))
            .and_then(|v| v.parse::<f64>().ok())
            .is_some_and(|v| v >= 2.0);
        let is_summary = matches!(event.what, Some(What::Summary(_)));
        if version_2 {
            if let Some(What::SessionLog(log)) = &event.what {
                if log.status == SessionStatus::Start as i32 {
                    if self.seen_session_start {
                        for series in self.series.values_mut() {
                            series.points.retain(|p| p.step < event.step);
                        }
                    }
                    self.seen_session_start = true;
                }
            }
        } else if let Some(What::Summary(summary)) = &event.what {
            if event.step < self.most_recent_step {
                for value in &summary.value {
                    if let Some(series) = self.series.get_mut(&value.tag) {
                        series.points.retain(|p| p.step < event.step);
                    }
                }
            }
        }
        if is_summary {
            self.most_recent_step = event.step;
        }
    }

    fn add_value(&mut self, value: &Value, event: &Event, sampling: &SamplesPerPlugin) {
        let Some(kind) = &value.value else {
            return;
        };
        // The common case, a tag seen before: its metadata is not copied
        // and its name not allocated again.
        if let Some(series) = self.series.get_mut(&value.tag) {
            match payload(kind, value, &series.metadata) {
                Some(Some(payload)) => series.points.push(Point {
                    step: event.step,
                    wall_time: event.wall_time,
                    payload,
                }),
                Some(None) => self.data_loss += 1,
                None => {}
            }
            return;
        }
        let metadata = initial_metadata(value, kind);
        match payload(kind, value, &metadata) {
            Some(Some(payload)) => self.push(&value.tag, metadata, event, payload, sampling),
            Some(None) => self.data_loss += 1,
            None => {}
        }
    }

    fn push(
        &mut self,
        tag: &str,
        metadata: SummaryMetadata,
        event: &Event,
        payload: Payload,
        sampling: &SamplesPerPlugin,
    ) {
        let series = self.series.entry(tag.to_owned()).or_insert_with(|| {
            let size = sampling.size(
                metadata
                    .plugin_data
                    .as_ref()
                    .map_or("", |p| p.plugin_name.as_str()),
            );
            TimeSeries {
                metadata,
                points: Reservoir::new(size),
            }
        });
        series.points.push(Point {
            step: event.step,
            wall_time: event.wall_time,
            payload,
        });
    }
}

/// The value as its tag's data class (from `metadata`) holds it: `None`
/// for a data class the server does not serve, `Some(None)` for a value
/// that cannot be read as its tag's class (data loss).
fn payload(kind: &ValueKind, value: &Value, metadata: &SummaryMetadata) -> Option<Option<Payload>> {
    let class = DataClass::try_from(metadata.data_class).unwrap_or(DataClass::Unknown);
    Some(match class {
        DataClass::Scalar => scalar_value_f64(value).map(Payload::Scalar),
        DataClass::Tensor => to_tensor(kind).map(|t| Payload::Tensor(Box::new(t))),
        DataClass::BlobSequence => to_blobs(kind, metadata).map(Payload::Blobs),
        DataClass::Unknown => return None,
    })
}

fn blank_metadata(plugin: &str, class: DataClass) -> SummaryMetadata {
    SummaryMetadata {
        plugin_data: Some(PluginData {
            plugin_name: plugin.to_owned(),
            content: Vec::new(),
        }),
        data_class: class.into(),
        ..Default::default()
    }
}

/// `ImagePluginData { converted_to_tensor: true }`, encoded: the plugin
/// content TensorBoard gives a legacy image.
const IMAGE_CONVERTED: &[u8] = &[0x10, 0x01];

/// `AudioPluginData { encoding: WAV, converted_to_tensor: true }`,
/// encoded: the plugin content TensorBoard gives a legacy audio clip (the
/// audio dashboard takes the clip's content type from it).
const AUDIO_CONVERTED: &[u8] = &[0x10, 0x0b, 0x18, 0x01];

/// The metadata TensorBoard gives a tag from its first value
/// (`dataclass_compat` and `data_compat` in TensorBoard): a legacy
/// `simple_value`, image, audio or histogram becomes its plugin's value,
/// named by its tag; a TensorFlow 2 summary keeps its metadata and gets the
/// data class its plugin implies.
fn initial_metadata(value: &Value, kind: &ValueKind) -> SummaryMetadata {
    let given = value.metadata.clone().unwrap_or_default();
    let legacy = |plugin: &str, class: DataClass, content: &[u8]| {
        let display_name = if given.display_name.is_empty() {
            value.tag.clone()
        } else {
            given.display_name.clone()
        };
        SummaryMetadata {
            display_name,
            summary_description: given.summary_description.clone(),
            plugin_data: Some(PluginData {
                plugin_name: plugin.to_owned(),
                content: content.to_vec(),
            }),
            data_class: class.into(),
        }
    };
    if given.data_class != DataClass::Unknown as i32 {
        return given;
    }
    match kind {
        ValueKind::SimpleValue(_) => legacy("scalars", DataClass::Scalar, &[]),
        ValueKind::Image(_) => legacy("images", DataClass::BlobSequence, IMAGE_CONVERTED),
        ValueKind::Audio(_) => legacy("audio", DataClass::BlobSequence, AUDIO_CONVERTED),
        ValueKind::Histo(_) => legacy("histograms", DataClass::Tensor, &[]),
        _ => {
            let mut metadata = given;
            let plugin = metadata
                .plugin_data
                .as_ref()
                .map_or("", |p| p.plugin_name.as_str());
            let class = match plugin {
                "scalars" => DataClass::Scalar,
                "histograms" | "text" | "hparams" | "pr_curves" | "mesh" | "custom_scalars" => {
                    DataClass::Tensor
                }
                "images"
                | "audio"
                | "graph_run_metadata"
                | "graph_run_metadata_graph"
                | "graph_keras_model" => DataClass::BlobSequence,
                _ => DataClass::Unknown,
            };
            metadata.data_class = class.into();
            metadata
        }
    }
}

fn to_tensor(kind: &ValueKind) -> Option<TensorProto> {
    match kind {
        ValueKind::Tensor(tensor) => Some(tensor.clone()),
        ValueKind::Histo(histogram) => Some(histogram_tensor(histogram)),
        _ => None,
    }
}

/// A legacy `HistogramProto` as the `[k, 3]` tensor of (left edge, right
/// edge, count) rows that TensorBoard's `data_compat` makes of it: empty
/// buckets at both ends dropped, the outer edges replaced by the minimum
/// and maximum, in `float32` as TensorBoard stores it.
fn histogram_tensor(histogram: &HistogramProto) -> TensorProto {
    let counts = &histogram.bucket;
    let limits = &histogram.bucket_limit;
    let start = counts.iter().position(|&c| c > 0.0);
    let end = counts.iter().rposition(|&c| c > 0.0);
    let mut rows: Vec<[f64; 3]> = Vec::new();
    if let (Some(start), Some(end)) = (start, end) {
        if limits.len() >= counts.len() {
            let inner = &limits[start..end];
            let lefts = std::iter::once(histogram.min).chain(inner.iter().copied());
            let rights = inner.iter().copied().chain(std::iter::once(histogram.max));
            for ((l, r), c) in lefts.zip(rights).zip(&counts[start..=end]) {
                rows.push([l, r, *c]);
            }
        }
    }
    let content: Vec<u8> = rows
        .iter()
        .flatten()
        .flat_map(|&x| (x as f32).to_le_bytes())
        .collect();
    TensorProto {
        dtype: DataType::DtFloat.into(),
        tensor_shape: Some(TensorShapeProto {
            dim: [rows.len() as i64, 3]
                .into_iter()
                .map(|size| Dim {
                    size,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }),
        tensor_content: content,
        ..Default::default()
    }
}

/// A value as a blob sequence (RustBoard's `into_blob_sequence`): a legacy
/// image is its width, height and encoding; a legacy audio clip its
/// encoding; a string tensor its strings (for audio, the first column of
/// its `[k, 2]` clip/label rows; for graph plugins, its one string).
fn to_blobs(kind: &ValueKind, metadata: &SummaryMetadata) -> Option<Vec<Vec<u8>>> {
    let plugin = metadata
        .plugin_data
        .as_ref()
        .map_or("", |p| p.plugin_name.as_str());
    match kind {
        ValueKind::Image(image) => Some(vec![
            image.width.to_string().into_bytes(),
            image.height.to_string().into_bytes(),
            image.encoded_image_string.clone(),
        ]),
        ValueKind::Audio(audio) => Some(vec![audio.encoded_audio_string.clone()]),
        ValueKind::Tensor(tensor) if tensor.dtype == DataType::DtString as i32 => {
            let dims: Vec<i64> = tensor
                .tensor_shape
                .as_ref()
                .map(|s| s.dim.iter().map(|d| d.size).collect())
                .unwrap_or_default();
            match dims.as_slice() {
                [_] => Some(tensor.string_val.clone()),
                [_, 2] if plugin == "audio" => Some(
                    tensor
                        .string_val
                        .chunks_exact(2)
                        .map(|pair| pair[0].clone())
                        .collect(),
                ),
                [] if tensor.string_val.len() == 1 => Some(tensor.string_val.clone()),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tbseg::proto::tensorflow::{SessionLog, Summary};

    fn scalar_event(tag: &str, step: i64, x: f32) -> Event {
        Event {
            wall_time: step as f64,
            step,
            what: Some(What::Summary(Summary {
                value: vec![Value {
                    tag: tag.into(),
                    value: Some(ValueKind::SimpleValue(x)),
                    ..Default::default()
                }],
            })),
            ..Default::default()
        }
    }

    fn event(step: i64, what: What) -> Event {
        Event {
            step,
            what: Some(what),
            ..Default::default()
        }
    }

    fn steps(run: &RunData, tag: &str) -> Vec<i64> {
        run.series[tag]
            .points
            .items()
            .iter()
            .map(|p| p.step)
            .collect()
    }

    #[test]
    fn legacy_scalar_is_a_scalars_series_named_by_its_tag() {
        let mut run = RunData::default();
        run.add_event(&scalar_event("loss", 1, 0.5), &SamplesPerPlugin::default());
        let series = &run.series["loss"];
        assert_eq!(series.data_class(), DataClass::Scalar);
        assert_eq!(series.plugin_name(), "scalars");
        assert_eq!(series.metadata.display_name, "loss");
        assert_eq!(series.points.items()[0].payload, Payload::Scalar(0.5));
    }

    #[test]
    fn second_session_start_purges_later_steps_in_version_2_files() {
        let sampling = SamplesPerPlugin::default();
        let mut run = RunData::default();
        run.add_event(
            &event(0, What::FileVersion("brain.Event:2".into())),
            &sampling,
        );
        let start = What::SessionLog(SessionLog {
            status: SessionStatus::Start as i32,
            ..Default::default()
        });
        run.add_event(&event(0, start.clone()), &sampling);
        for step in 0..10 {
            run.add_event(&scalar_event("loss", step, 1.0), &sampling);
        }
        run.add_event(&event(5, start), &sampling);
        for step in 5..8 {
            run.add_event(&scalar_event("loss", step, 2.0), &sampling);
        }
        assert_eq!(steps(&run, "loss"), [0, 1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn out_of_order_step_purges_its_tags_in_version_1_files() {
        let sampling = SamplesPerPlugin::default();
        let mut run = RunData::default();
        run.add_event(
            &event(0, What::FileVersion("brain.Event:1".into())),
            &sampling,
        );
        for step in 0..5 {
            run.add_event(&scalar_event("a", step, 1.0), &sampling);
            run.add_event(&scalar_event("b", step, 1.0), &sampling);
        }
        run.add_event(&scalar_event("a", 2, 1.0), &sampling);
        assert_eq!(steps(&run, "a"), [0, 1, 2]);
        assert_eq!(steps(&run, "b"), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn legacy_histogram_becomes_trimmed_float_rows() {
        let t = histogram_tensor(&HistogramProto {
            min: -1.0,
            max: 3.0,
            bucket_limit: vec![-2.0, 0.0, 2.0, 4.0, 9.0],
            bucket: vec![0.0, 1.0, 0.0, 2.0, 0.0],
            ..Default::default()
        });
        let values: Vec<f32> = t
            .tensor_content
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(values, [-1.0, 0.0, 1.0, 0.0, 2.0, 0.0, 2.0, 3.0, 2.0]);
    }

    #[test]
    fn tagged_run_metadata_is_a_blob_sequence_under_its_tag() {
        let mut run = RunData::default();
        let tagged = tbseg::proto::tensorflow::TaggedRunMetadata {
            tag: "step3".into(),
            run_metadata: vec![7],
        };
        run.add_event(
            &event(3, What::TaggedRunMetadata(tagged)),
            &SamplesPerPlugin::default(),
        );
        let series = &run.series["step3"];
        assert_eq!(series.plugin_name(), "graph_tagged_run_metadata");
        assert_eq!(
            series.points.items()[0].payload,
            Payload::Blobs(vec![vec![7]])
        );
    }

    #[test]
    fn graph_is_a_blob_sequence_under_the_run_graph_tag() {
        let mut run = RunData::default();
        run.add_event(
            &event(0, What::GraphDef(vec![1, 2])),
            &SamplesPerPlugin::default(),
        );
        let series = &run.series[GRAPH_TAG];
        assert_eq!(series.plugin_name(), "graphs");
        assert_eq!(
            series.points.items()[0].payload,
            Payload::Blobs(vec![vec![1, 2]])
        );
    }
}
