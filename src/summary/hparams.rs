//! Hyperparameters for TensorBoard's HParams dashboard.
//!
//! The writer records one `_hparams_/session_start_info` summary per run
//! (and optionally `_hparams_/session_end_info`). No experiment summary is
//! written: TensorBoard then infers the experiment from every run's session
//! start info and takes the metrics from the scalars of the same runs, so
//! each training run stays a single directory (torch and tensorboardX
//! instead create an extra sub-run per `add_hparams` call).

use std::collections::BTreeMap;

use prost::Message;
use prost_types::value::Kind;

use crate::proto::tensorboard::hparams::{
    h_params_plugin_data, HParamsPluginData, SessionEndInfo, SessionStartInfo, Status,
};

/// Tag of the session start summary.
pub(crate) const SESSION_START_TAG: &str = "_hparams_/session_start_info";
/// Tag of the session end summary.
pub(crate) const SESSION_END_TAG: &str = "_hparams_/session_end_info";

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

impl HParamValue {
    fn to_proto(&self) -> prost_types::Value {
        let kind = match self {
            HParamValue::Float(v) => Kind::NumberValue(*v),
            HParamValue::Bool(v) => Kind::BoolValue(*v),
            HParamValue::Text(v) => Kind::StringValue(v.clone()),
        };
        prost_types::Value { kind: Some(kind) }
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
