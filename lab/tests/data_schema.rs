//! The lab TFRecord schema through the public API: round trips, the
//! generator's determinism, and every way a file is rejected.

use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};

use prost::Message;
use tbseg::example::FeatureError;
use tbseg::proto::tensorflow::{feature::Kind, BytesList, Example, Feature, Features, Int64List};
use tbseg::record::{frame_into, ReadRecordError};
use tbseg_lab::data::{
    encode_example, read_lab_file, read_lab_slices, synth, write_lab_file, DataError, LabSlice,
    PIXELS, SIZE,
};

/// The error and its causes, `: `-separated, as the CLI prints them.
fn chain(err: &dyn Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

fn test_slice(seed: i64) -> LabSlice {
    LabSlice {
        image: (0..PIXELS as i64).map(|i| (i * 31 + seed) % 1400).collect(),
        label: (0..PIXELS)
            .map(|i| u8::from((i / SIZE + i) % 17 == 0))
            .collect(),
    }
}

fn int64(v: i64) -> Feature {
    Feature {
        kind: Some(Kind::Int64List(Int64List { value: vec![v] })),
    }
}

fn bytes(v: Vec<u8>) -> Feature {
    Feature {
        kind: Some(Kind::BytesList(BytesList { value: vec![v] })),
    }
}

/// The lab's features for `slice`, as a map the tests can tamper with.
fn features(slice: &LabSlice) -> BTreeMap<String, Feature> {
    let img: Vec<u8> = slice.image.iter().flat_map(|v| v.to_le_bytes()).collect();
    BTreeMap::from([
        ("height".to_string(), int64(256)),
        ("width".to_string(), int64(256)),
        ("depth".to_string(), int64(1)),
        ("img_raw".to_string(), bytes(img)),
        ("label_raw".to_string(), bytes(slice.label.clone())),
    ])
}

/// Writes a good record followed by one built from `tampered`.
fn file_with_second_record(dir: &Path, tampered: BTreeMap<String, Feature>) -> PathBuf {
    let mut out = Vec::new();
    frame_into(&encode_example(&test_slice(0)), &mut out);
    let ex = Example {
        features: Some(Features { feature: tampered }),
    };
    frame_into(&ex.encode_to_vec(), &mut out);
    let path = dir.join("bad.tfrecords");
    std::fs::write(&path, out).unwrap();
    path
}

/// Reads a file whose second record is tampered with; the error and its
/// whole message.
fn rejection(tamper: impl FnOnce(&mut BTreeMap<String, Feature>)) -> (DataError, String, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let mut f = features(&test_slice(1));
    tamper(&mut f);
    let path = file_with_second_record(dir.path(), f);
    let err = read_lab_file(&path).unwrap_err();
    let msg = chain(&err);
    (err, msg, path)
}

/// The feature error inside a `DataError::Feature` for record 1.
fn feature_error(err: &DataError) -> &FeatureError {
    match err {
        DataError::Feature {
            index: 1, source, ..
        } => source,
        other => panic!("not a feature error of record 1: {other:?}"),
    }
}

#[test]
fn round_trip_through_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.tfrecords");
    let slices = vec![test_slice(1), test_slice(2)];
    assert_eq!(write_lab_file(&path, &slices).unwrap(), 2);
    assert_eq!(read_lab_slices(&path).unwrap(), slices);
    let images = read_lab_file(&path).unwrap();
    assert_eq!(images.len(), 2);
    assert_eq!(images[1].label, slices[1].label);
    assert_eq!(images[1].image[5], slices[1].image[5] as f32 / 1024.0);
    // Only the final file is left: no temporary next to it.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["t.tfrecords"]);
}

#[test]
fn image_raw_key_of_the_tf2_lab_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let s = test_slice(3);
    let mut f = features(&s);
    let img = f.remove("img_raw").unwrap();
    f.insert("image_raw".to_string(), img);
    f.insert("name".to_string(), bytes(b"case".to_vec()));
    let path = file_with_second_record(dir.path(), f);
    let got = read_lab_slices(&path).unwrap();
    assert_eq!(got[1], s);
}

#[test]
fn rejects_missing_label() {
    let (err, msg, path) = rejection(|f| {
        f.remove("label_raw");
    });
    assert!(matches!(feature_error(&err), FeatureError::Missing { key } if key == "label_raw"));
    assert_eq!(
        msg,
        format!(
            "{}: record 1: feature \"label_raw\" is missing",
            path.display()
        )
    );
}

#[test]
fn rejects_missing_image_naming_the_lab_key() {
    let (err, msg, path) = rejection(|f| {
        f.remove("img_raw");
    });
    assert!(matches!(feature_error(&err), FeatureError::Missing { key } if key == "img_raw"));
    assert_eq!(
        msg,
        format!(
            "{}: record 1: feature \"img_raw\" is missing",
            path.display()
        )
    );
}

