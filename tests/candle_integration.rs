//! The candle integration writes what the tensors hold: every test logs
//! candle tensors, reads the run back with `tbseg::reader` (and the
//! Projector's files from disk) and checks the values, bucket counts and
//! pixels against the tensors' own contents, across dtypes, channel orders
//! and strided (non-contiguous) tensors. Needs `--features candle`.
//!
//! Only the CPU device is built here (candle without `cuda`/`metal`); every
//! call copies to the CPU first, which is a no-op there.

use std::path::Path;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{linear, Module, VarBuilder, VarMap};
use tbseg::integrations::candle::{CandleSummaries, ChannelOrder};
use tbseg::proto::tensorflow::event::What;
use tbseg::proto::tensorflow::summary::value::Value as ValueKind;
use tbseg::proto::tensorflow::summary::Value;
use tbseg::reader::{scalar_value, EventFileReader};
use tbseg::summary::{BatchLayout, SummaryError, SummaryWriter};

const CPU: Device = Device::Cpu;

/// Every summary value of the run in `dir`, with its step, in file order.
fn logged(dir: &Path) -> Vec<(i64, Value)> {
    let file = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("tfevents"))
        .expect("an event file");
    let (events, _) = EventFileReader::open(&file).unwrap().read_all().unwrap();
    events
        .into_iter()
        .filter_map(|e| match e.what {
            Some(What::Summary(s)) => Some((e.step, s)),
            _ => None,
        })
        .flat_map(|(step, s)| s.value.into_iter().map(move |v| (step, v)))
        .collect()
}

fn find<'a>(values: &'a [(i64, Value)], tag: &str) -> &'a Value {
    &values
        .iter()
        .find(|(_, v)| v.tag == tag)
        .unwrap_or_else(|| panic!("no value tagged {tag}"))
        .1
}

/// A histogram's `[left, right, count]` rows.
fn histogram_rows(value: &Value) -> Vec<[f64; 3]> {
    let Some(ValueKind::Tensor(t)) = &value.value else {
        panic!("not a tensor")
    };
    t.tensor_content
        .chunks_exact(24)
        .map(|row| {
            let f = |i: usize| f64::from_le_bytes(row[i * 8..i * 8 + 8].try_into().unwrap());
            [f(0), f(1), f(2)]
        })
        .collect()
}

