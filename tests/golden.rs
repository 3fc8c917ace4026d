//! tbseg's readers against files written by TensorFlow 2.21 and
//! TensorBoard 2.21 themselves (`tests/data/golden/`, made by
//! `scripts/golden/make_golden.py`; the values asserted here are the ones
//! that script writes).

mod common;

use std::path::PathBuf;

use tbseg::example::{ExampleReader, FeatureKind};
use tbseg::proto::tensorflow::{event, summary::value::Value, DataType, Event, TensorProto};
use tbseg::reader::{EventFileReader, FileEnd, FileStatus, ImageFormat, Logdir, SeriesKind};

fn golden(rel: &str) -> PathBuf {
    common::test_data("golden").join(rel)
}

const TF2: &str = "tf2/events.out.tfevents.golden.v2";
const TB: &str = "tb_legacy/events.out.tfevents.golden.tb";

fn read_events(rel: &str) -> Vec<Event> {
    let (events, end) = EventFileReader::open(golden(rel))
        .unwrap()
        .read_all()
        .unwrap();
    assert_eq!(end, FileEnd::Clean);
    events
}

/// The tensor of the only value with tag `tag`.
fn tensor<'a>(events: &'a [Event], tag: &str) -> &'a TensorProto {
    let mut found = events.iter().filter_map(|e| match &e.what {
        Some(event::What::Summary(s)) => s.value.iter().find(|v| v.tag == tag),
        _ => None,
    });
    let value = found.next().expect("tag present");
    assert!(found.next().is_none(), "one value of {tag}");
    match &value.value {
        Some(Value::Tensor(t)) => t,
        other => panic!("{tag}: {other:?}"),
    }
}

#[test]
fn tf2_file_starts_with_its_version() {
    let events = read_events(TF2);
    assert_eq!(events.len(), 1 + 5 + 3);
    assert_eq!(
        events[0].what,
        Some(event::What::FileVersion("brain.Event:2".into()))
    );
    let source = events[0].source_metadata.as_ref().unwrap();
    assert_eq!(source.writer, "tensorflow.core.util.events_writer");
}

#[test]
fn tf2_summary_of_every_tag() {
    let logdir = Logdir::scan(golden("tf2")).unwrap();
    let run = logdir.run(".").unwrap();
    assert!(matches!(run.files[0].status, FileStatus::Complete));
    assert_eq!(run.files[0].events, 9);
    assert_eq!(
        run.scalars("loss").unwrap(),
        [(0, 1.0), (1, 0.5), (2, 0.25), (3, 0.125), (4, 0.0625)]
    );
    let kinds: Vec<_> = run
        .tags
        .iter()
        .map(|(tag, s)| (tag.as_str(), s.kind.clone(), s.first_step, s.count))
        .collect();
    assert_eq!(
        kinds,
        [
            ("input", SeriesKind::Image, 1, 1),
            ("loss", SeriesKind::Scalar, 0, 5),
            ("note", SeriesKind::Text, 3, 1),
            ("weights", SeriesKind::Histogram, 2, 1),
        ]
    );
    assert!(!run.has_graph());
}

#[test]
#[cfg(feature = "png")]
fn tf2_image_is_width_height_png() {
    let events = read_events(TF2);
    let t = tensor(&events, "input");
    assert_eq!(t.dtype, DataType::DtString as i32);
    assert_eq!(t.string_val[0], b"3");
    assert_eq!(t.string_val[1], b"2");
    let mut png = png::Decoder::new(std::io::Cursor::new(&t.string_val[2]))
        .read_info()
        .unwrap();
    let mut rgb = vec![0; png.output_buffer_size().unwrap()];
    let info = png.next_frame(&mut rgb).unwrap();
    assert_eq!((info.width, info.height), (3, 2));
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let pixel = |x: usize, y: usize| &rgb[(y * 3 + x) * 3..][..3];
    assert_eq!(pixel(0, 0), [255, 0, 0]);
    assert_eq!(pixel(2, 1), [0, 0, 255]);
    assert_eq!(pixel(1, 0), [0, 0, 0]);
}

#[test]
fn tf2_histogram_is_left_right_count_doubles() {
    let events = read_events(TF2);
    let t = tensor(&events, "weights");
    assert_eq!(t.dtype, DataType::DtDouble as i32);
    let dims: Vec<i64> = t
        .tensor_shape
        .as_ref()
        .unwrap()
        .dim
        .iter()
        .map(|d| d.size)
        .collect();
    assert_eq!(dims, [2, 3]);
    let values: Vec<f64> = t
        .tensor_content
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(values, [0.0, 1.0, 1.0, 1.0, 2.0, 3.0]);
}

