//! The tch integration writes what the tensors hold: every test logs
//! tensors, reads the event file back with `tbseg::reader` and checks the
//! values, bucket counts and pixels. Needs libtorch (`--features tch`).

use std::path::Path;

use tbseg::integrations::tch::{TchSummaries, GRID_PADDING};
use tbseg::proto::tensorflow::event::What;
use tbseg::proto::tensorflow::summary::value::Value as ValueKind;
use tbseg::proto::tensorflow::summary::Value;
use tbseg::reader::{scalar_value, EventFileReader};
use tbseg::summary::{SummaryError, SummaryWriter};
use tch::nn::{Module, OptimizerConfig};
use tch::{nn, Device, Kind, Tensor};

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

fn find<'a>(values: &'a [(i64, Value)], tag: &str) -> &'a (i64, Value) {
    values
        .iter()
        .find(|(_, v)| v.tag == tag)
        .unwrap_or_else(|| panic!("no value tagged {tag}"))
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
    let header = (
        std::str::from_utf8(&t.string_val[0])
            .unwrap()
            .parse::<u32>()
            .unwrap(),
        std::str::from_utf8(&t.string_val[1])
            .unwrap()
            .parse::<u32>()
            .unwrap(),
    );
    assert_eq!(
        header,
        (info.width, info.height),
        "the tensor's size header"
    );
    (info.width, info.height, info.color_type.samples(), buf)
}

#[test]
fn scalars_from_tensors_of_any_kind_and_shape_holding_one_value() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    writer
        .add_scalar_tensor("f32", &Tensor::from(0.25f32), 1)
        .unwrap();
    writer
        .add_scalar_tensor("f64", &Tensor::from(-3.5f64), 2)
        .unwrap();
    writer
        .add_scalar_tensor("i64", &Tensor::from(7i64), 3)
        .unwrap();
    let one = Tensor::from_slice(&[1.5f32]).reshape([1, 1]);
    writer.add_scalar_tensor("1x1", &one, 4).unwrap();
    let half = Tensor::from(0.5f32).to_kind(Kind::Half);
    writer.add_scalar_tensor("half", &half, 5).unwrap();
    let err = writer
        .add_scalar_tensor("many", &Tensor::from_slice(&[1f32, 2.0]), 6)
        .unwrap_err();
    assert!(
        matches!(&err, SummaryError::InvalidArgument { tag, .. } if tag == "many"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("holds 2 values, expected exactly 1"),
        "{err}"
    );
    writer.close().unwrap();

    let values = logged(dir.path());
    let got: Vec<(i64, &str, f32)> = values
        .iter()
        .map(|(s, v)| (*s, v.tag.as_str(), scalar_value(v).unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            (1, "f32", 0.25),
            (2, "f64", -3.5),
            (3, "i64", 7.0),
            (4, "1x1", 1.5),
            (5, "half", 0.5)
        ]
    );
}

#[test]
fn var_store_logs_weights_and_after_backward_gradients() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    tch::manual_seed(3);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = nn::linear(vs.root() / "fc", 5, 2, Default::default());
    let mut opt = nn::Sgd::default().build(&vs, 0.1).unwrap();

    // Before any backward pass there are no gradients to log.
    writer.add_var_store(&vs, 0).unwrap();
    let x = Tensor::randn([4, 5], (Kind::Float, Device::Cpu));
    let loss = net.forward(&x).square().mean(Kind::Float);
    opt.zero_grad();
    loss.backward();
    writer.add_var_store(&vs, 1).unwrap();
    writer.close().unwrap();

    let values = logged(dir.path());
    let tags: Vec<(i64, &str)> = values.iter().map(|(s, v)| (*s, v.tag.as_str())).collect();
    assert_eq!(
        tags,
        [
            (0, "weights/fc.bias"),
            (0, "weights/fc.weight"),
            (1, "weights/fc.bias"),
            (1, "grads/fc.bias"),
            (1, "weights/fc.weight"),
            (1, "grads/fc.weight"),
        ]
    );
    let weight: Vec<f64> = Vec::try_from(&net.ws.to_kind(Kind::Double).flatten(0, -1)).unwrap();
    let rows = histogram_rows(&find(&values, "weights/fc.weight").1);
    assert_eq!(
        rows.iter().map(|r| r[2]).sum::<f64>(),
        10.0,
        "one count per weight"
    );
    let min = weight.iter().copied().fold(f64::INFINITY, f64::min);
    let max = weight.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(rows.first().unwrap()[0], min);
    assert_eq!(rows.last().unwrap()[1], max);
    let grad: Vec<f64> =
        Vec::try_from(&net.ws.grad().to_kind(Kind::Double).flatten(0, -1)).unwrap();
    let rows = histogram_rows(
        &values
            .iter()
            .rev()
            .find(|(_, v)| v.tag == "grads/fc.weight")
            .unwrap()
            .1,
    );
    assert_eq!(rows.iter().map(|r| r[2]).sum::<f64>(), 10.0);
    assert_eq!(
        rows.first().unwrap()[0],
        grad.iter().copied().fold(f64::INFINITY, f64::min)
    );
}

