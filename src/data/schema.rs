//! The lab's `tf.train.Example` schema and its TFRecord files.
//!
//! One record per slice with `height`, `width`, `depth` (one int64 each),
//! `img_raw` (256·256 little-endian int64, row-major) and `label_raw`
//! (256·256 bytes, 0 or 1). The later TF2 version of the lab calls the
//! image `image_raw`; the reader takes either.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use prost::Message;

use super::{DataError, FramingError, INTENSITY_SCALE, PIXELS, SIZE};
use crate::proto::tensorflow::{feature::Kind, BytesList, Example, Feature, Features, Int64List};
use crate::record::{encode_header, MaskedCrc, RecordWriter};

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

fn int64_feature(value: i64) -> Feature {
    Feature {
        kind: Some(Kind::Int64List(Int64List { value: vec![value] })),
    }
}

fn bytes_feature(value: Vec<u8>) -> Feature {
    Feature {
        kind: Some(Kind::BytesList(BytesList { value: vec![value] })),
    }
}

/// Serialises `slice` as the lab's `tf.train.Example`.
///
/// The bytes are deterministic: features are written in sorted key order.
/// (prost keeps the map in a `HashMap`, whose order changes from run to
/// run, so each entry is encoded on its own and the entries are
/// concatenated, which protobuf defines as merging them.)
/// The slice is not validated here; [`write_lab_file`] does that.
pub fn encode_example(slice: &LabSlice) -> Vec<u8> {
    let image: Vec<u8> = slice.image.iter().flat_map(|v| v.to_le_bytes()).collect();
    let entries = [
        ("depth", int64_feature(1)),
        ("height", int64_feature(SIZE as i64)),
        (IMAGE_KEY, bytes_feature(image)),
        (LABEL_KEY, bytes_feature(slice.label.clone())),
        ("width", int64_feature(SIZE as i64)),
    ];
    let mut features = Vec::with_capacity(PIXELS * 9 + 128);
    for (key, feature) in entries {
        let one = Features {
            feature: HashMap::from([(key.to_string(), feature)]),
        };
        one.encode(&mut features)
            .expect("a Vec grows as needed, so encoding cannot run out of room");
    }
    // Example { features = 1 (length-delimited) }.
    let mut out = Vec::with_capacity(features.len() + 8);
    out.push(0x0a);
    prost::encode_length_delimiter(features.len(), &mut out)
        .expect("a Vec grows as needed, so encoding cannot run out of room");
    out.extend_from_slice(&features);
    out
}

/// Decodes one record of a lab file; `path` and `index` only go into the
/// errors.
pub fn decode_example(bytes: &[u8], path: &Path, index: usize) -> Result<LabSlice, DataError> {
    let example = Example::decode(bytes).map_err(|source| DataError::Protobuf {
        path: path.to_owned(),
        index,
        source,
    })?;
    let features = example.features.map(|f| f.feature).unwrap_or_default();
    let ctx = RecordCtx { path, index };

    for (key, expected) in [("height", SIZE as i64), ("width", SIZE as i64)] {
        let got = ctx.int64(&features, key)?;
        if got != expected {
            return Err(ctx.dimension(key, expected, got));
        }
    }
    if features.contains_key("depth") {
        let got = ctx.int64(&features, "depth")?;
        if got != 1 {
            return Err(ctx.dimension("depth", 1, got));
        }
    }

    let image_key = if features.contains_key(IMAGE_KEY) {
        IMAGE_KEY
    } else if features.contains_key(IMAGE_KEY_V2) {
        IMAGE_KEY_V2
    } else {
        return Err(DataError::MissingKey {
            path: path.to_owned(),
            index,
            key: IMAGE_KEY,
        });
    };
    let image_bytes = ctx.bytes(&features, image_key, PIXELS * 8)?;
    let label = ctx.bytes(&features, LABEL_KEY, PIXELS)?;
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

/// The file and record an error refers to.
struct RecordCtx<'a> {
    path: &'a Path,
    index: usize,
}

impl RecordCtx<'_> {
    fn feature<'f>(
        &self,
        features: &'f HashMap<String, Feature>,
        key: &'static str,
    ) -> Result<&'f Feature, DataError> {
        features.get(key).ok_or_else(|| DataError::MissingKey {
            path: self.path.to_owned(),
            index: self.index,
            key,
        })
    }

    fn wrong(&self, key: &str, expected: &'static str, got: String) -> DataError {
        DataError::WrongFeature {
            path: self.path.to_owned(),
            index: self.index,
            key: key.to_owned(),
            expected,
            got,
        }
    }

    fn dimension(&self, key: &'static str, expected: i64, got: i64) -> DataError {
        DataError::Dimension {
            path: self.path.to_owned(),
            index: self.index,
            key,
            expected,
            got,
        }
    }

    fn int64(
        &self,
        features: &HashMap<String, Feature>,
        key: &'static str,
    ) -> Result<i64, DataError> {
        match &self.feature(features, key)?.kind {
            Some(Kind::Int64List(list)) if list.value.len() == 1 => Ok(list.value[0]),
            other => Err(self.wrong(key, "one int64", describe(other))),
        }
    }

    fn bytes<'f>(
        &self,
        features: &'f HashMap<String, Feature>,
        key: &'static str,
        expected: usize,
    ) -> Result<&'f [u8], DataError> {
        match &self.feature(features, key)?.kind {
            Some(Kind::BytesList(list)) if list.value.len() == 1 => {
                let bytes = &list.value[0];
                if bytes.len() != expected {
                    return Err(DataError::ByteLength {
                        path: self.path.to_owned(),
                        index: self.index,
                        key: key.to_owned(),
                        expected,
                        got: bytes.len(),
                    });
                }
                Ok(bytes)
            }
            other => Err(self.wrong(key, "one bytes value", describe(other))),
        }
    }
}

