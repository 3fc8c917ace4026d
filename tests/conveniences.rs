//! The PyTorch-shaped conveniences of `SummaryWriter`, through the public
//! API: one-call hparams, `Double` scalars, histogram bins, generic PR
//! curves and the batch image method, each read back from the file, and
//! their bad inputs.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use prost::Message;
use tbseg::proto::google::protobuf::value::Kind;
use tbseg::proto::tensorboard::hparams::{h_params_plugin_data, HParamsPluginData};
use tbseg::proto::tensorflow::{event, summary, DataType, Event, TensorProto};
use tbseg::reader::{EventFileReader, Logdir};
#[cfg(feature = "png")]
use tbseg::summary::BatchLayout;
use tbseg::summary::{Bins, Double, PrCurveOptions, SummaryError, SummaryWriter, NO_METRICS};

/// Every summary value in the writer's file, with its step.
fn values(path: &Path) -> Vec<(i64, summary::Value)> {
    let (events, _) = EventFileReader::open(path).unwrap().read_all().unwrap();
    events
        .into_iter()
        .flat_map(|e: Event| match e.what {
            Some(event::What::Summary(s)) => s.value.into_iter().map(|v| (e.step, v)).collect(),
            _ => Vec::new(),
        })
        .collect()
}

fn tensor(value: &summary::Value) -> &TensorProto {
    match &value.value {
        Some(summary::value::Value::Tensor(t)) => t,
        other => panic!("not a tensor: {other:?}"),
    }
}

fn hparams_data(value: &summary::Value) -> h_params_plugin_data::Data {
    let content = &value
        .metadata
        .as_ref()
        .unwrap()
        .plugin_data
        .as_ref()
        .unwrap()
        .content;
    HParamsPluginData::decode(content.as_slice())
        .unwrap()
        .data
        .unwrap()
}

fn invalid(result: Result<impl std::fmt::Debug, SummaryError>) -> (String, &'static str, String) {
    match result {
        Err(SummaryError::InvalidArgument { tag, what, reason }) => (tag, what, reason),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

#[test]
fn one_call_hparams_write_the_session_and_metrics_in_the_run_itself() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    writer
        .add_hparams(
            &[
                ("lr", 0.01.into()),
                ("model", "cnn".into()),
                ("augment", true.into()),
            ],
            &[("hparam/dice", 0.9f32), ("hparam/loss", 0.125)],
            50,
        )
        .unwrap();
    writer.close().unwrap();
    // One run, no timestamped sub-run as PyTorch's add_hparams makes.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    let values = values(writer.path());
    let tags: Vec<&str> = values.iter().map(|(_, v)| v.tag.as_str()).collect();
    assert_eq!(
        tags,
        [
            "_hparams_/experiment",
            "_hparams_/session_start_info",
            "hparam/dice",
            "hparam/loss"
        ]
    );
    assert!(values.iter().all(|(step, _)| *step == 50));
    let h_params_plugin_data::Data::Experiment(experiment) = hparams_data(&values[0].1) else {
        panic!("not an experiment")
    };
    let names: Vec<&str> = experiment
        .hparam_infos
        .iter()
        .map(|h| h.name.as_str())
        .collect();
    assert_eq!(names, ["augment", "lr", "model"]);
    let metrics: Vec<&str> = experiment
        .metric_infos
        .iter()
        .map(|m| m.name.as_ref().unwrap().tag.as_str())
        .collect();
    assert_eq!(metrics, ["hparam/dice", "hparam/loss"]);
    let h_params_plugin_data::Data::SessionStartInfo(start) = hparams_data(&values[1].1) else {
        panic!("not a session start")
    };
    assert_eq!(start.hparams["lr"].kind, Some(Kind::NumberValue(0.01)));
    assert_eq!(
        start.hparams["model"].kind,
        Some(Kind::StringValue("cnn".into()))
    );
    assert_eq!(start.hparams["augment"].kind, Some(Kind::BoolValue(true)));
    // The metrics are ordinary scalars of the run.
    let run = Logdir::scan(dir.path()).unwrap();
    let run = run.run(".").unwrap();
    assert_eq!(run.scalars("hparam/dice").unwrap(), [(50, 0.9)]);
    assert_eq!(run.scalars("hparam/loss").unwrap(), [(50, 0.125)]);
}

#[test]
fn hparams_from_maps_and_without_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    let config: HashMap<&str, f64> = HashMap::from([("lr", 0.5), ("batch_size", 32.0)]);
    writer.add_hparams(&config, NO_METRICS, 0).unwrap();
    writer.close().unwrap();
    let values = values(writer.path());
    // Without metrics no experiment is declared: TensorBoard infers the
    // metric columns from the runs' scalars.
    assert_eq!(values.len(), 1);
    let h_params_plugin_data::Data::SessionStartInfo(start) = hparams_data(&values[0].1) else {
        panic!("not a session start")
    };
    assert_eq!(
        start.hparams["batch_size"].kind,
        Some(Kind::NumberValue(32.0))
    );

    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    let tree: BTreeMap<String, f32> = BTreeMap::from([("acc".to_owned(), 0.75)]);
    writer.add_hparams([("epochs", 20)], &tree, 3).unwrap();
    writer.close().unwrap();
    let run = Logdir::scan(dir.path()).unwrap();
    assert_eq!(run.run(".").unwrap().scalars("acc").unwrap(), [(3, 0.75)]);
}

