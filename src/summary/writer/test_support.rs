//! What the writer's tests share: reading back the events they wrote.

use std::fs;
use std::path::Path;

use prost::Message;

use crate::proto::tensorflow::{event, summary, Event};

pub(super) fn events_in(bytes: &[u8]) -> Vec<Event> {
    crate::summary::event_writer::tests::records(bytes)
        .iter()
        .map(|p| Event::decode(p.as_slice()).unwrap())
        .collect()
}

pub(super) fn read_events(path: &Path) -> Vec<Event> {
    events_in(&fs::read(path).unwrap())
}

/// Decodes a PNG into (width, height, channels, pixels).
#[cfg(feature = "png")]
pub(super) fn decode_png(png: &[u8]) -> (u32, u32, usize, Vec<u8>) {
    let mut reader = ::png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, info.color_type.samples(), buf)
}

/// Every summary value of the file, with its event.
pub(super) fn summaries(path: &Path) -> Vec<(Event, summary::Value)> {
    read_events(path)
        .into_iter()
        .flat_map(|e| match &e.what {
            Some(event::What::Summary(s)) => s
                .value
                .iter()
                .map(|value| (e.clone(), value.clone()))
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

pub(super) fn tensor(value: &summary::Value) -> &crate::proto::tensorflow::TensorProto {
    match &value.value {
        Some(summary::value::Value::Tensor(t)) => t,
        other => panic!("not a tensor: {other:?}"),
    }
}
