//! Hyperparameters read back from the HParams plugin's summaries, whose
//! data is all in their metadata: `_hparams_/experiment` (the columns),
//! `_hparams_/session_start_info` (one run's values) and
//! `_hparams_/session_end_info` (how it ended).

use std::collections::BTreeMap;

use prost::Message;

use crate::proto::google::protobuf::value::Kind;
use crate::proto::google::protobuf::Value as ProtoValue;
use crate::proto::tensorboard::hparams::{
    h_param_info::Domain, h_params_plugin_data::Data, DataType, DatasetType as ProtoDatasetType,
    HParamsPluginData, Status,
};
use crate::summary::{DatasetType, HParamValue, Metric, SessionStatus};

use super::tensor::{self, TensorError};

/// What one hparams summary holds.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum HparamsRecord {
    /// The experiment: which hyperparameters and metrics the dashboard
    /// shows as columns.
    Experiment(Experiment),
    /// A session (run) started with these hyperparameter values.
    SessionStart(SessionStart),
    /// A session ended.
    SessionEnd(SessionEnd),
}

/// The hyperparameters of one run: every hparams summary it holds.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Hparams {
    /// The experiment, if the run declares one (tbseg does when metrics
    /// are declared; torch writes one in every `add_hparams` run).
    pub experiment: Option<Experiment>,
    /// The run's hyperparameter values.
    pub session_start: Option<SessionStart>,
    /// How the run ended, if that was logged.
    pub session_end: Option<SessionEnd>,
}

/// The HParams dashboard's columns.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Experiment {
    /// The hyperparameters.
    pub hparams: Vec<HparamInfo>,
    /// The metrics (scalar tags) shown next to them.
    pub metrics: Vec<Metric>,
    /// When the experiment was created, in seconds since the Unix epoch.
    pub time_created_secs: f64,
}

/// One hyperparameter column.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct HparamInfo {
    /// The hyperparameter's name.
    pub name: String,
    /// The column title; empty for the name.
    pub display_name: String,
    /// A tooltip; may be empty.
    pub description: String,
    /// The value type, if declared.
    pub kind: Option<HparamType>,
    /// The values it may take, if declared.
    pub domain: Option<HparamDomain>,
}

/// The type of a hyperparameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HparamType {
    /// Text.
    String,
    /// A flag.
    Bool,
    /// A number.
    Float,
}

/// The values a hyperparameter may take.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum HparamDomain {
    /// One of these values.
    Discrete(Vec<HParamValue>),
    /// A number in `[min, max]`.
    Interval {
        /// The smallest value.
        min: f64,
        /// The largest value.
        max: f64,
    },
}

/// A session's start: its hyperparameter values.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SessionStart {
    /// The values by name.
    pub hparams: BTreeMap<String, HParamValue>,
    /// The session group; empty when each run is its own group.
    pub group_name: String,
    /// When the session started, in seconds since the Unix epoch.
    pub start_time_secs: f64,
}

/// A session's end.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SessionEnd {
    /// How it ended.
    pub status: SessionStatus,
    /// When, in seconds since the Unix epoch.
    pub end_time_secs: f64,
}

/// Reads the plugin content of an hparams summary's metadata.
pub(crate) fn from_plugin_content(content: &[u8]) -> Result<HparamsRecord, TensorError> {
    let data = HParamsPluginData::decode(content)
        .or_else(|e| tensor::error(format!("the hparams plugin data does not decode: {e}")))?;
    Ok(match data.data {
        Some(Data::Experiment(e)) => HparamsRecord::Experiment(Experiment {
            hparams: e
                .hparam_infos
                .into_iter()
                .map(|info| HparamInfo {
                    kind: match DataType::try_from(info.r#type) {
                        Ok(DataType::String) => Some(HparamType::String),
                        Ok(DataType::Bool) => Some(HparamType::Bool),
                        Ok(DataType::Float64) => Some(HparamType::Float),
                        _ => None,
                    },
                    domain: info.domain.map(|d| match d {
                        Domain::DomainDiscrete(list) => {
                            HparamDomain::Discrete(list.values.iter().map(value).collect())
                        }
                        Domain::DomainInterval(i) => HparamDomain::Interval {
                            min: i.min_value,
                            max: i.max_value,
                        },
                    }),
                    name: info.name,
                    display_name: info.display_name,
                    description: info.description,
                })
                .collect(),
            metrics: e
                .metric_infos
                .into_iter()
                .map(|m| {
                    let name = m.name.unwrap_or_default();
                    let mut metric = Metric::new(name.tag)
                        .group(name.group)
                        .display_name(m.display_name)
                        .description(m.description);
                    metric.dataset_type = match ProtoDatasetType::try_from(m.dataset_type) {
                        Ok(ProtoDatasetType::DatasetTraining) => Some(DatasetType::Training),
                        Ok(ProtoDatasetType::DatasetValidation) => Some(DatasetType::Validation),
                        _ => None,
                    };
                    metric
                })
                .collect(),
            time_created_secs: e.time_created_secs,
        }),
        Some(Data::SessionStartInfo(s)) => HparamsRecord::SessionStart(SessionStart {
            hparams: s
                .hparams
                .iter()
                .map(|(name, v)| (name.clone(), value(v)))
                .collect(),
            group_name: s.group_name,
            start_time_secs: s.start_time_secs,
        }),
        Some(Data::SessionEndInfo(s)) => HparamsRecord::SessionEnd(SessionEnd {
            status: match Status::try_from(s.status) {
                Ok(Status::Success) => SessionStatus::Success,
                Ok(Status::Failure) => SessionStatus::Failure,
                Ok(Status::Running) => SessionStatus::Running,
                _ => SessionStatus::Unknown,
            },
            end_time_secs: s.end_time_secs,
        }),
        None => return tensor::error("the hparams plugin data holds nothing"),
    })
}

/// A `google.protobuf.Value` as a hyperparameter value. The HParams
/// dashboard knows numbers, flags and strings; anything else (null, lists,
/// structs, which no known writer logs) reads as its debug text.
fn value(v: &ProtoValue) -> HParamValue {
    match &v.kind {
        Some(Kind::NumberValue(x)) => HParamValue::Float(*x),
        Some(Kind::BoolValue(b)) => HParamValue::Bool(*b),
        Some(Kind::StringValue(s)) => HParamValue::Text(s.clone()),
        Some(other) => HParamValue::Text(format!("{other:?}")),
        None => HParamValue::Text(String::new()),
    }
}

impl Hparams {
    /// Folds one record in; a later record of the same kind replaces an
    /// earlier one.
    pub(crate) fn add(&mut self, record: HparamsRecord) {
        match record {
            HparamsRecord::Experiment(e) => self.experiment = Some(e),
            HparamsRecord::SessionStart(s) => self.session_start = Some(s),
            HparamsRecord::SessionEnd(s) => self.session_end = Some(s),
        }
    }
}