#[test]
fn bad_hparams_name_the_problem_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    let (tag, what, reason) =
        invalid(writer.add_hparams([("lr", 0.1), ("lr", 0.2)], NO_METRICS, 0));
    assert_eq!(
        (tag.as_str(), what),
        ("_hparams_/session_start_info", "hparams")
    );
    assert_eq!(
        reason,
        "hyperparameter \"lr\" appears twice, expected each name once"
    );
    let (_, what, reason) = invalid(writer.add_hparams([("", 0.1)], NO_METRICS, 0));
    assert_eq!(what, "hparams");
    assert!(reason.contains("empty hyperparameter name"), "{reason}");
    let (tag, what, reason) =
        invalid(writer.add_hparams([("lr", 0.1)], [("dice", 1.0), ("dice", 2.0)], 0));
    assert_eq!((tag.as_str(), what), ("dice", "metrics"));
    assert!(reason.contains("appears twice"), "{reason}");
    let (_, what, _) = invalid(writer.add_hparams([("lr", 0.1)], [("", 1.0)], 0));
    assert_eq!(what, "metrics");
    writer.add_scalar("ok", 1.0, 0).unwrap();
    writer.close().unwrap();
    let tags: Vec<String> = values(writer.path())
        .into_iter()
        .map(|(_, v)| v.tag)
        .collect();
    assert_eq!(tags, ["ok"], "the rejected calls wrote nothing");
}

#[test]
fn doubles_keep_their_precision_and_plain_f64_stays_f32() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    writer.add_scalar("huge", Double(1e300), 1).unwrap();
    writer.add_scalar("tenth", Double(0.1), 1).unwrap();
    writer.add_scalar("narrowed", 1e300f64, 1).unwrap();
    writer.close().unwrap();
    let values = values(writer.path());
    let read = |i: usize| {
        let t = tensor(&values[i].1);
        (t.dtype, t.tensor_content.clone())
    };
    assert_eq!(
        read(0),
        (DataType::DtDouble as i32, 1e300f64.to_le_bytes().to_vec())
    );
    assert_eq!(
        read(1),
        (DataType::DtDouble as i32, 0.1f64.to_le_bytes().to_vec())
    );
    assert_eq!(
        read(2),
        (
            DataType::DtFloat as i32,
            f32::INFINITY.to_le_bytes().to_vec()
        )
    );
}