/// An image value decoded: (width, height, channels, pixels).
fn decoded_image(value: &Value) -> (u32, u32, usize, Vec<u8>) {
    let Some(ValueKind::Tensor(t)) = &value.value else {
        panic!("not a tensor")
    };
    let decoder = png::Decoder::new(std::io::Cursor::new(t.string_val[2].clone()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    let size = |i: usize| -> u32 {
        std::str::from_utf8(&t.string_val[i])
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(
        (size(0), size(1)),
        (info.width, info.height),
        "the size header"
    );
    (info.width, info.height, info.color_type.samples(), buf)
}

fn assert_invalid(result: Result<(), SummaryError>, tag: &str, reason: &str) {
    let err = result.unwrap_err();
    assert!(
        matches!(&err, SummaryError::InvalidArgument { tag: t, .. } if t == tag),
        "{err}"
    );
    assert!(err.to_string().contains(reason), "{err}");
}

#[test]
fn scalars_from_one_value_tensors_of_every_dtype() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    let cases: Vec<(&str, Tensor)> = vec![
        ("f32", Tensor::new(0.25f32, &CPU).unwrap()),
        ("f64", Tensor::new(-3.5f64, &CPU).unwrap()),
        (
            "f16",
            Tensor::new(0.75f32, &CPU)
                .unwrap()
                .to_dtype(DType::F16)
                .unwrap(),
        ),
        (
            "bf16",
            Tensor::new(-2f32, &CPU)
                .unwrap()
                .to_dtype(DType::BF16)
                .unwrap(),
        ),
        ("u8", Tensor::new(200u8, &CPU).unwrap()),
        ("u32", Tensor::new(70_000u32, &CPU).unwrap()),
        ("i64", Tensor::new(-7i64, &CPU).unwrap()),
        ("1x1", Tensor::new(&[[1.5f32]], &CPU).unwrap()),
    ];
    for (step, (tag, tensor)) in cases.iter().enumerate() {
        writer.add_scalar_tensor(tag, tensor, step).unwrap(); // a usize
    }
    let many = Tensor::new(&[1f32, 2.0], &CPU).unwrap();
    assert_invalid(
        writer.add_scalar_tensor("many", &many, 9),
        "many",
        "shape [2] holds 2 values, expected exactly 1",
    );
    let none = Tensor::zeros((0, 3), DType::F32, &CPU).unwrap();
    assert_invalid(
        writer.add_scalar_tensor("none", &none, 9),
        "none",
        "holds 0 values",
    );
    writer.close().unwrap();

    let got: Vec<(i64, String, f64)> = logged(dir.path())
        .iter()
        .map(|(s, v)| (*s, v.tag.clone(), f64::from(scalar_value(v).unwrap())))
        .collect();
    let want: Vec<(i64, String, f64)> = [
        ("f32", 0.25),
        ("f64", -3.5),
        ("f16", 0.75),
        ("bf16", -2.0),
        ("u8", 200.0),
        ("u32", 70_000.0),
        ("i64", -7.0),
        ("1x1", 1.5),
    ]
    .iter()
    .enumerate()
    .map(|(step, (tag, v))| (step as i64, tag.to_string(), *v))
    .collect();
    assert_eq!(got, want, "the rejected tensors wrote nothing");
}

#[test]
fn histograms_count_every_element_whatever_the_dtype_and_strides() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    let values: Vec<f32> = (0..24).map(|i| (i as f32 - 10.0) * 0.5).collect();
    let f32s = Tensor::from_vec(values.clone(), (2, 3, 4), &CPU).unwrap();
    writer.add_histogram_tensor("f32", &f32s, 1).unwrap();
    // A transposed view: the same elements in another order, not contiguous.
    let strided = f32s.transpose(0, 2).unwrap();
    assert!(!strided.is_contiguous());
    writer.add_histogram_tensor("strided", &strided, 1).unwrap();
    let ints = Tensor::new(&[3i64, -4, 100, 3], &CPU).unwrap();
    writer.add_histogram_tensor("i64", &ints, 1).unwrap();
    let halves = f32s.to_dtype(DType::BF16).unwrap();
    writer.add_histogram_tensor("bf16", &halves, 1).unwrap();
    // The same values through the writer's own slice method.
    writer.add_histogram("plain", &values, 1).unwrap();
    writer.close().unwrap();

    let logged = logged(dir.path());
    let plain = histogram_rows(find(&logged, "plain"));
    assert_eq!(histogram_rows(find(&logged, "f32")), plain);
    assert_eq!(histogram_rows(find(&logged, "strided")), plain);
    // -5.0 ..= 6.5 in steps of 0.5 are exact in bfloat16.
    assert_eq!(histogram_rows(find(&logged, "bf16")), plain);
    assert_eq!(plain.iter().map(|r| r[2]).sum::<f64>(), 24.0);
    assert_eq!((plain[0][0], plain.last().unwrap()[1]), (-5.0, 6.5));

    let ints = histogram_rows(find(&logged, "i64"));
    assert_eq!(ints.iter().map(|r| r[2]).sum::<f64>(), 4.0);
    assert_eq!((ints[0][0], ints.last().unwrap()[1]), (-4.0, 100.0));
}

/// A 2×3 RGB picture whose every byte differs: (y, x, c) → 40y + 10x + c.
fn rgb_hwc() -> Vec<u8> {
    (0..2u8)
        .flat_map(|y| (0..3u8).flat_map(move |x| (0..3u8).map(move |c| 40 * y + 10 * x + c)))
        .collect()
}

#[test]
fn chw_and_hwc_tensors_give_the_same_picture() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    let hwc = Tensor::from_vec(rgb_hwc(), (2, 3, 3), &CPU).unwrap();
    writer
        .add_image_tensor("hwc", &hwc, ChannelOrder::Hwc, 0)
        .unwrap();
    // The CHW view of the same storage (strided) and a contiguous copy.
    let chw_view = hwc.permute((2, 0, 1)).unwrap();
    writer
        .add_image_tensor("chw_view", &chw_view, ChannelOrder::Chw, 0)
        .unwrap();
    let chw = chw_view.contiguous().unwrap();
    writer
        .add_image_tensor("chw", &chw, ChannelOrder::Chw, 0)
        .unwrap();
    // The same bytes as 32-bit integers and as floats in [0, 1].
    let u32s = chw.to_dtype(DType::U32).unwrap();
    writer
        .add_image_tensor("u32", &u32s, ChannelOrder::Chw, 0)
        .unwrap();
    let floats = (chw.to_dtype(DType::F64).unwrap() / 255.0).unwrap();
    writer
        .add_image_tensor("f64", &floats, ChannelOrder::Chw, 0)
        .unwrap();
    writer.close().unwrap();

    let logged = logged(dir.path());
    for tag in ["hwc", "chw_view", "chw", "u32", "f64"] {
        assert_eq!(
            decoded_image(find(&logged, tag)),
            (3, 2, 3, rgb_hwc()),
            "{tag}: 3 wide, 2 high, RGB, the HWC bytes"
        );
    }
}