#[test]
fn chw_image_scales_floats_and_keeps_pixel_order() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    // 3 channels, 2 rows, 3 columns; red ramps along x, green along y, blue is
    // out of range and clamps.
    let red = [0.0f32, 0.5, 1.0, 0.0, 0.5, 1.0];
    let green = [0.0f32, 0.0, 0.0, 1.0, 1.0, 1.0];
    let blue = [-1.0f32, 2.0, f32::NAN, 0.2, 0.2, 0.2];
    let chw = Tensor::from_slice(&[red, green, blue].concat()).reshape([3, 2, 3]);
    writer
        .add_image_tensor("rgb", &chw.to_kind(Kind::Double), 7)
        .unwrap();
    let grey = Tensor::from_slice(&[0u8, 100, 200, 255]).reshape([2, 2]);
    writer.add_image_tensor("grey", &grey, 7).unwrap();
    let err = writer.add_image_tensor(
        "two",
        &Tensor::zeros([2, 4, 4], (Kind::Float, Device::Cpu)),
        7,
    );
    assert!(err
        .unwrap_err()
        .to_string()
        .contains("expected 1, 3 or 4 channels"));
    writer.close().unwrap();

    let values = logged(dir.path());
    let (w, h, c, px) = decoded_image(&find(&values, "rgb").1);
    assert_eq!((w, h, c), (3, 2, 3));
    assert_eq!(
        px,
        [0, 0, 0, 128, 0, 255, 255, 0, 0, 0, 255, 51, 128, 255, 51, 255, 255, 51],
        "HWC order, x·255 rounded, clamped, NaN as 0"
    );
    let (w, h, c, px) = decoded_image(&find(&values, "grey").1);
    assert_eq!((w, h, c, px), (2, 2, 1, vec![0, 100, 200, 255]));
}

#[test]
fn nchw_batch_becomes_one_padded_grid() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    // Five 1-channel 2x3 images, image i filled with (i + 1) / 10.
    let batch = Tensor::arange_start(1, 6, (Kind::Float, Device::Cpu))
        .divide_scalar(10.0)
        .reshape([5, 1, 1, 1])
        .expand([5, 1, 2, 3], false);
    writer.add_images_tensor("batch", &batch, 0).unwrap();
    assert!(writer
        .add_images_tensor(
            "flat",
            &Tensor::zeros([2, 2], (Kind::Float, Device::Cpu)),
            0
        )
        .is_err());
    writer.close().unwrap();

    let (w, h, c, px) = decoded_image(&find(&logged(dir.path()), "batch").1);
    // ceil(sqrt(5)) = 3 columns, 2 rows, padding around and between.
    let p = GRID_PADDING as u32;
    assert_eq!((w, h, c), (3 * (3 + p) + p, 2 * (2 + p) + p, 1));
    let at = |x: u32, y: u32| px[(y * w + x) as usize];
    for i in 0..5u32 {
        let (x0, y0) = (p + (i % 3) * (3 + p), p + (i / 3) * (2 + p));
        // f32 arithmetic as libtorch does it; ties round to even (0.3 → 76).
        let want = ((i + 1) as f32 / 10.0 * 255.0).round_ties_even() as u8;
        assert_eq!((at(x0, y0), at(x0 + 2, y0 + 1)), (want, want), "image {i}");
        assert_eq!(at(x0 - 1, y0), 0, "padding left of image {i}");
    }
    assert_eq!(at(w - 2, h - 3), 0, "the sixth cell stays empty");
}

#[test]
fn histogram_of_a_tensor_counts_every_element() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    let t = Tensor::arange_start(0, 100, (Kind::Int64, Device::Cpu)).reshape([10, 10]);
    writer.add_histogram_tensor("ints", &t, 2).unwrap();
    writer.close().unwrap();
    let rows = histogram_rows(&find(&logged(dir.path()), "ints").1);
    assert_eq!(rows.iter().map(|r| r[2]).sum::<f64>(), 100.0);
    assert_eq!((rows[0][0], rows.last().unwrap()[1]), (0.0, 99.0));
}