#[test]
fn rejects_missing_height_but_not_missing_depth() {
    let (_, msg, path) = rejection(|f| {
        f.remove("height");
    });
    assert_eq!(
        msg,
        format!(
            "{}: record 1: feature \"height\" is missing",
            path.display()
        )
    );
    let dir = tempfile::tempdir().unwrap();
    let mut f = features(&test_slice(4));
    f.remove("depth");
    let path = file_with_second_record(dir.path(), f);
    assert_eq!(read_lab_slices(&path).unwrap()[1], test_slice(4));
}

#[test]
fn rejects_wrong_image_length() {
    let (err, msg, path) = rejection(|f| {
        f.insert("img_raw".to_string(), bytes(vec![0; 100]));
    });
    assert!(matches!(
        err,
        DataError::ByteLength {
            index: 1,
            expected: 524_288,
            got: 100,
            ..
        }
    ));
    assert_eq!(
        msg,
        format!(
            "{}: record 1: feature `img_raw` has 100 bytes, expected 524288",
            path.display()
        )
    );
}

#[test]
fn rejects_wrong_label_length() {
    let (_, msg, path) = rejection(|f| {
        f.insert("label_raw".to_string(), bytes(vec![0; PIXELS * 8]));
    });
    assert_eq!(
        msg,
        format!(
            "{}: record 1: feature `label_raw` has 524288 bytes, expected 65536",
            path.display()
        )
    );
}

#[test]
fn rejects_other_sizes() {
    let (_, msg, path) = rejection(|f| {
        f.insert("width".to_string(), int64(128));
    });
    assert_eq!(
        msg,
        format!("{}: record 1: `width` is 128, expected 256", path.display())
    );
    let (_, msg, path) = rejection(|f| {
        f.insert("depth".to_string(), int64(3));
    });
    assert_eq!(
        msg,
        format!("{}: record 1: `depth` is 3, expected 1", path.display())
    );
}

#[test]
fn rejects_wrong_feature_kinds_and_counts() {
    let (err, msg, path) = rejection(|f| {
        f.insert("height".to_string(), bytes(b"256".to_vec()));
    });
    assert!(matches!(
        feature_error(&err),
        FeatureError::WrongKind { key, .. } if key == "height"
    ));
    assert_eq!(
        msg,
        format!(
            "{}: record 1: feature \"height\" is a bytes_list, not a int64_list",
            path.display()
        )
    );
    let (_, msg, path) = rejection(|f| {
        f.insert("label_raw".to_string(), int64(0));
    });
    assert_eq!(
        msg,
        format!(
            "{}: record 1: feature \"label_raw\" is a int64_list, not a bytes_list",
            path.display()
        )
    );
    let (err, msg, path) = rejection(|f| {
        f.insert(
            "depth".to_string(),
            Feature {
                kind: Some(Kind::Int64List(Int64List { value: vec![1, 1] })),
            },
        );
    });
    assert!(matches!(
        feature_error(&err),
        FeatureError::NotSingle { len: 2, .. }
    ));
    assert_eq!(
        msg,
        format!(
            "{}: record 1: feature \"depth\" holds 2 values, not exactly one",
            path.display()
        )
    );
}

#[test]
fn rejects_label_values_other_than_0_and_1() {
    let (_, msg, path) = rejection(|f| {
        let mut label = vec![0u8; PIXELS];
        label[3 * SIZE + 4] = 255;
        f.insert("label_raw".to_string(), bytes(label));
    });
    assert_eq!(
        msg,
        format!(
            "{}: record 1: label pixel 772 (row 3, column 4) is 255, expected 0 or 1",
            path.display()
        )
    );
}

#[test]
fn rejects_a_record_that_is_not_an_example() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.tfrecords");
    let mut out = Vec::new();
    frame_into(&[0xff, 0xff, 0xff], &mut out);
    std::fs::write(&path, out).unwrap();
    let err = read_lab_file(&path).unwrap_err();
    assert!(matches!(
        err,
        DataError::Feature {
            index: 0,
            source: FeatureError::Decode(_),
            ..
        }
    ));
    let msg = chain(&err);
    let prefix = format!(
        "{}: record 0: not a tf.train.Example: failed to decode Protobuf message",
        path.display()
    );
    assert!(msg.starts_with(&prefix), "{msg}");
}

#[test]
fn missing_file_is_an_io_error_naming_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.tfrecords");
    let err = read_lab_file(&path).unwrap_err();
    assert!(
        matches!(&err, DataError::Io { path: p, source } if *p == path && source.kind() == std::io::ErrorKind::NotFound)
    );
    let msg = chain(&err);
    assert!(msg.starts_with(&format!("{}: ", path.display())), "{msg}");
    assert_eq!(msg.matches("os error").count(), 1, "{msg}");
}

