//! tbseg's generated messages (`tbseg::proto`, no derive macro) behave as
//! prost-build's derive-based code for the same `.proto` files: for
//! arbitrary messages made with the reference types, tbseg's types decode
//! the bytes to the same fields (compared through `Debug`, which shows
//! every field by name, enums by variant name), encode them back to the
//! same bytes with the same `encoded_len`, merge repeated input alike, and
//! accept or reject damaged input alike, with the same error text.
//!
//! The reference code is prost-build's output, checked in under
//! tests/protogen/reference/ and kept current by tests/proto_generated.rs;
//! it compiles here because the dev-dependency on prost turns on `derive`
//! (for tests only: a plain dependency on tbseg has no derive macro).

use std::fmt::Debug;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::Index;
use prost::Message;
use tbseg::proto as ours;

#[allow(clippy::all, dead_code, missing_docs)]
mod reference {
    pub mod tensorflow {
        include!("protogen/reference/tensorflow.rs");
    }
    pub mod tensorboard {
        include!("protogen/reference/tensorboard.rs");
        pub mod hparams {
            include!("protogen/reference/tensorboard.hparams.rs");
        }
        pub mod mesh {
            include!("protogen/reference/tensorboard.mesh.rs");
        }
        pub mod projector {
            include!("protogen/reference/tensorboard.projector.rs");
        }
    }
    pub mod google {
        pub mod protobuf {
            include!("protogen/reference/google.protobuf.rs");
        }
    }
}

use reference::google::protobuf as wkt;
use reference::tensorboard as tb;
use reference::tensorflow as tf;

/// Damage to apply to an encoding: at these positions, these bytes.
type Damage = Vec<(Index, u8)>;

fn damage() -> impl Strategy<Value = Damage> {
    vec((any::<Index>(), any::<u8>()), 1..4)
}

/// What decoding gives, comparable across the two type families.
fn decoded<T: Message + Default + Debug>(bytes: &[u8]) -> Result<String, String> {
    T::decode(bytes)
        .map(|m| format!("{m:?}"))
        .map_err(|e| e.to_string())
}

/// The whole comparison for one message `value` of reference type `R`
/// against tbseg's type `M`.
fn same_as_reference<R, M>(value: &R, damage: &Damage) -> Result<(), TestCaseError>
where
    R: Message + Default + Debug,
    M: Message + Default + Debug,
{
    let bytes = value.encode_to_vec();
    // Compare with the reference's own decoding, not `value`: `-0.0` is
    // not encoded (proto3 leaves zeros out), so it comes back as `0.0`.
    let theirs = R::decode(bytes.as_slice()).expect("the reference decodes itself");
    let ours = M::decode(bytes.as_slice())
        .map_err(|e| TestCaseError::fail(format!("tbseg does not decode it: {e}")))?;
    prop_assert_eq!(format!("{ours:?}"), format!("{theirs:?}"));
    prop_assert_eq!(ours.encoded_len(), bytes.len());
    prop_assert_eq!(&ours.encode_to_vec(), &bytes);

    // Length-delimited framing round-trips the same way.
    let delimited = ours.encode_length_delimited_to_vec();
    prop_assert_eq!(&delimited, &value.encode_length_delimited_to_vec());
    let back = M::decode_length_delimited(delimited.as_slice()).unwrap();
    prop_assert_eq!(format!("{back:?}"), format!("{theirs:?}"));

    // The same bytes twice merge: repeated fields and maps grow, singular
    // messages and oneof messages merge field by field, scalars take the
    // last value.
    let twice = [bytes.as_slice(), bytes.as_slice()].concat();
    prop_assert_eq!(decoded::<M>(&twice), decoded::<R>(&twice));
    let merged_ours = M::decode(twice.as_slice()).unwrap();
    let merged_theirs = R::decode(twice.as_slice()).unwrap();
    prop_assert_eq!(merged_ours.encode_to_vec(), merged_theirs.encode_to_vec());

    // Every cut of the bytes (up to 64 evenly spread) and the damaged
    // bytes decode alike or fail alike, with the same error
    // ("failed to decode Protobuf message: Event.what: ...").
    let step = (bytes.len() / 64).max(1);
    for cut in (0..bytes.len()).step_by(step) {
        prop_assert_eq!(
            decoded::<M>(&bytes[..cut]),
            decoded::<R>(&bytes[..cut]),
            "cut at {}",
            cut
        );
    }
    if !bytes.is_empty() {
        let mut damaged = bytes.clone();
        for (at, byte) in damage {
            damaged[at.index(bytes.len())] = *byte;
        }
        prop_assert_eq!(decoded::<M>(&damaged), decoded::<R>(&damaged));
    }

    // `clear` leaves the default message.
    let mut cleared = ours;
    cleared.clear();
    prop_assert_eq!(cleared.encoded_len(), 0);
    prop_assert_eq!(format!("{cleared:?}"), format!("{:?}", M::default()));
    Ok(())
}

