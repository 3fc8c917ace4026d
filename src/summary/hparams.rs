//! Hyperparameters for TensorBoard's HParams dashboard.
//!
//! The writer records one `_hparams_/session_start_info` summary per run
//! (and optionally `_hparams_/session_end_info`). Without declared metrics
//! no experiment summary is written: TensorBoard then infers the experiment
//! from every run's session start info and takes the metrics from the
//! scalars of the same runs, so each training run stays a single directory
//! (torch and tensorboardX instead create an extra sub-run per
//! `add_hparams` call). With declared [`Metric`]s the run also gets an
//! `_hparams_/experiment` summary listing the hyperparameters and the
//! metrics, so the dashboard shows the metric columns (with their display
//! names and descriptions) before any of them is logged.

use std::collections::BTreeMap;

use prost::Message;

use crate::proto::google::protobuf::value::Kind;
use crate::proto::google::protobuf::Value as ProtoValue;
use crate::proto::tensorboard::hparams::{
    h_params_plugin_data, DataType, DatasetType as ProtoDatasetType, Experiment, HParamInfo,
    HParamsPluginData, MetricInfo, MetricName, SessionEndInfo, SessionStartInfo, Status,
};

/// Tag of the session start summary.
pub(crate) const SESSION_START_TAG: &str = "_hparams_/session_start_info";
/// Tag of the session end summary.
pub(crate) const SESSION_END_TAG: &str = "_hparams_/session_end_info";
/// Tag of the experiment summary.
pub(crate) const EXPERIMENT_TAG: &str = "_hparams_/experiment";

/// A metric the HParams dashboard shows as a column: a scalar tag, with an
/// optional display name, description and dataset.
///
/// TensorBoard's `MetricInfo` has no goal field (whether higher is
/// better); say it in the description.
///
/// ```
/// use tbseg::summary::{DatasetType, Metric};
/// let dice = Metric::new("eval/dice")
///     .display_name("Dice")
///     .description("Validation Dice, higher is better")
///     .dataset_type(DatasetType::Validation);
/// assert_eq!(dice.tag, "eval/dice");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metric {
    /// The scalar tag the metric is logged under.
    pub tag: String,
    /// The run holding the scalar, relative to the run of the hparams
    /// (`"eval"` for a sibling writer in `<run>/eval`); empty (the
    /// default) for the same run.
    pub group: String,
    /// The column title; the tag if empty (the default).
    pub display_name: String,
    /// A tooltip; empty by default.
    pub description: String,
    /// Which data the metric is computed on; unset by default.
    pub dataset_type: Option<DatasetType>,
}

impl Metric {
    /// The metric logged as scalar `tag` in the same run.
    pub fn new(tag: impl Into<String>) -> Self {
        Metric {
            tag: tag.into(),
            group: String::new(),
            display_name: String::new(),
            description: String::new(),
            dataset_type: None,
        }
    }

    /// Sets [`Metric::group`].
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = group.into();
        self
    }

    /// Sets [`Metric::display_name`].
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = name.into();
        self
    }

    /// Sets [`Metric::description`].
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    /// Sets [`Metric::dataset_type`].
    pub fn dataset_type(mut self, dataset: DatasetType) -> Self {
        self.dataset_type = Some(dataset);
        self
    }

    fn to_proto(&self) -> MetricInfo {
        MetricInfo {
            name: Some(MetricName {
                group: self.group.clone(),
                tag: self.tag.clone(),
            }),
            display_name: self.display_name.clone(),
            description: self.description.clone(),
            dataset_type: match self.dataset_type {
                None => ProtoDatasetType::DatasetUnknown,
                Some(DatasetType::Training) => ProtoDatasetType::DatasetTraining,
                Some(DatasetType::Validation) => ProtoDatasetType::DatasetValidation,
            } as i32,
        }
    }
}

/// The data a [`Metric`] is computed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetType {
    /// The training set.
    Training,
    /// The validation set.
    Validation,
}

/// One hyperparameter value. TensorBoard knows three types; integers are
/// stored as floats (as TensorBoard does).
#[derive(Debug, Clone, PartialEq)]
pub enum HParamValue {
    /// A number.
    Float(f64),
    /// A flag.
    Bool(bool),
    /// A string (a model name, an optimizer).
    Text(String),
}

