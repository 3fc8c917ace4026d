//! The `SummaryWriter` methods for embeddings, audio, video, custom scalar
//! layouts, meshes and text tables, through a real event file and run
//! directory. (TensorBoard's own reading of the same kinds is checked by
//! scripts/conformance/check_kinds.py.)

use std::fs;

use prost::Message;
use tbseg::proto::tensorboard::mesh::MeshPluginData;
use tbseg::proto::tensorboard::Layout as LayoutProto;
use tbseg::proto::tensorflow::{event, summary, Event, TensorProto};
use tbseg::reader::EventFileReader;
use tbseg::summary::custom_scalars::{Category, Layout, MarginSeries};
use tbseg::summary::embedding::Embedding;
use tbseg::summary::mesh::Mesh;
use tbseg::summary::projector_config;
use tbseg::summary::video::VideoFrames;
use tbseg::summary::{SummaryError, SummaryWriter};

/// Every summary value in the file as (step, value), in order.
fn values(writer: &SummaryWriter) -> Vec<(i64, summary::Value)> {
    let (events, _) = EventFileReader::open(writer.path())
        .unwrap()
        .read_all()
        .unwrap();
    events
        .into_iter()
        .filter_map(|e: Event| match e.what {
            Some(event::What::Summary(s)) => Some((e.step, s.value)),
            _ => None,
        })
        .flat_map(|(step, values)| values.into_iter().map(move |v| (step, v)))
        .collect()
}

fn tensor(value: &summary::Value) -> &TensorProto {
    match &value.value {
        Some(summary::value::Value::Tensor(t)) => t,
        other => panic!("{}: not a tensor: {other:?}", value.tag),
    }
}

fn plugin_name(value: &summary::Value) -> &str {
    &value
        .metadata
        .as_ref()
        .and_then(|m| m.plugin_data.as_ref())
        .expect("metadata on the first value")
        .plugin_name
}

#[test]
fn every_kind_goes_into_the_event_file() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    writer
        .add_audio("tone", &[0.0, 0.5, -0.5, 1.0], 2, 16_000, 3)
        .unwrap();
    let frames = [0u8, 255, 255, 0, 9, 9, 9, 9];
    writer
        .add_video("clip", &VideoFrames::from_u8(&frames, 2, 2, 2, 1), 5.0, 4)
        .unwrap();
    let layout = Layout::new().category(
        Category::new("c")
            .multiline("m", ["a.*"])
            .margin("band", [MarginSeries::new("v", "lo", "hi")]),
    );
    writer.add_custom_scalars(&layout).unwrap();
    writer
        .add_mesh(
            "tri",
            &Mesh::new(&[0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0]).faces(&[0, 1, 2]),
            5,
        )
        .unwrap();
    writer
        .add_text_table("table", &["k", "v"], &[["x", "1"]], 6)
        .unwrap();
    writer.close().unwrap();

    let values = values(&writer);
    let tags: Vec<(i64, &str)> = values.iter().map(|(s, v)| (*s, v.tag.as_str())).collect();
    assert_eq!(
        tags,
        [
            (3, "tone"),
            (4, "clip"),
            (0, "custom_scalars__config__"),
            (5, "tri_VERTEX"),
            (5, "tri_FACE"),
            (6, "table"),
        ]
    );

    let wav = &tensor(&values[0].1).string_val[0];
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(u16::from_le_bytes([wav[22], wav[23]]), 2, "stereo");
    assert_eq!(u32::from_le_bytes(wav[24..28].try_into().unwrap()), 16_000);
    assert_eq!(plugin_name(&values[0].1), "audio");

    let clip = tensor(&values[1].1);
    assert_eq!(clip.string_val[..2], [b"2".to_vec(), b"2".to_vec()]);
    assert_eq!(&clip.string_val[2][..6], b"GIF89a");
    assert_eq!(plugin_name(&values[1].1), "images");

    let layout_bytes = &tensor(&values[2].1).string_val[0];
    assert_eq!(
        LayoutProto::decode(layout_bytes.as_slice()).unwrap(),
        layout.to_proto()
    );
    assert_eq!(plugin_name(&values[2].1), "custom_scalars");

    for (_, value) in &values[3..5] {
        let content = &value
            .metadata
            .as_ref()
            .unwrap()
            .plugin_data
            .as_ref()
            .unwrap()
            .content;
        let data = MeshPluginData::decode(content.as_slice()).unwrap();
        assert_eq!(data.name, "tri");
        assert_eq!(data.components, 0b110, "VERTEX | FACE");
    }

    let table = &tensor(&values[5].1).string_val[0];
    assert_eq!(table, b"| k | v |\n| --- | --- |\n| x | 1 |\n");
    assert_eq!(plugin_name(&values[5].1), "text");
}