#[test]
fn image_values_are_scaled_and_clamped_per_dtype() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    // One grey row of 7: [0, 1] scaled by 255 and rounded, the rest
    // clamped, NaN black.
    let floats = [0.0f32, 0.25, 0.5, 0.75, 1.0, -1.0, 2.0];
    let want_floats = vec![0u8, 64, 128, 191, 255, 0, 255];
    let row = Tensor::new(&[floats], &CPU).unwrap();
    writer
        .add_image_tensor("f32", &row, ChannelOrder::Chw, 0)
        .unwrap();
    for dtype in [DType::F16, DType::BF16, DType::F64] {
        let tensor = row.to_dtype(dtype).unwrap();
        let tag = format!("{dtype:?}");
        writer
            .add_image_tensor(&tag, &tensor, ChannelOrder::Hwc, 0)
            .unwrap();
    }
    let nan = Tensor::new(&[[f32::NAN, 1.0]], &CPU).unwrap();
    writer
        .add_image_tensor("nan", &nan, ChannelOrder::Chw, 0)
        .unwrap();
    // Integers are intensities 0-255 as they are, clamped.
    let ints = Tensor::new(&[[-5i64, 0, 7, 255, 1000]], &CPU).unwrap();
    writer
        .add_image_tensor("i64", &ints, ChannelOrder::Chw, 0)
        .unwrap();
    // A [1, H, W] grey image in CHW and a [H, W, 1] one in HWC.
    let grey = Tensor::new(&[[[10u8, 20], [30, 40]]], &CPU).unwrap();
    writer
        .add_image_tensor("grey_chw", &grey, ChannelOrder::Chw, 0)
        .unwrap();
    let grey_hwc = grey.permute((1, 2, 0)).unwrap();
    writer
        .add_image_tensor("grey_hwc", &grey_hwc, ChannelOrder::Hwc, 0)
        .unwrap();
    writer.close().unwrap();

    let logged = logged(dir.path());
    for tag in ["f32", "F16", "BF16", "F64"] {
        assert_eq!(
            decoded_image(find(&logged, tag)),
            (7, 1, 1, want_floats.clone()),
            "{tag}"
        );
    }
    assert_eq!(decoded_image(find(&logged, "nan")), (2, 1, 1, vec![0, 255]));
    assert_eq!(
        decoded_image(find(&logged, "i64")),
        (5, 1, 1, vec![0, 0, 7, 255, 255])
    );
    for tag in ["grey_chw", "grey_hwc"] {
        assert_eq!(
            decoded_image(find(&logged, tag)),
            (2, 2, 1, vec![10, 20, 30, 40]),
            "{tag}"
        );
    }
}

