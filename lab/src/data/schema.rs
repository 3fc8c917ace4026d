//! The lab's `tf.train.Example` schema and its TFRecord files.
//!
//! One record per slice with `height`, `width`, `depth` (one int64 each),
//! `img_raw` (256·256 little-endian int64, row-major) and `label_raw`
//! (256·256 bytes, 0 or 1). The later TF2 version of the lab calls the
//! image `image_raw`; the reader takes either.

use std::borrow::Borrow;
use std::path::Path;

use super::{DataError, INTENSITY_SCALE, PIXELS, SIZE};
use tbseg::example::{Example, ExampleBuilder, ExampleWriter, FeatureError};
use tbseg::record::{ReadRecordError, RecordReader};

const IMAGE_KEY: &str = "img_raw";
const IMAGE_KEY_V2: &str = "image_raw";
const LABEL_KEY: &str = "label_raw";

/// One slice as the lab stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabSlice {
    /// Raw intensities, `SIZE * SIZE` values, row-major.
    pub image: Vec<i64>,
    /// The LV mask, `SIZE * SIZE` values in {0, 1}, row-major.
    pub label: Vec<u8>,
}

/// One slice as the network reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct LabImage {
    /// Raw intensity / 1024, `SIZE * SIZE` values, row-major.
    pub image: Vec<f32>,
    /// The LV mask, `SIZE * SIZE` values in {0, 1}, row-major.
    pub label: Vec<u8>,
}

impl LabSlice {
    /// The network's view of the slice: intensities divided by 1024.
    pub fn to_image(&self) -> LabImage {
        LabImage {
            image: self
                .image
                .iter()
                .map(|&raw| raw as f32 / INTENSITY_SCALE)
                .collect(),
            label: self.label.clone(),
        }
    }

    /// Fraction of pixels labelled LV.
    pub fn label_fraction(&self) -> f64 {
        self.label.iter().filter(|&&v| v != 0).count() as f64 / self.label.len().max(1) as f64
    }

    /// Checks sizes and label values; `index` only goes into the error.
    fn validate(&self, index: usize) -> Result<(), DataError> {
        let problem = if self.image.len() != PIXELS {
            format!("image has {} pixels, expected {PIXELS}", self.image.len())
        } else if self.label.len() != PIXELS {
            format!("label has {} pixels, expected {PIXELS}", self.label.len())
        } else if let Some((pixel, value)) = self.label.iter().enumerate().find(|(_, &v)| v > 1) {
            format!("label pixel {pixel} is {value}, expected 0 or 1")
        } else {
            return Ok(());
        };
        Err(DataError::InvalidSlice { index, problem })
    }
}

/// The lab's `tf.train.Example` for `slice`.
fn lab_example(slice: &LabSlice) -> Example {
    let image: Vec<u8> = slice.image.iter().flat_map(|v| v.to_le_bytes()).collect();
    ExampleBuilder::new()
        .int64("height", &[SIZE as i64])
        .int64("width", &[SIZE as i64])
        .int64("depth", &[1])
        .bytes(IMAGE_KEY, image)
        .bytes(LABEL_KEY, slice.label.as_slice())
        .build()
}

/// Serialises `slice` as the lab's `tf.train.Example`.
///
/// The bytes are deterministic: the feature map is ordered, so the
/// features are always written in key order (`depth`, `height`, `img_raw`,
/// `label_raw`, `width`).
/// The slice is not validated here; [`write_lab_file`] does that.
pub fn encode_example(slice: &LabSlice) -> Vec<u8> {
    lab_example(slice).encode_to_vec()
}