#[test]
fn rejects_corrupt_and_truncated_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.tfrecords");
    write_lab_file(&path, [test_slice(0), test_slice(1)]).unwrap();
    let good = std::fs::read(&path).unwrap();
    let record_len = good.len() / 2;

    // A flipped bit in the second record's image data: the reader is
    // strict, so the whole file is refused rather than the record skipped.
    let mut bytes = good.clone();
    bytes[record_len + 12 + 100] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();
    let err = read_lab_file(&path).unwrap_err();
    assert!(matches!(
        err,
        DataError::Framing {
            index: 1,
            offset,
            source: ReadRecordError::BadDataCrc { got, want, .. },
            ..
        } if offset == record_len as u64 && got != want
    ));
    let msg = chain(&err);
    let prefix = format!(
        "{}: record 1: bad data checksum in the record at byte {record_len}: got 0x",
        path.display()
    );
    assert!(msg.starts_with(&prefix), "{msg}");

    // A corrupted length.
    let mut bytes = good.clone();
    bytes[0] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let err = read_lab_file(&path).unwrap_err();
    assert!(matches!(
        err,
        DataError::Framing {
            index: 0,
            offset: 0,
            source: ReadRecordError::BadLengthCrc { .. },
            ..
        }
    ));
    let msg = chain(&err);
    let prefix = format!(
        "{}: record 0: bad length checksum in the record at byte 0: got 0x",
        path.display()
    );
    assert!(msg.starts_with(&prefix), "{msg}");

    // Cut inside the second record's data, then inside its header.
    std::fs::write(&path, &good[..record_len + 1000]).unwrap();
    let err = read_lab_file(&path).unwrap_err();
    assert!(matches!(
        err,
        DataError::Truncated {
            index: 1,
            present: 1000,
            ..
        }
    ));
    assert_eq!(
        chain(&err),
        format!(
            "{}: record 1 at byte {record_len} is torn: the file ends 1000 bytes into it",
            path.display()
        )
    );
    std::fs::write(&path, &good[..record_len + 5]).unwrap();
    assert_eq!(
        chain(&read_lab_file(&path).unwrap_err()),
        format!(
            "{}: record 1 at byte {record_len} is torn: the file ends 5 bytes into it",
            path.display()
        )
    );
    // Cut exactly between records: a shorter file, not an error.
    std::fs::write(&path, &good[..record_len]).unwrap();
    assert_eq!(read_lab_slices(&path).unwrap(), [test_slice(0)]);
}

#[test]
fn writer_validates_and_leaves_nothing_behind_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.tfrecords");
    let mut bad = test_slice(0);
    bad.label[10] = 2;
    let err = write_lab_file(&path, [test_slice(1), bad]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "slice 1: label pixel 10 is 2, expected 0 or 1"
    );
    let short = LabSlice {
        image: vec![0; 10],
        label: vec![0; PIXELS],
    };
    let err = write_lab_file(&path, [short]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "slice 0: image has 10 pixels, expected 65536"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn writer_replaces_an_existing_file_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.tfrecords");
    write_lab_file(&path, [test_slice(0), test_slice(1)]).unwrap();
    write_lab_file(&path, [test_slice(2)]).unwrap();
    assert_eq!(read_lab_slices(&path).unwrap(), [test_slice(2)]);
}

#[test]
fn same_seed_same_bytes_different_seed_differs() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, seed| {
        let path = dir.path().join(name);
        write_lab_file(&path, synth::iter(seed, 3, 0)).unwrap();
        std::fs::read(path).unwrap()
    };
    let a = write("a", 42);
    assert_eq!(a, write("b", 42));
    assert_ne!(a, write("c", 43));
    // Slices are independent of where a run starts.
    assert_eq!(synth::generate(42, 3, 0)[2], synth::generate(42, 1, 2)[0]);
}

#[test]
fn synthetic_slices_pass_the_strict_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.tfrecords");
    write_lab_file(&path, synth::iter(9, 2, synth::VAL_FIRST_INDEX)).unwrap();
    let images = read_lab_file(&path).unwrap();
    assert_eq!(images.len(), 2);
    let max = images[0].image.iter().cloned().fold(0.0f32, f32::max);
    assert!(max > 0.7 && max < 4.0, "max intensity {max}");
}

#[test]
fn lv_covers_one_to_three_percent_on_average() {
    let slices = synth::generate(1234, 20, 0);
    let fractions: Vec<f64> = slices.iter().map(LabSlice::label_fraction).collect();
    let mean = fractions.iter().sum::<f64>() / fractions.len() as f64;
    assert!((0.01..=0.03).contains(&mean), "mean LV fraction {mean}");
    assert!(
        fractions.iter().all(|&f| f > 0.003 && f < 0.06),
        "{fractions:?}"
    );
}