// ---- Strategies for the reference types ----

/// Known enum values mostly, unknown ones (which must survive) sometimes.
fn enum_value() -> impl Strategy<Value = i32> {
    prop_oneof![4 => 0..24i32, 1 => any::<i32>()]
}

fn text() -> BoxedStrategy<String> {
    prop_oneof!["[a-z_/:]{0,8}", ".{0,4}"].boxed()
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..12)
}

fn small<T: Debug>(element: impl Strategy<Value = T>) -> impl Strategy<Value = Vec<T>> {
    vec(element, 0..4)
}

fn shape() -> impl Strategy<Value = tf::TensorShapeProto> {
    let dim =
        (any::<i64>(), text()).prop_map(|(size, name)| tf::tensor_shape_proto::Dim { size, name });
    (small(dim), any::<bool>())
        .prop_map(|(dim, unknown_rank)| tf::TensorShapeProto { dim, unknown_rank })
}

fn tensor() -> impl Strategy<Value = tf::TensorProto> {
    let head = (
        enum_value(),
        proptest::option::of(shape()),
        any::<i32>(),
        bytes(),
        small(any::<i32>()),
        small(any::<f32>()),
    );
    let lists = (
        small(any::<f64>()),
        small(any::<i32>()),
        small(bytes()),
        small(any::<f32>()),
        small(any::<i64>()),
        small(any::<bool>()),
        small(any::<f64>()),
        small(any::<u32>()),
        small(any::<u64>()),
    );
    (head, lists).prop_map(
        |(
            (dtype, tensor_shape, version_number, tensor_content, half_val, float_val),
            (
                double_val,
                int_val,
                string_val,
                scomplex_val,
                int64_val,
                bool_val,
                dcomplex_val,
                uint32_val,
                uint64_val,
            ),
        )| tf::TensorProto {
            dtype,
            tensor_shape,
            version_number,
            tensor_content,
            half_val,
            float_val,
            double_val,
            int_val,
            string_val,
            scomplex_val,
            int64_val,
            bool_val,
            dcomplex_val,
            uint32_val,
            uint64_val,
        },
    )
}

fn summary_value() -> impl Strategy<Value = tf::summary::Value> {
    use tf::summary::value::Value as Kind;
    let image = (any::<i32>(), any::<i32>(), any::<i32>(), bytes()).prop_map(
        |(height, width, colorspace, encoded_image_string)| tf::summary::Image {
            height,
            width,
            colorspace,
            encoded_image_string,
        },
    );
    let histo = (
        (
            any::<f64>(),
            any::<f64>(),
            any::<f64>(),
            any::<f64>(),
            any::<f64>(),
        ),
        small(any::<f64>()),
        small(any::<f64>()),
    )
        .prop_map(
            |((min, max, num, sum, sum_squares), bucket_limit, bucket)| tf::HistogramProto {
                min,
                max,
                num,
                sum,
                sum_squares,
                bucket_limit,
                bucket,
            },
        );
    let audio = (any::<f32>(), any::<i64>(), any::<i64>(), bytes(), text()).prop_map(
        |(sample_rate, num_channels, length_frames, encoded_audio_string, content_type)| {
            tf::summary::Audio {
                sample_rate,
                num_channels,
                length_frames,
                encoded_audio_string,
                content_type,
            }
        },
    );
    let kind = prop_oneof![
        any::<f32>().prop_map(Kind::SimpleValue),
        bytes().prop_map(Kind::ObsoleteOldStyleHistogram),
        image.prop_map(Kind::Image),
        histo.prop_map(Kind::Histo),
        audio.prop_map(Kind::Audio),
        tensor().prop_map(Kind::Tensor),
    ];
    let plugin_data =
        (text(), bytes()).prop_map(|(plugin_name, content)| tf::summary_metadata::PluginData {
            plugin_name,
            content,
        });
    let metadata = (
        proptest::option::of(plugin_data),
        text(),
        text(),
        enum_value(),
    )
        .prop_map(
            |(plugin_data, display_name, summary_description, data_class)| tf::SummaryMetadata {
                plugin_data,
                display_name,
                summary_description,
                data_class,
            },
        );
    (
        text(),
        text(),
        proptest::option::of(metadata),
        proptest::option::of(kind),
    )
        .prop_map(|(node_name, tag, metadata, value)| tf::summary::Value {
            node_name,
            tag,
            metadata,
            value,
        })
}