#[test]
fn bad_image_tensors_are_rejected_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    let five = Tensor::zeros((5, 2, 2), DType::U8, &CPU).unwrap();
    assert_invalid(
        writer.add_image_tensor("five", &five, ChannelOrder::Chw, 0),
        "five",
        "5 channels, expected 1, 2, 3 or 4",
    );
    // The same tensor read as HWC has 2 channels: fine.
    writer
        .add_image_tensor("ok", &five, ChannelOrder::Hwc, 0)
        .unwrap();
    let flat = Tensor::zeros(4, DType::F32, &CPU).unwrap();
    assert_invalid(
        writer.add_image_tensor("flat", &flat, ChannelOrder::Hwc, 0),
        "flat",
        "shape [4], expected [H, W, C] or [H, W]",
    );
    let empty = Tensor::zeros((3, 0, 4), DType::F32, &CPU).unwrap();
    assert_invalid(
        writer.add_image_tensor("empty", &empty, ChannelOrder::Chw, 0),
        "empty",
        "0x4 pixels",
    );
    let batch = Tensor::zeros((2, 3, 4), DType::F32, &CPU).unwrap();
    assert_invalid(
        writer.add_images_tensor("batch", &batch, ChannelOrder::Chw, 0),
        "batch",
        "shape [2, 3, 4], expected [N, C, H, W]",
    );
    let none = Tensor::zeros((0, 3, 4, 4), DType::F32, &CPU).unwrap();
    assert_invalid(
        writer.add_images_tensor("none", &none, ChannelOrder::Chw, 0),
        "none",
        "an empty batch",
    );
    writer.close().unwrap();
    let tags: Vec<String> = logged(dir.path()).into_iter().map(|(_, v)| v.tag).collect();
    assert_eq!(tags, ["ok"]);
}

#[test]
fn batches_tile_like_the_writers_grid_in_both_orders() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    // Three 2×3 RGB images: image n is rgb_hwc() + n.
    let nhwc: Vec<u8> = (0..3u8)
        .flat_map(|n| rgb_hwc().into_iter().map(move |v| v + n))
        .collect();
    let batch_hwc = Tensor::from_vec(nhwc.clone(), (3, 2, 3, 3), &CPU).unwrap();
    writer
        .add_images_tensor("nhwc", &batch_hwc, ChannelOrder::Hwc, 0)
        .unwrap();
    let batch_chw = (batch_hwc
        .permute((0, 3, 1, 2))
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap()
        / 255.0)
        .unwrap();
    writer
        .add_images_tensor("nchw_f32", &batch_chw, ChannelOrder::Chw, 0)
        .unwrap();
    writer
        .add_images("reference", &nhwc, BatchLayout::Nhwc(3, 2, 3, 3), 0)
        .unwrap();
    writer.close().unwrap();

    let logged = logged(dir.path());
    let reference = decoded_image(find(&logged, "reference"));
    // One row of three: 3 × (3 + 2) + 2 wide, 2 + 2 + 2 high.
    assert_eq!((reference.0, reference.1, reference.2), (17, 6, 3));
    // Image 2's top-left pixel sits at x = 2 + 2 × 5, y = 2.
    let at = |x: usize, y: usize| &reference.3[(y * 17 + x) * 3..][..3];
    assert_eq!(at(12, 2), [2, 3, 4]);
    assert_eq!(at(0, 0), [0, 0, 0], "black padding");
    assert_eq!(decoded_image(find(&logged, "nhwc")), reference);
    assert_eq!(decoded_image(find(&logged, "nchw_f32")), reference);
}

#[test]
fn embeddings_write_the_matrix_and_labels_for_the_projector() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    let points = Tensor::new(&[[1i64, -2], [3, 40], [0, 5]], &CPU).unwrap();
    writer
        .add_embedding_tensor("points", &points, &["a", "b", "c"], 7)
        .unwrap();
    let features = Tensor::new(&[[0.5f64, 0.25, -1.0]], &CPU).unwrap();
    writer
        .add_embedding_tensor("features", &features, &[] as &[&str], 8)
        .unwrap();
    assert_invalid(
        writer.add_embedding_tensor("labels", &points, &["a"], 9),
        "labels",
        "1 labels for 3 points, expected one per point or none",
    );
    let cube = Tensor::zeros((2, 2, 2), DType::F32, &CPU).unwrap();
    assert_invalid(
        writer.add_embedding_tensor("cube", &cube, &[] as &[&str], 9),
        "cube",
        "shape [2, 2, 2], expected [N, D]",
    );
    writer.close().unwrap();

    let read = |rel: &str| std::fs::read_to_string(dir.path().join(rel)).unwrap();
    let matrix = |rel: &str| -> Vec<Vec<f32>> {
        read(rel)
            .lines()
            .map(|line| line.split('\t').map(|v| v.parse().unwrap()).collect())
            .collect()
    };
    assert_eq!(
        matrix("00007/points/tensors.tsv"),
        [[1.0, -2.0], [3.0, 40.0], [0.0, 5.0]]
    );
    assert_eq!(read("00007/points/metadata.tsv"), "a\nb\nc\n");
    assert_eq!(matrix("00008/features/tensors.tsv"), [[0.5, 0.25, -1.0]]);
    assert!(!dir.path().join("00008/features/metadata.tsv").exists());
    assert!(
        !dir.path().join("00009").exists(),
        "rejected embeddings wrote nothing"
    );
    let config = read("projector_config.pbtxt");
    assert!(
        config.contains("points:00007") && config.contains("features:00008"),
        "{config}"
    );
}