/// Decodes one record of a lab file; `path` and `index` only go into the
/// errors.
pub fn decode_example(bytes: &[u8], path: &Path, index: usize) -> Result<LabSlice, DataError> {
    let feature_error = |source| DataError::Feature {
        path: path.to_owned(),
        index,
        source,
    };
    let example = Example::decode(bytes).map_err(feature_error)?;
    let dimension = |key: &'static str, expected: i64, got: i64| {
        if got == expected {
            Ok(())
        } else {
            Err(DataError::Dimension {
                path: path.to_owned(),
                index,
                key,
                expected,
                got,
            })
        }
    };
    for key in ["height", "width"] {
        let got = example.single_int64(key).map_err(feature_error)?;
        dimension(key, SIZE as i64, got)?;
    }
    // The lab's own files always have `depth`; files written by other
    // tools may leave it out, and it can only ever be 1.
    match example.single_int64("depth") {
        Err(FeatureError::Missing { .. }) => {}
        got => dimension("depth", 1, got.map_err(feature_error)?)?,
    }

    // `kind` fails only for a missing feature. With neither key present the
    // error names the original lab's key.
    let image_key = if example.kind(IMAGE_KEY).is_err() && example.kind(IMAGE_KEY_V2).is_ok() {
        IMAGE_KEY_V2
    } else {
        IMAGE_KEY
    };
    let sized_bytes = |key: &'static str, expected: usize| {
        let bytes = example.single_bytes(key).map_err(feature_error)?;
        if bytes.len() == expected {
            Ok(bytes)
        } else {
            Err(DataError::ByteLength {
                path: path.to_owned(),
                index,
                key: key.to_owned(),
                expected,
                got: bytes.len(),
            })
        }
    };
    let image_bytes = sized_bytes(image_key, PIXELS * 8)?;
    let label = sized_bytes(LABEL_KEY, PIXELS)?;
    if let Some((pixel, &value)) = label.iter().enumerate().find(|(_, &v)| v > 1) {
        return Err(DataError::LabelValue {
            path: path.to_owned(),
            index,
            pixel,
            value,
        });
    }
    let image = image_bytes
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().expect("chunks of 8")))
        .collect();
    Ok(LabSlice {
        image,
        label: label.to_vec(),
    })
}

/// Writes `slices` to `path` as a lab TFRecord file.
///
/// The records go to a temporary file next to `path`, which is renamed over
/// `path` once everything is written and synced. So a killed run never
/// leaves a half-written file under the final name, and an existing `path`
/// is **replaced** (atomically): callers that must not overwrite check
/// first (the `tbseg data` commands refuse without `--force`).
/// Every slice is validated (sizes, 0/1 label) before it is written.
/// Returns the number of slices written.
pub fn write_lab_file<I>(path: impl AsRef<Path>, slices: I) -> Result<usize, DataError>
where
    I: IntoIterator,
    I::Item: Borrow<LabSlice>,
{
    let path = path.as_ref();
    let io_err = |e| DataError::io(path, e);
    // tbseg's atomic writer: a unique temporary name beside `path`, fsync,
    // rename, directory fsync; dropped on error, it removes the temporary.
    let file = tbseg::atomic::AtomicFile::create(path).map_err(io_err)?;
    let mut writer = ExampleWriter::new(file);
    let mut count = 0;
    for (index, slice) in slices.into_iter().enumerate() {
        let slice = slice.borrow();
        slice.validate(index)?;
        writer.write(&lab_example(slice)).map_err(io_err)?;
        count += 1;
    }
    writer.into_inner().commit().map_err(io_err)?;
    Ok(count)
}

/// Reads every slice of a lab file with raw intensities, checking framing,
/// checksums and the schema of every record.
///
/// Unlike a TensorBoard-style reader this one is strict: a record with a
/// bad checksum or a torn final record is an error, not something to skip
/// or wait for, since a training set must be read whole.
///
/// `path` may be an object-store URL (see [`tbseg::storage`]); a caller
/// that has already told local from remote calls [`read_local_lab_slices`]
/// or [`lab_slices_from_bytes`] directly.
pub fn read_lab_slices(path: impl AsRef<Path>) -> Result<Vec<LabSlice>, DataError> {
    let path = path.as_ref();
    if tbseg::storage::is_remote(path) {
        // An object: downloaded whole (the lab's files are tens of MB).
        let bytes = tbseg::storage::read(path).map_err(|e| DataError::io(path, e))?;
        return lab_slices_from_bytes(bytes, path);
    }
    read_local_lab_slices(path)
}

/// Reads every slice of a lab file on the local file system, as
/// [`read_lab_slices`] does.
pub fn read_local_lab_slices(path: &Path) -> Result<Vec<LabSlice>, DataError> {
    let records = RecordReader::open(path).map_err(|e| DataError::io(path, e.source))?;
    read_slices(records, path)
}

/// Reads every slice of a lab file held in memory (an object downloaded
/// whole), as [`read_lab_slices`] does; `path` names it in errors.
pub fn lab_slices_from_bytes(bytes: Vec<u8>, path: &Path) -> Result<Vec<LabSlice>, DataError> {
    read_slices(RecordReader::new(std::io::Cursor::new(bytes)), path)
}

