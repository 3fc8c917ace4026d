//! Every kind the writer writes reads back typed, as it was written
//! (property tests), and the legacy forms torch writes read back too.

use proptest::prelude::*;

use tbseg::proto::tensorflow::summary::value::Value as ValueKind;
use tbseg::proto::tensorflow::{
    event, summary, summary_metadata, DataType, Event, HistogramProto, Summary, SummaryMetadata,
    TensorProto, TensorShapeProto,
};
use tbseg::reader::{
    read_embeddings, EventFileReader, FileEnd, HparamDomain, HparamType, ImageFormat, LayoutChart,
    ReadValueError, Run, SeriesKind, Value,
};
use tbseg::summary::custom_scalars::{self, Category, Layout, MarginSeries};
use tbseg::summary::embedding::{write_embedding, Embedding};
use tbseg::summary::graph::{GraphBuilder, Node};
use tbseg::summary::{
    audio, histogram_buckets, mesh, pr_curve_counts, text_table, values, DatasetType, EventWriter,
    HParamValue, Metric, SessionStatus,
};

/// The run made of `summaries`, each at its step, written by the
/// synchronous writer and read back by the reader.
fn run_of(summaries: Vec<(i64, Vec<summary::Value>)>) -> Run {
    let mut writer = EventWriter::new(Vec::new());
    writer.write_file_version(1.0).unwrap();
    for (step, value) in summaries {
        let wall_time = 1_700_000_000.0 + step as f64;
        writer
            .write_summary(wall_time, step, Summary { value })
            .unwrap();
    }
    let bytes = writer.into_inner();
    let mut run = Run::default();
    let end = EventFileReader::new(&bytes[..])
        .for_each(|e| run.add_event(&e))
        .unwrap();
    assert_eq!(end, FileEnd::Clean);
    run
}

fn one(value: summary::Value) -> Run {
    run_of(vec![(7, vec![value])])
}