impl From<f64> for HParamValue {
    fn from(v: f64) -> Self {
        HParamValue::Float(v)
    }
}
impl From<f32> for HParamValue {
    fn from(v: f32) -> Self {
        HParamValue::Float(v.into())
    }
}
macro_rules! hparam_from_small_int {
    ($($t:ty),*) => {$(
        impl From<$t> for HParamValue {
            fn from(v: $t) -> Self {
                HParamValue::Float(v.into())
            }
        }
    )*};
}
hparam_from_small_int!(i8, i16, u8, u16);
impl From<u64> for HParamValue {
    fn from(v: u64) -> Self {
        HParamValue::Float(v as f64)
    }
}
impl From<i64> for HParamValue {
    fn from(v: i64) -> Self {
        HParamValue::Float(v as f64)
    }
}
impl From<i32> for HParamValue {
    fn from(v: i32) -> Self {
        HParamValue::Float(v.into())
    }
}
impl From<u32> for HParamValue {
    fn from(v: u32) -> Self {
        HParamValue::Float(v.into())
    }
}
impl From<usize> for HParamValue {
    fn from(v: usize) -> Self {
        HParamValue::Float(v as f64)
    }
}
impl From<bool> for HParamValue {
    fn from(v: bool) -> Self {
        HParamValue::Bool(v)
    }
}
impl From<&str> for HParamValue {
    fn from(v: &str) -> Self {
        HParamValue::Text(v.to_owned())
    }
}
impl From<String> for HParamValue {
    fn from(v: String) -> Self {
        HParamValue::Text(v)
    }
}

/// The values of a map borrowed by iteration (`&HashMap<String, f64>`
/// yields `&f64`) convert as the values themselves do.
macro_rules! hparam_from_ref {
    ($($t:ty),*) => {$(
        impl From<&$t> for HParamValue {
            fn from(v: &$t) -> Self {
                (*v).into()
            }
        }
    )*};
}
hparam_from_ref!(f64, f32, i8, i16, i32, i64, u8, u16, u32, u64, usize, bool, &str);

impl From<&String> for HParamValue {
    fn from(v: &String) -> Self {
        HParamValue::Text(v.clone())
    }
}

impl From<&HParamValue> for HParamValue {
    fn from(v: &HParamValue) -> Self {
        v.clone()
    }
}

impl HParamValue {
    fn to_proto(&self) -> ProtoValue {
        let kind = match self {
            HParamValue::Float(v) => Kind::NumberValue(*v),
            HParamValue::Bool(v) => Kind::BoolValue(*v),
            HParamValue::Text(v) => Kind::StringValue(v.clone()),
        };
        ProtoValue { kind: Some(kind) }
    }
}

/// How a training session ended, for [`crate::summary::SummaryWriter::end_hparams`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    /// Finished normally.
    Success,
    /// Failed.
    Failure,
    /// Still running (or interrupted and resumable).
    Running,
    /// Unknown.
    Unknown,
}

impl SessionStatus {
    fn to_proto(self) -> Status {
        match self {
            SessionStatus::Success => Status::Success,
            SessionStatus::Failure => Status::Failure,
            SessionStatus::Running => Status::Running,
            SessionStatus::Unknown => Status::Unknown,
        }
    }
}

/// Serialized `HParamsPluginData{version: 0, session_start_info}`.
pub(crate) fn session_start_content(
    hparams: &BTreeMap<String, HParamValue>,
    group_name: Option<&str>,
    start_time_secs: f64,
) -> Vec<u8> {
    let info = SessionStartInfo {
        hparams: hparams
            .iter()
            .map(|(name, value)| (name.clone(), value.to_proto()))
            .collect(),
        group_name: group_name.unwrap_or_default().to_owned(),
        start_time_secs,
        ..Default::default()
    };
    HParamsPluginData {
        version: 0,
        data: Some(h_params_plugin_data::Data::SessionStartInfo(info)),
    }
    .encode_to_vec()
}

