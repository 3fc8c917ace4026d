//! Reads checkpoints written by TensorFlow 2.21 itself
//! (`scripts/golden/make_tf_checkpoint.py`, fixtures in
//! `tests/data/tf_checkpoint/`).

mod common;

use std::path::PathBuf;

use tbseg::checkpoint::{
    latest_checkpoint, read_global_step, BundleReader, CheckpointError, DType,
};

fn fixture(path: &str) -> PathBuf {
    common::test_data("tf_checkpoint").join(path)
}

/// `k * scale + offset` for `k` in `0..n`, computed in f64 as NumPy does.
fn seq(n: usize, scale: f64, offset: f64) -> Vec<f64> {
    (0..n).map(|k| k as f64 * scale + offset).collect()
}

#[test]
fn object_based_checkpoint_values() {
    let reader = BundleReader::open(fixture("object/ckpt")).unwrap();
    let key = |name: &str| format!("{name}/.ATTRIBUTES/VARIABLE_VALUE");

    let f32s = reader.get(&key("f32")).unwrap();
    assert_eq!(f32s.shape(), [2, 3]);
    let expected: Vec<f32> = seq(6, 0.5, -1.0).into_iter().map(|v| v as f32).collect();
    assert_eq!(f32s.to_f32().unwrap(), expected);

    assert_eq!(
        reader.get(&key("f64")).unwrap().to_f64().unwrap(),
        seq(4, 0.1, 0.0)
    );
    assert_eq!(
        reader.get(&key("i32")).unwrap().to_i32().unwrap(),
        [3, -4, -11]
    );
    assert_eq!(
        reader.get(&key("i64")).unwrap().to_scalar_i64().unwrap(),
        1 << 40
    );
    let bytes = reader.get(&key("u8")).unwrap();
    assert_eq!(
        (bytes.shape(), bytes.to_u8().unwrap()),
        (&[2u64, 2][..], vec![10, 70, 130, 190])
    );
    assert_eq!(
        reader.get(&key("flag")).unwrap().to_bool().unwrap(),
        [true, false, true]
    );
}

#[test]
fn object_graph_string_tensor_is_decoded() {
    let reader = BundleReader::open(fixture("object/ckpt")).unwrap();
    let names: Vec<_> = reader.names().collect();
    assert_eq!(names[0], "_CHECKPOINTABLE_OBJECT_GRAPH");
    assert_eq!(names.len(), 7);
    let graph = reader.info("_CHECKPOINTABLE_OBJECT_GRAPH").unwrap();
    assert_eq!(graph.dtype_name(), "DT_STRING");
    assert!(graph.shape.is_empty());
    let unsupported: Vec<_> = reader
        .unsupported()
        .map(|info| info.name.as_str())
        .collect();
    assert_eq!(unsupported, ["_CHECKPOINTABLE_OBJECT_GRAPH"]);

    // `get` is for numbers and says where to go instead.
    let err = reader.get("_CHECKPOINTABLE_OBJECT_GRAPH").unwrap_err();
    assert!(matches!(err, CheckpointError::UnsupportedTensor { .. }));
    let message = err.to_string();
    assert!(
        message.contains("ckpt.index") && message.contains("get_strings"),
        "{message}"
    );

    // A scalar string: one serialized TrackableObjectGraph, whose nodes
    // name every variable's checkpoint key. Both of TensorFlow's checksums
    // (lengths, whole entry) must match for this to decode.
    let strings = reader.get_strings("_CHECKPOINTABLE_OBJECT_GRAPH").unwrap();
    assert_eq!(strings.len(), 1);
    let graph = &strings[0];
    for key in &names[1..] {
        assert!(
            graph.windows(key.len()).any(|w| w == key.as_bytes()),
            "the object graph does not name {key}"
        );
    }
    let err = reader
        .get_strings("f32/.ATTRIBUTES/VARIABLE_VALUE")
        .unwrap_err();
    assert!(
        err.to_string().contains("read it with BundleReader::get"),
        "{err}"
    );
}

#[test]
fn saver_checkpoint_with_the_lab_names() {
    let dir = fixture("saver");
    let prefix = latest_checkpoint(&dir)
        .unwrap()
        .expect("state file names model.ckpt-7");
    assert_eq!(prefix, dir.join("model.ckpt-7"));
    let reader = BundleReader::open(&prefix).unwrap();
    let names: Vec<_> = reader.names().collect();
    assert_eq!(
        names,
        [
            "Conv1/kernel",
            "Conv2/kernel",
            "Hidden1/W_fc",
            "conv4/kernel",
            "global_step",
            "upscore/kernel"
        ]
    );
    assert_eq!(read_global_step(&reader).unwrap(), 7);
    // Variables were created in this order with offsets 0, 1, 2, 3, 4.
    let shapes: [(&str, &[u64]); 5] = [
        ("Conv1/kernel", &[2, 2, 1, 3]),
        ("Conv2/kernel", &[2, 2, 3, 2]),
        ("conv4/kernel", &[1, 1, 2, 2]),
        ("upscore/kernel", &[3, 3, 2, 2]),
        ("Hidden1/W_fc", &[4, 3]),
    ];
    for (i, (name, shape)) in shapes.into_iter().enumerate() {
        let tensor = reader.get(name).unwrap();
        assert_eq!(tensor.dtype(), DType::F32, "{name}");
        assert_eq!(tensor.shape(), shape, "{name}");
        let n = shape.iter().product::<u64>() as usize;
        let expected: Vec<f32> = seq(n, 0.25, i as f64)
            .into_iter()
            .map(|v| v as f32)
            .collect();
        assert_eq!(tensor.to_f32().unwrap(), expected, "{name}");
    }
}