#[test]
fn tf2_text_is_a_string_tensor() {
    let events = read_events(TF2);
    let t = tensor(&events, "note");
    assert_eq!(t.dtype, DataType::DtString as i32);
    assert_eq!(t.string_val, [b"golden text".to_vec()]);
}

#[test]
fn tf2_values_read_back_typed() {
    let logdir = Logdir::scan(golden("tf2")).unwrap();
    let run = logdir.run(".").unwrap();
    let images = run.images("input").unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].step, 1);
    let image = &images[0].value[0];
    assert_eq!((image.width, image.height, image.channels), (3, 2, Some(3)));
    assert_eq!(image.format, ImageFormat::Png);
    #[cfg(feature = "png")]
    {
        let pixels = image.pixels().unwrap();
        assert_eq!((pixels.width, pixels.height, pixels.channels), (3, 2, 3));
        assert_eq!(pixels.data[..3], [255, 0, 0]);
        assert_eq!(pixels.data[15..], [0, 0, 255]);
    }
    let histogram = &run.histograms("weights").unwrap()[0];
    assert_eq!(histogram.step, 2);
    let rows: Vec<_> = histogram
        .value
        .buckets
        .iter()
        .map(|b| [b.left, b.right, b.count])
        .collect();
    assert_eq!(rows, [[0.0, 1.0, 1.0], [1.0, 2.0, 3.0]]);
    let text = &run.texts("note").unwrap()[0];
    assert_eq!(
        (text.step, text.value.as_markdown()),
        (3, "golden text".into())
    );
    assert_eq!(
        run.scalars_f64("loss").unwrap(),
        [(0, 1.0), (1, 0.5), (2, 0.25), (3, 0.125), (4, 0.0625)]
    );
}

#[test]
fn tf2_file_torn_at_the_end_keeps_all_earlier_events() {
    let bytes = std::fs::read(golden(TF2)).unwrap();
    let whole = read_events(TF2);
    let last_len = prost::Message::encoded_len(whole.last().unwrap()) + 16;
    for cut in [1, 5, last_len - 1] {
        let (events, end) = EventFileReader::new(&bytes[..bytes.len() - cut])
            .read_all()
            .unwrap();
        assert_eq!(events, whole[..whole.len() - 1], "cut {cut}");
        let offset = (bytes.len() - last_len) as u64;
        assert_eq!(end, FileEnd::TornTail { offset }, "cut {cut}");
    }
}

#[test]
fn tensorboard_legacy_scalars() {
    let events = read_events(TB);
    assert_eq!(
        events[0].what,
        Some(event::What::FileVersion("brain.Event:2".into()))
    );
    let logdir = Logdir::scan(golden("tb_legacy")).unwrap();
    let run = logdir.run(".").unwrap();
    assert_eq!(run.series("accuracy").unwrap().kind, SeriesKind::Scalar);
    assert_eq!(
        run.scalars("accuracy").unwrap(),
        [(10, 0.5), (20, 0.75), (30, 0.875)]
    );
    let wall: Vec<f64> = events[1..].iter().map(|e| e.wall_time).collect();
    assert_eq!(wall, [1_700_000_010.0, 1_700_000_020.0, 1_700_000_030.0]);
}

#[test]
fn whole_golden_dir_has_one_run_per_writer() {
    let logdir = Logdir::scan(golden("")).unwrap();
    assert_eq!(logdir.runs.keys().collect::<Vec<_>>(), ["tb_legacy", "tf2"]);
    assert_eq!(logdir.runs["tb_legacy"].tags.len(), 1);
    assert_eq!(logdir.runs["tf2"].tags.len(), 4);
}

#[test]
fn tf_io_tfrecordwriter_examples() {
    let examples: Vec<_> = ExampleReader::open(golden("examples.tfrecord"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(examples.len(), 3);
    for (i, ex) in examples.iter().enumerate() {
        assert_eq!(ex.len(), 6);
        assert_eq!(
            ex.single_bytes("name").unwrap(),
            format!("example {i}").as_bytes()
        );
        assert_eq!(ex.bytes("raw").unwrap(), [vec![i as u8, 0, 255], vec![]]);
        assert_eq!(ex.single_int64("index").unwrap(), i as i64);
        assert_eq!(ex.int64("shape").unwrap(), [256, 256, i64::MIN, i64::MAX]);
        assert_eq!(ex.float("scale").unwrap(), [0.5 * i as f32, -1.5]);
        assert_eq!(ex.kind("empty").unwrap(), Some(FeatureKind::Float));
        assert!(ex.float("empty").unwrap().is_empty());
    }
}