fn describe(kind: &Option<Kind>) -> String {
    match kind {
        None => "an empty feature".to_owned(),
        Some(Kind::BytesList(l)) => format!("{} bytes values", l.value.len()),
        Some(Kind::FloatList(l)) => format!("{} float values", l.value.len()),
        Some(Kind::Int64List(l)) => format!("{} int64 values", l.value.len()),
    }
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
    let tmp = temp_path(path);
    let result = write_records(&tmp, slices).and_then(|count| {
        std::fs::rename(&tmp, path)
            .map(|()| count)
            .map_err(|e| DataError::io(path, e))
    });
    if result.is_err() {
        // Best effort: the error being returned matters more than this one.
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

fn write_records<I>(tmp: &Path, slices: I) -> Result<usize, DataError>
where
    I: IntoIterator,
    I::Item: Borrow<LabSlice>,
{
    let io_err = |e| DataError::io(tmp, e);
    // A leftover from a killed run with the same pid is ours to replace.
    let _ = std::fs::remove_file(tmp);
    let mut writer = RecordWriter::create(tmp).map_err(io_err)?;
    let mut count = 0;
    for (index, slice) in slices.into_iter().enumerate() {
        let slice = slice.borrow();
        slice.validate(index)?;
        writer
            .write_record(&encode_example(slice))
            .map_err(io_err)?;
        count += 1;
    }
    let file = writer
        .into_inner()
        .into_inner()
        .map_err(|e| io_err(e.into_error()))?;
    file.sync_all().map_err(io_err)?;
    Ok(count)
}

/// Reads every slice of a lab file with raw intensities, checking framing,
/// checksums and the schema of every record.
pub fn read_lab_slices(path: impl AsRef<Path>) -> Result<Vec<LabSlice>, DataError> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut records = Records::new(BufReader::with_capacity(1 << 16, file), path);
    let mut out = Vec::new();
    while let Some(data) = records.next_record()? {
        out.push(decode_example(&data, path, out.len())?);
    }
    Ok(out)
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

/// A strict TFRecord reading loop: every checksum is verified and a file
/// that ends inside a record is an error.
struct Records<'p, R> {
    inner: R,
    path: &'p Path,
    index: usize,
    offset: u64,
}

impl<'p, R: Read> Records<'p, R> {
    fn new(inner: R, path: &'p Path) -> Self {
        Records {
            inner,
            path,
            index: 0,
            offset: 0,
        }
    }

    fn framing(&self, problem: FramingError) -> DataError {
        DataError::Framing {
            path: self.path.to_owned(),
            index: self.index,
            offset: self.offset,
            problem,
        }
    }

    fn next_record(&mut self) -> Result<Option<Vec<u8>>, DataError> {
        let mut header = [0u8; 12];
        let got =
            read_full(&mut self.inner, &mut header).map_err(|e| DataError::io(self.path, e))?;
        if got == 0 {
            return Ok(None);
        }
        if got < header.len() {
            return Err(self.framing(FramingError::TruncatedHeader { got }));
        }
        let len = u64::from_le_bytes(header[..8].try_into().expect("8 bytes"));
        let mut expected_header = [0u8; 12];
        encode_header(len, &mut expected_header);
        if expected_header[8..] != header[8..] {
            return Err(self.framing(FramingError::LengthCrc {
                stored: u32::from_le_bytes(header[8..].try_into().expect("4 bytes")),
                computed: u32::from_le_bytes(expected_header[8..].try_into().expect("4 bytes")),
            }));
        }
        // The length is checksummed, so a huge value is a real (if odd)
        // record; read it in pieces rather than trusting it for one
        // allocation.
        let mut data = Vec::new();
        let want = len + 4;
        let got = (&mut self.inner)
            .take(want)
            .read_to_end(&mut data)
            .map_err(|e| DataError::io(self.path, e))? as u64;
        if got < want {
            return Err(self.framing(FramingError::TruncatedData {
                expected: want,
                got,
            }));
        }
        let stored = u32::from_le_bytes(data[len as usize..].try_into().expect("4 bytes"));
        data.truncate(len as usize);
        let computed = MaskedCrc::compute(&data).0;
        if stored != computed {
            return Err(self.framing(FramingError::DataCrc { stored, computed }));
        }
        self.index += 1;
        self.offset += 12 + want;
        Ok(Some(data))
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(seed: i64) -> LabSlice {
        LabSlice {
            image: (0..PIXELS as i64).map(|i| (i * 7 + seed) % 1500).collect(),
            label: (0..PIXELS).map(|i| u8::from(i % 13 == 0)).collect(),
        }
    }

    #[test]
    fn encode_is_deterministic_and_prost_decodes_it() {
        let s = slice(3);
        let a = encode_example(&s);
        assert_eq!(a, encode_example(&s));
        let ex = Example::decode(&a[..]).unwrap();
        let f = ex.features.unwrap().feature;
        assert_eq!(f.len(), 5);
        assert_eq!(
            f["height"].kind,
            Some(Kind::Int64List(Int64List { value: vec![256] }))
        );
        assert_eq!(
            decode_example(&a, Path::new("m"), 0).unwrap(),
            s,
            "round trip"
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