#[test]
#[cfg(feature = "png")]
fn boxes_are_drawn_on_a_grey_image_in_red() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    writer
        .add_image_with_boxes("det", &[100; 6 * 5], [5, 6, 1], &[[1.0, 1.0, 4.0, 3.0]], 7)
        .unwrap();
    writer.close().unwrap();
    let values = values(&writer);
    let image = tensor(&values[0].1);
    assert_eq!(values[0].0, 7);
    assert_eq!(image.string_val[..2], [b"6".to_vec(), b"5".to_vec()]);
    let png = &image.string_val[2];
    assert_eq!(&png[1..4], b"PNG");
    // IHDR: 6x5, 8-bit RGB (colour type 2).
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 6);
    assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 5);
    assert_eq!(png[24..26], [8, 2]);
}

#[test]
fn bad_arguments_name_the_tag_and_leave_the_writer_usable() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    let err = writer.add_audio("tone", &[0.0; 3], 2, 8000, 0).unwrap_err();
    assert!(!err.is_fatal());
    assert!(err.to_string().contains("\"tone\""), "{err}");
    let err = writer
        .add_video("clip", &VideoFrames::from_u8(&[0; 3], 1, 2, 2, 1), 5.0, 0)
        .unwrap_err();
    assert!(err.to_string().contains("\"clip\""), "{err}");
    let err = writer
        .add_mesh("m", &Mesh::new(&[0.0; 3]).faces(&[0, 1, 2]), 0)
        .unwrap_err();
    assert!(err.to_string().contains("out of range"), "{err}");
    let err = writer
        .add_text_table("t", &["a"], &[["1", "2"]], 0)
        .unwrap_err();
    assert!(err.to_string().contains("\"t\""), "{err}");
    writer.add_scalar("ok", 1.0, 0).unwrap();
    writer.close().unwrap();
    let tags: Vec<String> = values(&writer).into_iter().map(|(_, v)| v.tag).collect();
    assert_eq!(tags, ["ok"], "the rejected calls wrote nothing");
}

#[test]
fn embeddings_accumulate_in_the_run_directory() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let writer = SummaryWriter::new(&run).unwrap();
    writer
        .add_embedding("a", &Embedding::new(&[1.0, 2.0], 2), 1)
        .unwrap();
    // A second writer on the same run (a resumed job) adds to the config.
    let resumed = SummaryWriter::new(&run).unwrap();
    resumed
        .add_embedding("b", &Embedding::new(&[3.0], 1).labels(&["x"]), 2)
        .unwrap();
    let config = projector_config::parse(
        &fs::read_to_string(run.join(projector_config::FILE_NAME)).unwrap(),
    )
    .unwrap();
    let names: Vec<&str> = config
        .embeddings
        .iter()
        .map(|e| e.tensor_name.as_str())
        .collect();
    assert_eq!(names, ["a:00001", "b:00002"]);
    assert_eq!(
        fs::read_to_string(run.join("00001/a/tensors.tsv")).unwrap(),
        "1.0\t2.0\n"
    );
    assert_eq!(
        fs::read_to_string(run.join("00002/b/metadata.tsv")).unwrap(),
        "x\n"
    );
}

#[test]
fn a_sink_without_a_run_directory_refuses_embeddings() {
    let writer = SummaryWriter::with_writer(Vec::new(), "memory").unwrap();
    let err = writer
        .add_embedding("e", &Embedding::new(&[1.0], 1), 0)
        .unwrap_err();
    assert!(matches!(err, SummaryError::InvalidArgument { .. }), "{err}");
    assert!(
        err.to_string().contains(
            "the writer for memory has none (create it with SummaryWriter::new or builder)"
        ),
        "{err}"
    );
    writer.add_scalar("still", 1.0, 0).unwrap();
    writer.close().unwrap();
}