/// Every slice of a lab file read through `records`.
fn read_slices<R: std::io::Read>(
    mut records: RecordReader<R>,
    path: &Path,
) -> Result<Vec<LabSlice>, DataError> {
    let mut out = Vec::new();
    loop {
        let index = out.len();
        match records.read_record() {
            Ok(Some(data)) => out.push(decode_example(data, path, index)?),
            Ok(None) => return Ok(out),
            Err(e) => return Err(framing_error(path, index, records.position(), e)),
        }
    }
}

/// Puts the file and record index on a framing error. `position` is how far
/// the reader got, which for a torn record is the end of the file.
fn framing_error(path: &Path, index: usize, position: u64, error: ReadRecordError) -> DataError {
    let path = path.to_owned();
    match error {
        ReadRecordError::Io(source) => DataError::Io { path, source },
        ReadRecordError::Truncated { offset } => DataError::Truncated {
            path,
            index,
            offset,
            present: position - offset,
        },
        ReadRecordError::BadLengthCrc { offset, .. }
        | ReadRecordError::BadDataCrc { offset, .. }
        | ReadRecordError::TooLarge { offset, .. } => DataError::Framing {
            path,
            index,
            offset,
            source: error,
        },
    }
}

/// Reads every slice of a lab file the way the lab's reader does: image as
/// raw / 1024 (`f32`), label as 0/1 bytes. Any framing, checksum or schema
/// problem is an error naming the file and record.
pub fn read_lab_file(path: impl AsRef<Path>) -> Result<Vec<LabImage>, DataError> {
    Ok(read_lab_slices(path)?
        .iter()
        .map(LabSlice::to_image)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tbseg::record::MaskedCrc;

    const PINNED_LEN: usize = 589_931;
    const PINNED_CRC: u32 = 0x3318_33fc;

    fn slice(seed: i64) -> LabSlice {
        LabSlice {
            image: (0..PIXELS as i64).map(|i| (i * 7 + seed) % 1500).collect(),
            label: (0..PIXELS).map(|i| u8::from(i % 13 == 0)).collect(),
        }
    }

    #[test]
    fn encode_is_deterministic_and_decodes_back() {
        let s = slice(3);
        let a = encode_example(&s);
        assert_eq!(a, encode_example(&s));
        let ex = Example::decode(&a).unwrap();
        assert_eq!(ex.len(), 5);
        assert_eq!(ex.single_int64("height").unwrap(), 256);
        assert_eq!(ex.single_int64("width").unwrap(), 256);
        assert_eq!(ex.single_int64("depth").unwrap(), 1);
        assert_eq!(ex.single_bytes(LABEL_KEY).unwrap(), s.label);
        assert_eq!(
            decode_example(&a, Path::new("m"), 0).unwrap(),
            s,
            "round trip"
        );
    }

    #[test]
    fn encoded_bytes_are_pinned() {
        // The bytes the lab files have always had (checked against the
        // first encoder, which wrote the features one by one in key order):
        // Example.features, then one map entry per feature, `depth` first.
        let a = encode_example(&slice(3));
        let depth_entry = [
            0x0a, 0x0e, // Features.feature entry, 14 bytes
            0x0a, 0x05, b'd', b'e', b'p', b't', b'h', // key
            0x12, 0x05, 0x1a, 0x03, 0x0a, 0x01, 0x01, // Feature { int64_list [1] }
        ];
        assert_eq!(a[0], 0x0a);
        let (len, rest) = a[1..].split_at(3);
        assert_eq!(
            prost::decode_length_delimiter(len).unwrap(),
            a.len() - 4,
            "one length-delimited Features"
        );
        assert!(rest.starts_with(&depth_entry), "{:02x?}", &rest[..16]);
        assert_eq!(
            (a.len(), MaskedCrc::compute(&a)),
            (PINNED_LEN, MaskedCrc(PINNED_CRC))
        );
    }

    #[test]
    fn to_image_divides_by_1024() {
        let mut s = slice(0);
        s.image[0] = 1024;
        s.image[1] = 1536;
        let img = s.to_image();
        assert_eq!(img.image[0], 1.0);
        assert_eq!(img.image[1], 1.5);
    }
}