#[test]
fn var_map_weights_and_gradients_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    let vars = VarMap::new();
    let vb = VarBuilder::from_varmap(&vars, DType::F32, &CPU);
    let second = linear(3, 1, vb.pp("second")).unwrap();
    let first = linear(4, 3, vb.pp("first")).unwrap();
    // In the map but not in the loss: it gets no gradient.
    let unused = vb.get(5, "unused").unwrap();

    let x = Tensor::randn(0f32, 1.0, (6, 4), &CPU).unwrap();
    let loss = second
        .forward(&first.forward(&x).unwrap())
        .unwrap()
        .sqr()
        .unwrap()
        .mean_all()
        .unwrap();
    let grads = loss.backward().unwrap();
    writer.add_var_map(&vars, 3).unwrap();
    writer.add_gradients(&vars, &grads, 3).unwrap();
    writer.close().unwrap();

    let logged = logged(dir.path());
    let tags: Vec<(i64, &str)> = logged.iter().map(|(s, v)| (*s, v.tag.as_str())).collect();
    assert_eq!(
        tags,
        [
            (3, "weights/first.bias"),
            (3, "weights/first.weight"),
            (3, "weights/second.bias"),
            (3, "weights/second.weight"),
            (3, "weights/unused"),
            (3, "grads/first.bias"),
            (3, "grads/first.weight"),
            (3, "grads/second.bias"),
            (3, "grads/second.weight"),
        ]
    );
    let check = |tag: &str, tensor: &Tensor| {
        let values = tensor.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let rows = histogram_rows(find(&logged, tag));
        assert_eq!(
            rows.iter().map(|r| r[2]).sum::<f64>(),
            values.len() as f64,
            "{tag}"
        );
        let min = values.iter().copied().fold(f32::INFINITY, f32::min);
        let max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        assert_eq!(
            (rows[0][0], rows.last().unwrap()[1]),
            (f64::from(min), f64::from(max)),
            "{tag}"
        );
    };
    check("weights/first.weight", first.weight());
    check("weights/unused", &unused);
    check("grads/first.weight", grads.get(first.weight()).unwrap());
    check(
        "grads/second.bias",
        grads.get(second.bias().unwrap()).unwrap(),
    );
}

#[test]
fn a_tracked_tensor_is_logged_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    let var = Var::new(&[[0.5f32, 1.0], [0.0, 0.25]], &CPU).unwrap();
    let doubled = (var.as_tensor() * 2.0).unwrap();
    writer
        .add_image_tensor("doubled", &doubled, ChannelOrder::Hwc, 0)
        .unwrap();
    writer
        .add_histogram_tensor("doubled_values", &doubled, 0)
        .unwrap();
    // The logging calls did not cut the graph: the gradient still flows.
    let grads = doubled.sum_all().unwrap().backward().unwrap();
    let grad = grads.get(&var).unwrap().to_vec2::<f32>().unwrap();
    assert_eq!(grad, [[2.0, 2.0], [2.0, 2.0]]);
    writer.close().unwrap();
    let logged = logged(dir.path());
    assert_eq!(
        decoded_image(find(&logged, "doubled")),
        (2, 2, 1, vec![255, 255, 0, 128])
    );
}