fn event() -> impl Strategy<Value = tf::Event> {
    use tf::event::What;
    let log_message =
        (enum_value(), text()).prop_map(|(level, message)| tf::LogMessage { level, message });
    let session_log =
        (enum_value(), text(), text()).prop_map(|(status, checkpoint_path, msg)| tf::SessionLog {
            status,
            checkpoint_path,
            msg,
        });
    let tagged = (text(), bytes())
        .prop_map(|(tag, run_metadata)| tf::TaggedRunMetadata { tag, run_metadata });
    let what = prop_oneof![
        text().prop_map(What::FileVersion),
        bytes().prop_map(What::GraphDef),
        small(summary_value()).prop_map(|value| What::Summary(tf::Summary { value })),
        log_message.prop_map(What::LogMessage),
        session_log.prop_map(What::SessionLog),
        tagged.prop_map(What::TaggedRunMetadata),
        bytes().prop_map(What::MetaGraphDef),
    ];
    let source = text().prop_map(|writer| tf::SourceMetadata { writer });
    (
        any::<f64>(),
        any::<i64>(),
        proptest::option::of(what),
        proptest::option::of(source),
    )
        .prop_map(|(wall_time, step, what, source_metadata)| tf::Event {
            wall_time,
            step,
            what,
            source_metadata,
        })
}

fn example() -> impl Strategy<Value = tf::Example> {
    use tf::feature::Kind;
    let kind = prop_oneof![
        small(bytes()).prop_map(|value| Kind::BytesList(tf::BytesList { value })),
        small(any::<f32>()).prop_map(|value| Kind::FloatList(tf::FloatList { value })),
        small(any::<i64>()).prop_map(|value| Kind::Int64List(tf::Int64List { value })),
    ];
    let feature = proptest::option::of(kind).prop_map(|kind| tf::Feature { kind });
    let features = btree_map(text(), feature, 0..4).prop_map(|feature| tf::Features { feature });
    proptest::option::of(features).prop_map(|features| tf::Example { features })
}

fn version_def() -> impl Strategy<Value = tf::VersionDef> {
    (any::<i32>(), any::<i32>(), small(any::<i32>())).prop_map(
        |(producer, min_consumer, bad_consumers)| tf::VersionDef {
            producer,
            min_consumer,
            bad_consumers,
        },
    )
}

fn bundle_header() -> impl Strategy<Value = tf::BundleHeaderProto> {
    (
        any::<i32>(),
        enum_value(),
        proptest::option::of(version_def()),
    )
        .prop_map(|(num_shards, endianness, version)| tf::BundleHeaderProto {
            num_shards,
            endianness,
            version,
        })
}

fn bundle_entry() -> impl Strategy<Value = tf::BundleEntryProto> {
    use tf::tensor_slice_proto::{extent::HasLength, Extent};
    let extent =
        (any::<i64>(), proptest::option::of(any::<i64>())).prop_map(|(start, length)| Extent {
            start,
            has_length: length.map(HasLength::Length),
        });
    let slice = small(extent).prop_map(|extent| tf::TensorSliceProto { extent });
    (
        enum_value(),
        proptest::option::of(shape()),
        (any::<i32>(), any::<i64>(), any::<i64>(), any::<u32>()),
        small(slice),
    )
        .prop_map(|(dtype, shape, (shard_id, offset, size, crc32c), slices)| {
            tf::BundleEntryProto {
                dtype,
                shape,
                shard_id,
                offset,
                size,
                crc32c,
                slices,
            }
        })
}