#[test]
fn histograms_report_what_they_leave_out_and_reject_bad_bins() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    let values_in = [0.5f32, -0.25, f32::NAN, f32::INFINITY, 3.0];
    assert_eq!(writer.add_histogram("tf", &values_in, 1).unwrap(), 2);
    assert_eq!(
        writer
            .add_histogram_with_bins("equal", &values_in, Bins::Equal(4), 1)
            .unwrap(),
        2
    );
    let edges = [0.0, 1.0, 2.0];
    assert_eq!(
        writer
            .add_histogram_with_bins("edges", &values_in, Bins::Edges(&edges), 1)
            .unwrap(),
        4,
        "NaN, inf, -0.25 and 3.0 are outside"
    );
    let (tag, what, reason) =
        invalid(writer.add_histogram_with_bins("bad", &values_in, Bins::Edges(&[1.0, 0.0]), 1));
    assert_eq!((tag.as_str(), what), ("bad", "bins"));
    assert!(reason.contains("strictly increasing"), "{reason}");
    writer.close().unwrap();
    let values = values(writer.path());
    assert_eq!(values.len(), 3);
    let rows = |i: usize| -> Vec<f64> {
        tensor(&values[i].1)
            .tensor_content
            .chunks(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect()
    };
    // TensorFlow buckets: min and max as the outer edges, counts sum to 3.
    let tf = rows(0);
    assert_eq!(tf[0], -0.25);
    assert_eq!(tf[tf.len() - 2], 3.0);
    assert_eq!(tf.chunks(3).map(|r| r[2]).sum::<f64>(), 3.0);
    assert_eq!(rows(1).len(), 4 * 3);
    assert_eq!(rows(2), [0.0, 1.0, 1.0]);
}

#[test]
fn pr_curves_take_numeric_labels_weights_and_default_to_127_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    writer
        .add_pr_curve("ints", &[1u8, 0, 1], &[0.9f64, 0.2, 0.6], 1)
        .unwrap();
    let options = PrCurveOptions::default()
        .num_thresholds(5)
        .weights(&[2.0f32, 1.0, 1.0]);
    writer
        .add_pr_curve_with(
            "weighted",
            &[true, false, true],
            &[0.9f32, 0.2, 0.6],
            &options,
            1,
        )
        .unwrap();
    let (tag, what, reason) = invalid(writer.add_pr_curve("bad", &[3i32], &[0.5f32], 1));
    assert_eq!((tag.as_str(), what), ("bad", "labels"));
    assert_eq!(
        reason,
        "label 0 is 3, expected a bool or a number in [0, 1]"
    );
    let short = PrCurveOptions::default().weights(&[1.0f64]);
    let (_, what, reason) =
        invalid(writer.add_pr_curve_with("bad", &[true, false], &[0.5f32, 0.1], &short, 1));
    assert_eq!(what, "weights");
    assert_eq!(
        reason,
        "1 weights but 2 labels, expected one weight per label"
    );
    writer.close().unwrap();
    let values = values(writer.path());
    assert_eq!(values.len(), 2);
    let dims = |i: usize| -> Vec<i64> {
        tensor(&values[i].1)
            .tensor_shape
            .as_ref()
            .unwrap()
            .dim
            .iter()
            .map(|d| d.size)
            .collect()
    };
    assert_eq!(dims(0), [6, 127]);
    assert_eq!(dims(1), [6, 5]);
    // Weighted: TP at threshold 0 is 2 + 1 = 3.
    let first = &tensor(&values[1].1).tensor_content[..4];
    assert_eq!(f32::from_le_bytes(first.try_into().unwrap()), 3.0);
}

#[test]
#[cfg(feature = "png")]
fn add_images_tiles_an_nhwc_batch_like_nchw() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    // Two 2x3 RGB images, the same pixels in both layouts.
    let nhwc: Vec<u8> = (0..36).map(|i| i * 7).collect();
    let mut nchw = vec![0u8; 36];
    for (i, &v) in nhwc.iter().enumerate() {
        let (n, pixel, c) = (i / 18, (i % 18) / 3, i % 3);
        nchw[n * 18 + c * 6 + pixel] = v;
    }
    writer
        .add_images("nhwc", &nhwc, BatchLayout::Nhwc(2, 2, 3, 3), 1)
        .unwrap();
    writer
        .add_images("nchw", &nchw, BatchLayout::Nchw(2, 3, 2, 3), 1)
        .unwrap();
    let (tag, what, _) = invalid(writer.add_images("bad", &nhwc, BatchLayout::Nhwc(3, 2, 3, 3), 1));
    assert_eq!((tag.as_str(), what), ("bad", "pixels"));
    writer.close().unwrap();
    let values = values(writer.path());
    assert_eq!(values.len(), 2);
    let (a, b) = (tensor(&values[0].1), tensor(&values[1].1));
    assert_eq!(a.string_val, b.string_val);
    // One row of two 3-wide images with 2 px padding: 2 * 5 + 2 by 2 + 4.
    assert_eq!(a.string_val[..2], [b"12".to_vec(), b"6".to_vec()]);
}