/// A scalar the way a writer keeping double precision writes it.
fn double_scalar(tag: &str, x: f64) -> summary::Value {
    summary::Value {
        tag: tag.into(),
        metadata: Some(SummaryMetadata {
            plugin_data: Some(summary_metadata::PluginData {
                plugin_name: "scalars".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        value: Some(ValueKind::Tensor(TensorProto {
            dtype: DataType::DtDouble as i32,
            tensor_shape: Some(TensorShapeProto::default()),
            tensor_content: x.to_le_bytes().to_vec(),
            ..Default::default()
        })),
        ..Default::default()
    }
}

fn same_bits(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// What a 16-bit PCM WAV holds for `x`, as TensorFlow's encoder rounds it.
fn pcm16(x: f32) -> f32 {
    ((x * 32768.0).round().clamp(-32768.0, 32767.0)) / 32768.0
}

fn hparam_value() -> impl Strategy<Value = HParamValue> {
    prop_oneof![
        (-1e9f64..1e9).prop_map(HParamValue::Float),
        any::<bool>().prop_map(HParamValue::Bool),
        "[a-z ]{0,8}".prop_map(HParamValue::Text),
    ]
}

/// A table cell: no leading or trailing space (Markdown trims them), no
/// `<` (`<br>` is how a line break is written), but pipes, backslashes and
/// line breaks inside.
fn cell() -> impl Strategy<Value = String> {
    "([a-z|\\\\]([a-z0-9 |\\\\\n]{0,6}[a-z|\\\\])?)?"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn scalars_keep_their_precision(
        singles in prop::collection::vec(any::<f32>(), 1..20),
        doubles in prop::collection::vec(any::<f64>(), 1..20),
    ) {
        let mut summaries = Vec::new();
        for (i, &x) in singles.iter().enumerate() {
            summaries.push((i as i64, vec![values::scalar("single", x)]));
        }
        for (i, &x) in doubles.iter().enumerate() {
            summaries.push((i as i64, vec![double_scalar("double", x)]));
        }
        let run = run_of(summaries);
        let single = run.scalars_f64("single").unwrap();
        prop_assert_eq!(single.len(), singles.len());
        for ((step, got), (i, &want)) in single.iter().zip(singles.iter().enumerate()) {
            prop_assert_eq!(*step, i as i64);
            prop_assert!(same_bits(*got, want.into()), "{} vs {}", got, want);
        }
        let double = run.scalars_f64("double").unwrap();
        for ((_, got), &want) in double.iter().zip(&doubles) {
            prop_assert!(same_bits(*got, want), "{} vs {}", got, want);
        }
        let points = run.series("double").unwrap().scalar_points();
        prop_assert_eq!(points[0].wall_time, 1_700_000_000.0);
        // The f32 view narrows, as TensorBoard's legacy scalar API does.
        let narrowed = run.scalars("double").unwrap();
        prop_assert!(same_bits(narrowed[0].1.into(), (doubles[0] as f32).into()));
    }

    #[test]
    #[cfg(feature = "png")]
    fn images_read_back_with_their_pixels(
        (width, height, channels, count, pixels) in (1usize..6, 1usize..6, 1usize..=4, 1usize..4)
            .prop_flat_map(|(w, h, c, n)| {
                (Just(w), Just(h), Just(c), Just(n), prop::collection::vec(any::<u8>(), w * h * c * n))
            })
    ) {
        let per_image = width * height * channels;
        let pngs: Vec<Vec<u8>> = pixels
            .chunks(per_image)
            .map(|p| tbseg::summary::png::encode(height as _, width as _, channels as _, p).unwrap())
            .collect();
        let run = one(values::images("img", height as _, width as _, pngs.clone()));
        let images = run.images("img").unwrap();
        prop_assert_eq!(images.len(), 1);
        prop_assert_eq!(images[0].step, 7);
        let images = &images[0].value;
        prop_assert_eq!(images.len(), count);
        for (image, (png, want)) in images.iter().zip(pngs.iter().zip(pixels.chunks(per_image))) {
            prop_assert_eq!((image.width, image.height), (width, height));
            prop_assert_eq!(image.channels, Some(channels));
            prop_assert_eq!(image.format, ImageFormat::Png);
            prop_assert_eq!(&image.encoded, png);
            let decoded = image.pixels().unwrap();
            prop_assert_eq!((decoded.width, decoded.height, decoded.channels), (width, height, channels));
            prop_assert_eq!(&decoded.data[..], want);
        }
    }

    #[test]
    fn histograms_read_back_bucket_for_bucket(
        data in prop::collection::vec(-1e6f64..1e6, 0..200),
    ) {
        let rows = histogram_buckets(data.iter().copied());
        let run = one(values::histogram("h", &rows));
        let read = &run.histograms("h").unwrap()[0].value;
        let got: Vec<[f64; 3]> = read.buckets.iter().map(|b| [b.left, b.right, b.count]).collect();
        prop_assert_eq!(got, rows);
        prop_assert_eq!(read.count(), data.len() as f64);
    }

    #[test]
    fn legacy_histograms_read_back_as_tensorboard_converts_them(
        limits in prop::collection::vec(-100f64..100.0, 1..20),
        min in -200f64..-100.0,
        max in 100f64..200.0,
    ) {
        let mut limits = limits;
        limits.sort_by(f64::total_cmp);
        let counts: Vec<f64> = (0..limits.len()).map(|i| i as f64).collect();
        let value = summary::Value {
            tag: "w".into(),
            value: Some(ValueKind::Histo(HistogramProto {
                min,
                max,
                num: counts.iter().sum(),
                bucket_limit: limits.clone(),
                bucket: counts.clone(),
                ..Default::default()
            })),
            ..Default::default()
        };
        let run = one(value);
        let h = &run.histograms("w").unwrap()[0].value;
        prop_assert_eq!(h.buckets.len(), limits.len());
        prop_assert_eq!(h.buckets[0].left, min);
        prop_assert_eq!(h.buckets.last().unwrap().right, max);
        for (i, b) in h.buckets.iter().enumerate() {
            prop_assert_eq!(b.count, counts[i]);
            if i + 1 < limits.len() {
                prop_assert_eq!(b.right, limits[i]);
                prop_assert_eq!(h.buckets[i + 1].left, limits[i]);
            }
        }
    }

    #[test]
    fn text_reads_back(markdown in "\\PC{0,40}") {
        let run = one(values::text("note", &markdown));
        let text = &run.texts("note").unwrap()[0].value;
        prop_assert_eq!(text.as_markdown(), markdown);
        prop_assert!(text.shape.is_empty());
    }

    #[test]
    fn text_tables_read_back_cell_for_cell(
        (header, rows) in (1usize..4).prop_flat_map(|cols| (
            prop::collection::vec(cell(), cols),
            prop::collection::vec(prop::collection::vec(cell(), cols), 0..4),
        ))
    ) {
        let markdown = text_table::markdown_table(&header, &rows).unwrap();
        let run = one(values::text("table", &markdown));
        let table = run.texts("table").unwrap()[0].value.table().unwrap();
        prop_assert_eq!(table.header, header);
        prop_assert_eq!(table.rows, rows);
    }

    #[test]
    fn pr_curves_read_back(
        pairs in prop::collection::vec((any::<bool>(), 0f32..=1.0), 0..50),
        thresholds in 2u32..40,
    ) {
        let (labels, predictions): (Vec<bool>, Vec<f32>) = pairs.into_iter().unzip();
        let curve = pr_curve_counts(&labels, &predictions, thresholds).unwrap();
        let run = one(values::pr_curve("pr", &curve));
        let read = &run.pr_curves("pr").unwrap()[0].value;
        let widen = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
        prop_assert_eq!(&read.true_positives, &widen(&curve.true_positives));
        prop_assert_eq!(&read.false_positives, &widen(&curve.false_positives));
        prop_assert_eq!(&read.true_negatives, &widen(&curve.true_negatives));
        prop_assert_eq!(&read.false_negatives, &widen(&curve.false_negatives));
        prop_assert_eq!(&read.precision, &widen(&curve.precision));
        prop_assert_eq!(&read.recall, &widen(&curve.recall));
        let n = thresholds as usize;
        prop_assert_eq!(read.thresholds.len(), n);
        prop_assert_eq!((read.thresholds[0], read.thresholds[n - 1]), (0.0, 1.0));
    }

    #[test]
    fn hparams_read_back(
        hparams in prop::collection::btree_map("[a-z_]{1,8}", hparam_value(), 0..6),
        metrics in prop::collection::vec("[a-z/]{1,8}", 0..3),
        group in "[a-z]{0,4}",
    ) {
        let declared: Vec<Metric> = metrics
            .iter()
            .map(|m| Metric::new(m.clone()).display_name("D").dataset_type(DatasetType::Validation))
            .collect();
        let group = (!group.is_empty()).then_some(group.as_str());
        let run = run_of(vec![
            (0, vec![values::hparams_experiment(&hparams, &declared, 5.0)]),
            (0, vec![values::hparams_session_start(&hparams, group, 6.0)]),
            (9, vec![values::hparams_session_end(SessionStatus::Failure, 7.0)]),
        ]);
        let read = run.hparams().unwrap().unwrap();
        let start = read.session_start.unwrap();
        prop_assert_eq!(&start.hparams, &hparams);
        prop_assert_eq!(start.group_name.as_str(), group.unwrap_or(""));
        prop_assert_eq!(start.start_time_secs, 6.0);
        let experiment = read.experiment.unwrap();
        prop_assert_eq!(&experiment.metrics, &declared);
        prop_assert_eq!(experiment.time_created_secs, 5.0);
        let names: Vec<&String> = experiment.hparams.iter().map(|h| &h.name).collect();
        prop_assert_eq!(names, hparams.keys().collect::<Vec<_>>());
        for (info, value) in experiment.hparams.iter().zip(hparams.values()) {
            let want = match value {
                HParamValue::Float(_) => HparamType::Float,
                HParamValue::Bool(_) => HparamType::Bool,
                _ => HparamType::String,
            };
            prop_assert_eq!(info.kind, Some(want));
            prop_assert!(info.domain.is_none());
        }
        let end = read.session_end.unwrap();
        prop_assert_eq!((end.status, end.end_time_secs), (SessionStatus::Failure, 7.0));
    }

    #[test]
    fn audio_reads_back_as_its_pcm_samples(
        (channels, samples) in (1u16..=3).prop_flat_map(|c| (
            Just(c),
            prop::collection::vec(-1.2f32..1.2, 0..40).prop_map(move |mut v| {
                v.truncate(v.len() / usize::from(c) * usize::from(c));
                v
            }),
        )),
        rate in 1u32..96_000,
        clips in 1usize..3,
    ) {
        let wav = audio::encode_wav(&samples, usize::from(channels), rate).unwrap();
        let run = one(audio::audio("sound", vec![wav.clone(); clips]));
        let read = &run.audio("sound").unwrap()[0].value;
        prop_assert_eq!(read.len(), clips);
        for clip in read {
            prop_assert_eq!(clip.sample_rate, rate);
            prop_assert_eq!(clip.channels, usize::from(channels));
            let want: Vec<f32> = samples.iter().map(|&x| pcm16(x)).collect();
            prop_assert_eq!(&clip.samples, &want);
            prop_assert_eq!(&clip.encoded, &wav);
        }
    }

    #[test]
    fn meshes_read_back(
        (vertices, faces, colors) in (1usize..8).prop_flat_map(|n| (
            prop::collection::vec(-10f32..10.0, n * 3),
            prop::collection::vec(0..n as u32, 0..4).prop_map(|f| {
                let len = f.len() / 3 * 3;
                f[..len].to_vec()
            }),
            prop::option::of(prop::collection::vec(any::<u8>(), n * 3)),
        )),
    ) {
        let mut m = mesh::Mesh::new(&vertices).faces(&faces).config_json("{\"a\": 1}");
        if let Some(colors) = &colors {
            m = m.colors(colors);
        }
        let run = one_event(mesh::mesh("cloud", &m).unwrap());
        let meshes = run.meshes("cloud").unwrap();
        prop_assert_eq!(meshes.len(), 1);
        let read = &meshes[0].value;
        prop_assert_eq!(read.len(), 1);
        let triples = |v: &[f32]| v.chunks(3).map(|t| [t[0], t[1], t[2]]).collect::<Vec<_>>();
        prop_assert_eq!(&read[0].vertices, &triples(&vertices));
        let faces: Vec<[u32; 3]> = faces.chunks(3).map(|t| [t[0], t[1], t[2]]).collect();
        prop_assert_eq!(read[0].faces.as_ref(), Some(&faces));
        let colors = colors.map(|c| c.chunks(3).map(|t| [t[0], t[1], t[2]]).collect::<Vec<_>>());
        prop_assert_eq!(&read[0].colors, &colors);
        prop_assert_eq!(read[0].config_json.as_str(), "{\"a\": 1}");
    }

    #[test]
    fn custom_scalar_layouts_read_back(
        categories in prop::collection::vec(
            ("[a-z]{1,6}", any::<bool>(), prop::collection::vec(("[a-z]{1,6}", prop::collection::vec("[a-z/.*]{1,6}", 1..3)), 0..3)),
            0..3,
        ),
        margin in prop::option::of(("[a-z]{1,4}", "[a-z]{1,4}", "[a-z]{1,4}")),
    ) {
        let mut layout = Layout::new();
        for (title, closed, charts) in &categories {
            let mut category = Category::new(title.clone());
            if *closed {
                category = category.closed();
            }
            for (chart, tags) in charts {
                category = category.multiline(chart.clone(), tags.clone());
            }
            if let Some((v, l, u)) = &margin {
                category = category.margin("band", [MarginSeries::new(v.clone(), l.clone(), u.clone())]);
            }
            layout = layout.category(category);
        }
        let run = one(custom_scalars::custom_scalars(&layout));
        let read = run.custom_scalars().unwrap().unwrap();
        prop_assert_eq!(read.categories.len(), categories.len());
        for (got, (title, closed, charts)) in read.categories.iter().zip(&categories) {
            prop_assert_eq!(&got.title, title);
            prop_assert_eq!(got.closed, *closed);
            prop_assert_eq!(got.charts.len(), charts.len() + usize::from(margin.is_some()));
            for (chart, (name, tags)) in got.charts.iter().zip(charts) {
                prop_assert_eq!(chart, &LayoutChart::Multiline { title: name.clone(), tags: tags.clone() });
            }
            if let Some((v, l, u)) = &margin {
                let want = LayoutChart::Margin { title: "band".into(), series: vec![(v.clone(), l.clone(), u.clone())] };
                prop_assert_eq!(got.charts.last().unwrap(), &want);
            }
        }
    }

    #[test]
    fn embeddings_read_back_from_the_projector_files(
        (dim, values, labels) in (1usize..4, 1usize..6).prop_flat_map(|(dim, n)| (
            Just(dim),
            prop::collection::vec(-1e3f32..1e3, dim * n),
            prop::collection::vec("[a-z]{1,5}", n),
        )),
        binary in any::<bool>(),
        step in 0i64..100,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut embedding = Embedding::new(&values, dim as _).labels(&labels);
        if binary {
            embedding = embedding.binary();
        }
        write_embedding(dir.path(), "features", step, &embedding).unwrap();
        let read = read_embeddings(dir.path()).unwrap();
        prop_assert_eq!(read.len(), 1);
        let e = &read[0];
        prop_assert_eq!(e.tag_and_step(), Some(("features", step)));
        prop_assert_eq!((e.points, e.dim), (values.len() / dim, dim));
        prop_assert_eq!(&e.values, &values);
        let meta = e.metadata.as_ref().unwrap();
        prop_assert!(meta.header.is_empty());
        let rows: Vec<Vec<String>> = labels.iter().map(|l| vec![l.clone()]).collect();
        prop_assert_eq!(&meta.rows, &rows);
    }
}

/// The run of one event holding every value of `values`.
fn one_event(values: Vec<summary::Value>) -> Run {
    run_of(vec![(7, values)])
}

#[test]
#[cfg(feature = "png")]
fn videos_read_back_as_gifs_with_their_frames() {
    use tbseg::summary::video::{encode_gif, video, VideoFrames};
    let (frames, height, width) = (3usize, 4usize, 5usize);
    let pixels: Vec<u8> = (0..frames * height * width * 3)
        .map(|i| (i * 37 % 256) as u8)
        .collect();
    let clip = VideoFrames::from_u8(&pixels, frames as _, height as _, width as _, 3);
    let gif = encode_gif(&clip, 4.0).unwrap();
    let run = one(video("clip", height as _, width as _, gif.clone()));
    let images = run.images("clip").unwrap();
    let image = &images[0].value[0];
    assert_eq!(image.format, ImageFormat::Gif);
    assert_eq!((image.width, image.height), (width, height));
    assert_eq!(image.frame_count(), Some(frames));
    assert_eq!(image.encoded, gif);
    assert!(image.pixels().is_err());
}

#[test]
fn graphs_read_back_node_by_node() {
    let mut graph = GraphBuilder::new();
    graph.add_node(Node::new("input", "Placeholder"));
    graph.add_node(Node::new("conv", "Conv2D").input("input").device("/cpu:0"));
    let bytes = prost::Message::encode_to_vec(&graph.into_graph_def());
    let mut run = Run::default();
    run.add_event(&Event {
        step: 0,
        what: Some(event::What::GraphDef(bytes)),
        ..Default::default()
    });
    let read = run.graph().unwrap().unwrap();
    let nodes: Vec<_> = read
        .nodes
        .iter()
        .map(|n| {
            (
                n.name.as_str(),
                n.op.as_str(),
                n.inputs.clone(),
                n.device.as_str(),
            )
        })
        .collect();
    assert_eq!(
        nodes,
        [
            ("input", "Placeholder", vec![], ""),
            ("conv", "Conv2D", vec!["input".to_owned()], "/cpu:0"),
        ]
    );
}

#[test]
fn legacy_images_and_audio_as_torch_writes_them() {
    let wav = audio::encode_wav(&[0.5, -0.25], 1, 16_000).unwrap();
    let run = one_event(vec![
        summary::Value {
            tag: "img".into(),
            value: Some(ValueKind::Image(summary::Image {
                height: 2,
                width: 3,
                colorspace: 3,
                encoded_image_string: b"\x89PNG\r\n\x1a\n".to_vec(),
            })),
            ..Default::default()
        },
        summary::Value {
            tag: "clip".into(),
            value: Some(ValueKind::Audio(summary::Audio {
                sample_rate: 16_000.0,
                num_channels: 1,
                length_frames: 2,
                encoded_audio_string: wav,
                content_type: "audio/wav".into(),
            })),
            ..Default::default()
        },
    ]);
    let image = &run.images("img").unwrap()[0].value[0];
    assert_eq!((image.width, image.height, image.channels), (3, 2, Some(3)));
    assert_eq!(image.format, ImageFormat::Png);
    let clip = &run.audio("clip").unwrap()[0].value[0];
    assert_eq!(
        (clip.sample_rate, clip.samples.clone()),
        (16_000, vec![0.5, -0.25])
    );
}

#[test]
fn errors_name_the_tag_the_kind_and_the_step() {
    let broken = summary::Value {
        tag: "img".into(),
        metadata: Some(SummaryMetadata {
            plugin_data: Some(summary_metadata::PluginData {
                plugin_name: "images".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        value: Some(ValueKind::Tensor(TensorProto {
            dtype: DataType::DtFloat as i32,
            ..Default::default()
        })),
        ..Default::default()
    };
    let run = run_of(vec![
        (3, vec![broken, values::scalar("loss", 1.0)]),
        (4, vec![values::text("note", "x")]),
    ]);
    let err = run.images("img").unwrap_err();
    assert!(matches!(err, ReadValueError::Malformed { step: 3, .. }));
    assert_eq!(
        err.to_string(),
        "tag \"img\" at step 3: a DT_FLOAT tensor, expected DT_STRING"
    );
    let err = run.images("loss").unwrap_err();
    assert!(matches!(
        err,
        ReadValueError::WrongKind {
            expected: SeriesKind::Image,
            found: SeriesKind::Scalar,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "tag \"loss\" holds scalar values, not image"
    );
    assert_eq!(
        run.histograms("nope").unwrap_err().to_string(),
        "no tag \"nope\" in the run"
    );
    // The generic form decodes whatever the tag holds.
    let note = run.values("note").unwrap();
    assert!(matches!(&note[0].value, Value::Text(t) if t.as_markdown() == "x"));
    assert_eq!(run.hparams().unwrap(), None);
    assert_eq!(run.custom_scalars().unwrap(), None);
}

#[test]
fn hparam_domains_read_back() {
    use tbseg::proto::google::protobuf::{value::Kind, ListValue, Value as ProtoValue};
    use tbseg::proto::tensorboard::hparams::{
        h_param_info::Domain, h_params_plugin_data::Data, Experiment, HParamInfo,
        HParamsPluginData, Interval,
    };
    let experiment = |domain| HParamsPluginData {
        version: 0,
        data: Some(Data::Experiment(Experiment {
            hparam_infos: vec![HParamInfo {
                name: "lr".into(),
                domain: Some(domain),
                ..Default::default()
            }],
            ..Default::default()
        })),
    };
    let value = |data: HParamsPluginData| summary::Value {
        tag: "_hparams_/experiment".into(),
        metadata: Some(SummaryMetadata {
            plugin_data: Some(summary_metadata::PluginData {
                plugin_name: "hparams".into(),
                content: prost::Message::encode_to_vec(&data),
            }),
            ..Default::default()
        }),
        value: Some(ValueKind::Tensor(TensorProto::default())),
        ..Default::default()
    };
    let interval = experiment(Domain::DomainInterval(Interval {
        min_value: 0.1,
        max_value: 0.5,
    }));
    let run = one(value(interval));
    let info = &run.hparams().unwrap().unwrap().experiment.unwrap().hparams[0];
    assert_eq!(
        info.domain,
        Some(HparamDomain::Interval { min: 0.1, max: 0.5 })
    );
    let discrete = experiment(Domain::DomainDiscrete(ListValue {
        values: vec![ProtoValue {
            kind: Some(Kind::StringValue("adam".into())),
        }],
    }));
    let run = one(value(discrete));
    let info = &run.hparams().unwrap().unwrap().experiment.unwrap().hparams[0];
    assert_eq!(
        info.domain,
        Some(HparamDomain::Discrete(vec![HParamValue::Text(
            "adam".into()
        )]))
    );
}
