//! Events built by hand for the reader's unit tests.

use std::path::Path;

use prost::Message;

use crate::proto::tensorflow::summary::value::Value as ValueKind;
use crate::proto::tensorflow::{
    event, summary, summary_metadata::PluginData, DataType, Event, Summary, SummaryMetadata,
    TensorProto, TensorShapeProto,
};
use crate::record::RecordWriter;

pub(crate) fn event(step: i64, what: event::What) -> Event {
    Event {
        wall_time: 1.5e9 + step as f64,
        step,
        what: Some(what),
        ..Default::default()
    }
}

pub(crate) fn value(tag: &str, plugin: Option<&str>, v: ValueKind) -> summary::Value {
    summary::Value {
        tag: tag.into(),
        metadata: plugin.map(|name| SummaryMetadata {
            plugin_data: Some(PluginData {
                plugin_name: name.into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        value: Some(v),
        ..Default::default()
    }
}

pub(crate) fn summary_event(step: i64, values: Vec<summary::Value>) -> Event {
    event(step, event::What::Summary(Summary { value: values }))
}

pub(crate) fn float_tensor(x: f32, in_content: bool) -> ValueKind {
    ValueKind::Tensor(TensorProto {
        dtype: DataType::DtFloat as i32,
        tensor_shape: Some(TensorShapeProto::default()),
        tensor_content: if in_content {
            x.to_le_bytes().to_vec()
        } else {
            Vec::new()
        },
        float_val: if in_content { Vec::new() } else { vec![x] },
        ..Default::default()
    })
}

pub(crate) fn write_events(path: &Path, events: &[Event]) {
    let mut w = RecordWriter::create(path).unwrap();
    for e in events {
        w.write_record(&e.encode_to_vec()).unwrap();
    }
    w.flush().unwrap();
}

pub(crate) fn encode(events: &[Event]) -> Vec<u8> {
    let mut w = RecordWriter::new(Vec::new());
    for e in events {
        w.write_record(&e.encode_to_vec()).unwrap();
    }
    w.into_inner()
}