/// An `AttrValue`, nesting lists and functions up to `depth` levels.
fn attr_value(depth: u32) -> BoxedStrategy<tf::AttrValue> {
    use tf::attr_value::Value;
    let leaf = prop_oneof![
        bytes().prop_map(Value::S),
        any::<i64>().prop_map(Value::I),
        any::<f32>().prop_map(Value::F),
        any::<bool>().prop_map(Value::B),
        enum_value().prop_map(Value::Type),
        shape().prop_map(Value::Shape),
        tensor().prop_map(Value::Tensor),
        text().prop_map(Value::Placeholder),
    ];
    let value = if depth == 0 {
        leaf.boxed()
    } else {
        let list = (
            (small(bytes()), small(any::<i64>()), small(any::<f32>())),
            (small(any::<bool>()), small(enum_value()), small(shape())),
            (small(tensor()), small(name_attr_list(depth - 1))),
        )
            .prop_map(|((s, i, f), (b, r#type, shape), (tensor, func))| {
                tf::attr_value::ListValue {
                    s,
                    i,
                    f,
                    b,
                    r#type,
                    shape,
                    tensor,
                    func,
                }
            });
        prop_oneof![
            3 => leaf,
            1 => list.prop_map(Value::List),
            1 => name_attr_list(depth - 1).prop_map(Value::Func),
        ]
        .boxed()
    };
    proptest::option::of(value)
        .prop_map(|value| tf::AttrValue { value })
        .boxed()
}

fn name_attr_list(depth: u32) -> BoxedStrategy<tf::NameAttrList> {
    (text(), btree_map(text(), attr_value(depth), 0..3))
        .prop_map(|(name, attr)| tf::NameAttrList { name, attr })
        .boxed()
}

fn graph() -> impl Strategy<Value = tf::GraphDef> {
    let node = (
        text(),
        text(),
        small(text()),
        text(),
        btree_map(text(), attr_value(2), 0..3),
    )
        .prop_map(|(name, op, input, device, attr)| tf::NodeDef {
            name,
            op,
            input,
            device,
            attr,
        });
    (
        small(node),
        proptest::option::of(version_def()),
        any::<i32>(),
    )
        .prop_map(|(node, versions, version)| tf::GraphDef {
            node,
            versions,
            version,
        })
}

/// A `google.protobuf.Value`, nesting structs and lists up to `depth`.
fn proto_value(depth: u32) -> BoxedStrategy<wkt::Value> {
    use wkt::value::Kind;
    let leaf = prop_oneof![
        enum_value().prop_map(Kind::NullValue),
        any::<f64>().prop_map(Kind::NumberValue),
        text().prop_map(Kind::StringValue),
        any::<bool>().prop_map(Kind::BoolValue),
    ];
    let kind = if depth == 0 {
        leaf.boxed()
    } else {
        prop_oneof![
            3 => leaf,
            1 => btree_map(text(), proto_value(depth - 1), 0..3)
                .prop_map(|fields| Kind::StructValue(wkt::Struct { fields })),
            1 => small(proto_value(depth - 1))
                .prop_map(|values| Kind::ListValue(wkt::ListValue { values })),
        ]
        .boxed()
    };
    proptest::option::of(kind)
        .prop_map(|kind| wkt::Value { kind })
        .boxed()
}

fn hparams() -> impl Strategy<Value = tb::hparams::HParamsPluginData> {
    use tb::hparams::{self as hp, h_param_info::Domain, h_params_plugin_data::Data};
    let domain = prop_oneof![
        small(proto_value(1)).prop_map(|values| Domain::DomainDiscrete(wkt::ListValue { values })),
        (any::<f64>(), any::<f64>()).prop_map(|(min_value, max_value)| Domain::DomainInterval(
            hp::Interval {
                min_value,
                max_value
            }
        )),
    ];
    let hparam_info = (
        text(),
        text(),
        text(),
        enum_value(),
        proptest::option::of(domain),
    )
        .prop_map(
            |(name, display_name, description, r#type, domain)| hp::HParamInfo {
                name,
                display_name,
                description,
                r#type,
                domain,
            },
        );
    let metric_name = (text(), text()).prop_map(|(group, tag)| hp::MetricName { group, tag });
    let metric_info = (
        proptest::option::of(metric_name),
        text(),
        text(),
        enum_value(),
    )
        .prop_map(
            |(name, display_name, description, dataset_type)| hp::MetricInfo {
                name,
                display_name,
                description,
                dataset_type,
            },
        );
    let experiment = (
        (text(), text(), text(), any::<f64>()),
        small(hparam_info),
        small(metric_info),
    )
        .prop_map(
            |((name, description, user, time_created_secs), hparam_infos, metric_infos)| {
                hp::Experiment {
                    name,
                    description,
                    user,
                    time_created_secs,
                    hparam_infos,
                    metric_infos,
                }
            },
        );
    let start = (
        btree_map(text(), proto_value(2), 0..4),
        (text(), text(), text(), any::<f64>()),
    )
        .prop_map(
            |(hparams, (model_uri, monitor_url, group_name, start_time_secs))| {
                hp::SessionStartInfo {
                    hparams,
                    model_uri,
                    monitor_url,
                    group_name,
                    start_time_secs,
                }
            },
        );
    let end = (enum_value(), any::<f64>()).prop_map(|(status, end_time_secs)| hp::SessionEndInfo {
        status,
        end_time_secs,
    });
    let data = prop_oneof![
        experiment.prop_map(Data::Experiment),
        start.prop_map(Data::SessionStartInfo),
        end.prop_map(Data::SessionEndInfo),
    ];
    (any::<i32>(), proptest::option::of(data))
        .prop_map(|(version, data)| hp::HParamsPluginData { version, data })
}

fn layout() -> impl Strategy<Value = tb::Layout> {
    use tb::chart::Content;
    let series = (text(), text(), text()).prop_map(|(value, lower, upper)| {
        tb::margin_chart_content::Series {
            value,
            lower,
            upper,
        }
    });
    let content = prop_oneof![
        small(text()).prop_map(|tag| Content::Multiline(tb::MultilineChartContent { tag })),
        small(series).prop_map(|series| Content::Margin(tb::MarginChartContent { series })),
    ];
    let chart = (text(), proptest::option::of(content))
        .prop_map(|(title, content)| tb::Chart { title, content });
    let category =
        (text(), small(chart), any::<bool>()).prop_map(|(title, chart, closed)| tb::Category {
            title,
            chart,
            closed,
        });
    (any::<i32>(), small(category)).prop_map(|(version, category)| tb::Layout { version, category })
}

fn mesh() -> impl Strategy<Value = tb::mesh::MeshPluginData> {
    (
        any::<i32>(),
        text(),
        enum_value(),
        text(),
        small(any::<i32>()),
        any::<u32>(),
    )
        .prop_map(
            |(version, name, content_type, json_config, shape, components)| {
                tb::mesh::MeshPluginData {
                    version,
                    name,
                    content_type,
                    json_config,
                    shape,
                    components,
                }
            },
        )
}

fn projector() -> impl Strategy<Value = tb::projector::ProjectorConfig> {
    use tb::projector as pj;
    let sprite = (text(), small(any::<u32>())).prop_map(|(image_path, single_image_dim)| {
        pj::SpriteMetadata {
            image_path,
            single_image_dim,
        }
    });
    let embedding = (
        (text(), text(), text()),
        small(any::<u32>()),
        proptest::option::of(sprite),
        text(),
    )
        .prop_map(
            |((tensor_name, metadata_path, bookmarks_path), tensor_shape, sprite, tensor_path)| {
                pj::EmbeddingInfo {
                    tensor_name,
                    metadata_path,
                    bookmarks_path,
                    tensor_shape,
                    sprite,
                    tensor_path,
                }
            },
        );
    (text(), small(embedding), text()).prop_map(
        |(model_checkpoint_path, embeddings, model_checkpoint_dir)| pj::ProjectorConfig {
            model_checkpoint_path,
            embeddings,
            model_checkpoint_dir,
        },
    )
}

proptest! {
    #[test]
    fn events_with_every_kind_of_summary_value(value in event(), damage in damage()) {
        same_as_reference::<_, ours::tensorflow::Event>(&value, &damage)?;
    }

    #[test]
    fn examples(value in example(), damage in damage()) {
        same_as_reference::<_, ours::tensorflow::Example>(&value, &damage)?;
    }

    #[test]
    fn checkpoint_index_entries(
        header in bundle_header(),
        entry in bundle_entry(),
        damage in damage(),
    ) {
        same_as_reference::<_, ours::tensorflow::BundleHeaderProto>(&header, &damage)?;
        same_as_reference::<_, ours::tensorflow::BundleEntryProto>(&entry, &damage)?;
    }

    #[test]
    fn graphs_with_attribute_maps(value in graph(), damage in damage()) {
        same_as_reference::<_, ours::tensorflow::GraphDef>(&value, &damage)?;
    }

    #[test]
    fn hparams_with_struct_values(value in hparams(), damage in damage()) {
        same_as_reference::<_, ours::tensorboard::hparams::HParamsPluginData>(&value, &damage)?;
    }

    #[test]
    fn dashboard_plugin_data(
        layout in layout(),
        mesh in mesh(),
        projector in projector(),
        damage in damage(),
    ) {
        same_as_reference::<_, ours::tensorboard::Layout>(&layout, &damage)?;
        same_as_reference::<_, ours::tensorboard::mesh::MeshPluginData>(&mesh, &damage)?;
        same_as_reference::<_, ours::tensorboard::projector::ProjectorConfig>(
            &projector, &damage,
        )?;
    }

    #[test]
    fn small_plugin_messages(
        (version, num_thresholds, converted, encoding) in
            (any::<i32>(), any::<u32>(), any::<bool>(), enum_value()),
        damage in damage(),
    ) {
        same_as_reference::<_, ours::tensorboard::TextPluginData>(
            &tb::TextPluginData { version },
            &damage,
        )?;
        same_as_reference::<_, ours::tensorboard::PrCurvePluginData>(
            &tb::PrCurvePluginData { version, num_thresholds },
            &damage,
        )?;
        same_as_reference::<_, ours::tensorboard::HistogramPluginData>(
            &tb::HistogramPluginData { version },
            &damage,
        )?;
        same_as_reference::<_, ours::tensorboard::ImagePluginData>(
            &tb::ImagePluginData { version, converted_to_tensor: converted },
            &damage,
        )?;
        same_as_reference::<_, ours::tensorboard::AudioPluginData>(
            &tb::AudioPluginData { version, encoding, converted_to_tensor: converted },
            &damage,
        )?;
    }
}

/// A field sent unpacked although the `.proto` says packed (older
/// writers do) decodes alike, and re-encodes packed in both.
#[test]
fn unpacked_input_for_packed_fields() {
    // TensorProto.float_val (field 5) as two separate fixed32 fields.
    let mut bytes = Vec::new();
    for value in [1.5f32, -2.0] {
        bytes.push(5 << 3 | 5);
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    let ours = ours::tensorflow::TensorProto::decode(bytes.as_slice()).unwrap();
    let theirs = tf::TensorProto::decode(bytes.as_slice()).unwrap();
    assert_eq!(ours.float_val, [1.5, -2.0]);
    assert_eq!(format!("{ours:?}"), format!("{theirs:?}"));
    assert_eq!(ours.encode_to_vec(), theirs.encode_to_vec());
}

/// The `Debug` output names enum values, as it did with the derive macro.
#[test]
fn debug_shows_enum_values_by_name() {
    let entry = ours::tensorflow::BundleEntryProto {
        dtype: ours::tensorflow::DataType::DtFloat as i32,
        ..Default::default()
    };
    assert!(format!("{entry:?}").contains("dtype: DtFloat"), "{entry:?}");
    let unknown = ours::tensorflow::BundleEntryProto {
        dtype: 999,
        ..Default::default()
    };
    assert!(format!("{unknown:?}").contains("dtype: 999"), "{unknown:?}");
}