/// Serialized `HParamsPluginData{version: 0, experiment}`: one
/// `HParamInfo` per hyperparameter (name and type; no domain, as PyTorch
/// writes it, since other runs may take other values) and the metrics.
pub(crate) fn experiment_content(
    hparams: &BTreeMap<String, HParamValue>,
    metrics: &[Metric],
    time_created_secs: f64,
) -> Vec<u8> {
    let hparam_infos = hparams
        .iter()
        .map(|(name, value)| HParamInfo {
            name: name.clone(),
            r#type: match value {
                HParamValue::Float(_) => DataType::Float64,
                HParamValue::Bool(_) => DataType::Bool,
                HParamValue::Text(_) => DataType::String,
            } as i32,
            ..Default::default()
        })
        .collect();
    HParamsPluginData {
        version: 0,
        data: Some(h_params_plugin_data::Data::Experiment(Experiment {
            time_created_secs,
            hparam_infos,
            metric_infos: metrics.iter().map(Metric::to_proto).collect(),
            ..Default::default()
        })),
    }
    .encode_to_vec()
}

/// Serialized `HParamsPluginData{version: 0, session_end_info}`.
pub(crate) fn session_end_content(status: SessionStatus, end_time_secs: f64) -> Vec<u8> {
    HParamsPluginData {
        version: 0,
        data: Some(h_params_plugin_data::Data::SessionEndInfo(SessionEndInfo {
            status: status.to_proto() as i32,
            end_time_secs,
        })),
    }
    .encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_info_round_trips() {
        let mut hp = BTreeMap::new();
        hp.insert("learning_rate".to_owned(), HParamValue::from(0.01));
        hp.insert("model".to_owned(), "cnn".into());
        hp.insert("augment".to_owned(), true.into());
        let bytes = session_start_content(&hp, Some("g"), 12.5);
        let data = HParamsPluginData::decode(bytes.as_slice()).unwrap();
        assert_eq!(data.version, 0);
        let Some(h_params_plugin_data::Data::SessionStartInfo(info)) = data.data else {
            panic!("not a start info: {data:?}");
        };
        assert_eq!(info.group_name, "g");
        assert_eq!(info.start_time_secs, 12.5);
        assert_eq!(
            info.hparams["learning_rate"].kind,
            Some(Kind::NumberValue(0.01))
        );
        assert_eq!(
            info.hparams["model"].kind,
            Some(Kind::StringValue("cnn".into()))
        );
        assert_eq!(info.hparams["augment"].kind, Some(Kind::BoolValue(true)));
    }

    #[test]
    fn experiment_lists_hparams_and_metrics() {
        let mut hp = BTreeMap::new();
        hp.insert("lr".to_owned(), HParamValue::from(0.1));
        hp.insert("model".to_owned(), "cnn".into());
        hp.insert("augment".to_owned(), false.into());
        let metrics = [
            Metric::new("loss").display_name("Loss"),
            Metric::new("dice")
                .group("eval")
                .description("higher is better")
                .dataset_type(DatasetType::Validation),
        ];
        let bytes = experiment_content(&hp, &metrics, 7.0);
        let data = HParamsPluginData::decode(bytes.as_slice()).unwrap();
        let Some(h_params_plugin_data::Data::Experiment(e)) = data.data else {
            panic!("not an experiment: {data:?}");
        };
        assert_eq!(e.time_created_secs, 7.0);
        let types: Vec<(&str, i32)> = e
            .hparam_infos
            .iter()
            .map(|h| (h.name.as_str(), h.r#type))
            .collect();
        assert_eq!(
            types,
            [
                ("augment", DataType::Bool as i32),
                ("lr", DataType::Float64 as i32),
                ("model", DataType::String as i32)
            ]
        );
        assert_eq!(e.metric_infos.len(), 2);
        let dice = &e.metric_infos[1];
        let name = dice.name.as_ref().unwrap();
        assert_eq!((name.group.as_str(), name.tag.as_str()), ("eval", "dice"));
        assert_eq!(dice.description, "higher is better");
        assert_eq!(
            dice.dataset_type,
            ProtoDatasetType::DatasetValidation as i32
        );
        assert_eq!(e.metric_infos[0].display_name, "Loss");
        assert_eq!(e.metric_infos[0].dataset_type, 0);
    }

    #[test]
    fn end_info_round_trips() {
        let bytes = session_end_content(SessionStatus::Success, 99.0);
        let data = HParamsPluginData::decode(bytes.as_slice()).unwrap();
        let Some(h_params_plugin_data::Data::SessionEndInfo(info)) = data.data else {
            panic!("not an end info");
        };
        assert_eq!(info.status, Status::Success as i32);
        assert_eq!(info.end_time_secs, 99.0);
    }
}
