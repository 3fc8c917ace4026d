//! Converts the Sunnybrook Cardiac Data (2009 LV challenge) into the lab's
//! two TFRecord files, the way the lab's `dataSetup.py` does.
//!
//! Layout under the data root:
//!
//! - contours: `.../<CASE>/contours-manual/IRCCI-expert/IM-0001-<NNNN>-icontour-manual.txt`
//!   anywhere below the root (the lab's regex), `<CASE>` zero-padded
//!   (`SC-HF-I-01`); each line is a float `x y` pair (column, row);
//! - images: `<root>/challenge_training/<case>/IM-<SERIES>-<NNNN>.dcm`,
//!   with `<case>` = `<CASE>` without zero padding ([`shrink_case`]) and
//!   `<SERIES>` from the lab's hand-made table ([`SERIES`]).
//!
//! Each pair becomes one record: the DICOM's stored pixel values (no
//! rescale, no windowing) and the contour's points truncated toward zero
//! and filled with [`fill_poly`].
//!
//! The split: the lab shuffled the `os.walk` listing with NumPy's seed
//! 1234, which depends on directory order and cannot be reproduced. Here
//! the pairs are sorted by (case, image number) and shuffled with this
//! crate's SplitMix64 seeded with 1234 (Fisher–Yates); the first
//! `int(0.1·n)` are validation, the rest training (234/26 for the 260
//! contours of the full set), as in the lab. Pairs whose DICOM is missing
//! are skipped after the split, as the lab's `IOError` handler does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::dicom::{self, DicomFile, Tag};
use super::polygon::{fill_poly, Point};
use super::synth::SplitMix64;
use super::{write_lab_file, DataError, LabSlice, PIXELS, SIZE, TRAIN_FILE, VAL_FILE};

/// The lab's case → image series table.
pub const SERIES: [(&str, &str); 15] = [
    ("SC-HF-I-1", "0004"),
    ("SC-HF-I-2", "0106"),
    ("SC-HF-I-4", "0116"),
    ("SC-HF-I-40", "0134"),
    ("SC-HF-NI-3", "0379"),
    ("SC-HF-NI-4", "0501"),
    ("SC-HF-NI-34", "0446"),
    ("SC-HF-NI-36", "0474"),
    ("SC-HYP-1", "0550"),
    ("SC-HYP-3", "0650"),
    ("SC-HYP-38", "0734"),
    ("SC-HYP-40", "0755"),
    ("SC-N-2", "0898"),
    ("SC-N-3", "0915"),
    ("SC-N-40", "0944"),
];

/// Seed of the split's shuffle (the lab's `np.random.seed(1234)`).
pub const SPLIT_SEED: u64 = 1234;

/// Share of the pairs that go to validation.
pub const VAL_RATIO: f64 = 0.1;

/// `SC-HF-I-01` → `SC-HF-I-1`: every `-`-separated token that is a number
/// loses its zero padding (the lab's `shrink_case`).
pub fn shrink_case(case: &str) -> String {
    case.split('-')
        .map(|token| match token.parse::<u64>() {
            Ok(n) if token.bytes().all(|b| b.is_ascii_digit()) => n.to_string(),
            _ => token.to_string(),
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The image series of a (shrunk) case name, if the lab's table has it.
pub fn series_of(case: &str) -> Option<&'static str> {
    SERIES.iter().find(|(c, _)| *c == case).map(|(_, s)| *s)
}

/// One endocardial contour file and the image it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ContourRef {
    /// The case folder name as found (zero-padded, e.g. `SC-HF-I-01`).
    pub case: String,
    /// The four-digit image number shared by contour and DICOM.
    pub image: String,
    /// The contour file.
    pub path: PathBuf,
}

impl ContourRef {
    /// Where the lab looks for the image: `<root>/challenge_training/<case>/IM-<SERIES>-<NNNN>.dcm`.
    /// `None` if the case is not in [`SERIES`].
    pub fn dicom_path(&self, root: &Path) -> Option<PathBuf> {
        let case = shrink_case(&self.case);
        let series = series_of(&case)?;
        Some(
            root.join("challenge_training")
                .join(&case)
                .join(format!("IM-{series}-{}.dcm", self.image)),
        )
    }
}

/// Every `IM-0001-NNNN-icontour-manual.txt` under `root` in an
/// `<CASE>/contours-manual/IRCCI-expert/` folder, sorted by case and image.
pub fn find_contours(root: &Path) -> Result<Vec<ContourRef>, DataError> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| DataError::io(&dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| DataError::io(&dir, e))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| DataError::io(&path, e))?;
            if kind.is_dir() {
                stack.push(path);
            } else if let Some(contour) = match_contour(&path) {
                found.push(contour);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The lab's regex
/// `/([^/]*)/contours-manual/IRCCI-expert/IM-0001-(\d{4})-icontour-manual.txt`.
fn match_contour(path: &Path) -> Option<ContourRef> {
    let name = path.file_name()?.to_str()?;
    let image = name
        .strip_prefix("IM-0001-")?
        .strip_suffix("-icontour-manual.txt")?;
    if image.len() != 4 || !image.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let expert = path.parent()?;
    let manual = expert.parent()?;
    let case_dir = manual.parent()?;
    if expert.file_name()? != "IRCCI-expert" || manual.file_name()? != "contours-manual" {
        return None;
    }
    Some(ContourRef {
        case: case_dir.file_name()?.to_str()?.to_string(),
        image: image.to_string(),
        path: path.to_path_buf(),
    })
}

/// Reads a contour file: one `x y` float pair per line (blank lines
/// ignored), truncated toward zero like NumPy's `astype(int)`.
pub fn read_contour(path: &Path) -> Result<Vec<Point>, DataError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    let bad = |line: usize, problem: String| DataError::Contour {
        path: path.to_path_buf(),
        line,
        problem,
    };
    let mut points = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        if fields.len() != 2 {
            return Err(bad(i + 1, format!("expected `x y`, got {line:?}")));
        }
        let mut xy = [0i32; 2];
        for (slot, field) in xy.iter_mut().zip(&fields) {
            let v: f64 = field
                .parse()
                .map_err(|_| bad(i + 1, format!("{field:?} is not a number")))?;
            if !v.is_finite() || v.abs() > 1e6 {
                return Err(bad(i + 1, format!("coordinate {v} out of range")));
            }
            *slot = v.trunc() as i32;
        }
        points.push((xy[0], xy[1]));
    }
    if points.is_empty() {
        return Err(bad(0, "no points".to_string()));
    }
    Ok(points)
}

const ROWS: Tag = (0x0028, 0x0010);
const COLUMNS: Tag = (0x0028, 0x0011);
const SAMPLES_PER_PIXEL: Tag = (0x0028, 0x0002);
const BITS_ALLOCATED: Tag = (0x0028, 0x0100);
const BITS_STORED: Tag = (0x0028, 0x0101);
const PIXEL_REPRESENTATION: Tag = (0x0028, 0x0103);
const PIXEL_DATA: Tag = (0x7fe0, 0x0010);

/// Transfer syntaxes whose pixel data is stored natively little-endian.
const NATIVE_LE: [&str; 2] = [dicom::IMPLICIT_VR_LE, dicom::EXPLICIT_VR_LE];

/// Reads the stored pixel values of a 256×256 16-bit single-frame
/// grayscale DICOM (what pydicom's `pixel_array.astype(int)` gives the lab:
/// no rescale slope/intercept, no windowing).
///
/// Only native little-endian pixel data is decoded (implicit or explicit
/// VR little endian); compressed or big-endian transfer syntaxes, other
/// sizes, bit depths and multi-sample images are errors. A corrupt file
/// is an error too, and never costs more memory than its size.
pub fn read_dicom_image(path: &Path) -> Result<Vec<i64>, DataError> {
    let bad = |problem: String| DataError::Dicom {
        path: path.to_path_buf(),
        problem,
    };
    let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read: {e}")))?;
    let file = DicomFile::parse(&bytes, |ts| {
        if NATIVE_LE.contains(&ts) {
            Ok(())
        } else {
            Err(format!(
                "transfer syntax {ts} is not supported (only uncompressed little-endian pixel data)"
            ))
        }
    })
    .map_err(bad)?;
    let int = |tag: Tag, name: &str| -> Result<Option<i64>, DataError> {
        file.elements
            .get(&tag)
            .map(|element| dicom::first_int(element).map_err(|e| bad(format!("{name}: {e}"))))
            .transpose()
    };
    let need = |tag: Tag, name: &str| -> Result<i64, DataError> {
        int(tag, name)?.ok_or_else(|| bad(format!("missing {name}")))
    };
    let rows = need(ROWS, "Rows")?;
    let columns = need(COLUMNS, "Columns")?;
    if (rows, columns) != (SIZE as i64, SIZE as i64) {
        return Err(bad(format!(
            "image is {columns}x{rows} (columns x rows), the lab needs {SIZE}x{SIZE}"
        )));
    }
    let bits = need(BITS_ALLOCATED, "BitsAllocated")?;
    if bits != 16 {
        return Err(bad(format!("BitsAllocated is {bits}, expected 16")));
    }
    if let Some(samples) = int(SAMPLES_PER_PIXEL, "SamplesPerPixel")? {
        if samples != 1 {
            return Err(bad(format!("SamplesPerPixel is {samples}, expected 1")));
        }
    }
    let signed = match need(PIXEL_REPRESENTATION, "PixelRepresentation")? {
        0 => false,
        1 => true,
        other => return Err(bad(format!("PixelRepresentation is {other}"))),
    };
    let stored = int(BITS_STORED, "BitsStored")?.unwrap_or(16).clamp(1, 16) as u32;
    // OW and OB pixel data are both little-endian bytes in these transfer
    // syntaxes.
    let bytes = file
        .elements
        .get(&PIXEL_DATA)
        .ok_or_else(|| bad("missing PixelData".to_string()))?
        .value;
    if bytes.len() < PIXELS * 2 {
        return Err(bad(format!(
            "PixelData has {} bytes, expected {} (one 256x256 16-bit frame)",
            bytes.len(),
            PIXELS * 2
        )));
    }
    let shift = 16 - stored;
    Ok(bytes[..PIXELS * 2]
        .chunks_exact(2)
        .map(|b| {
            let raw = u16::from_le_bytes([b[0], b[1]]);
            if signed {
                // Sign-extend from BitsStored, as pydicom does.
                i64::from(((raw << shift) as i16) >> shift)
            } else {
                i64::from(raw)
            }
        })
        .collect())
}

/// One DICOM/contour pair made into a lab slice.
pub fn load_pair(contour: &Path, dicom: &Path) -> Result<LabSlice, DataError> {
    let image = read_dicom_image(dicom)?;
    let points = read_contour(contour)?;
    let mut label = vec![0u8; PIXELS];
    fill_poly(&points, SIZE, SIZE, &mut label, 1);
    Ok(LabSlice { image, label })
}

/// What [`convert`] did.
#[derive(Debug, Clone, Default)]
pub struct ConvertReport {
    /// The training file written.
    pub train_path: PathBuf,
    /// The validation file written.
    pub val_path: PathBuf,
    /// Slices in the training file.
    pub train: usize,
    /// Slices in the validation file.
    pub val: usize,
    /// Contours skipped because their DICOM file does not exist
    /// (contour, expected DICOM path).
    pub missing_dicom: Vec<(PathBuf, PathBuf)>,
    /// Contours skipped because their case is not in [`SERIES`].
    pub unknown_case: Vec<PathBuf>,
}

/// The lab's split of `n` sorted items: indices of validation and
/// training items (see the module doc).
pub fn split_indices(n: usize) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = SplitMix64::new(SPLIT_SEED);
    for i in (1..n).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    // Python's int(0.1 * n), float rounding included.
    let n_val = (VAL_RATIO * n as f64) as usize;
    let train = order.split_off(n_val);
    (order, train)
}

/// Converts the Sunnybrook tree at `root` into `out/train_images.tfrecords`
/// and `out/val_images.tfrecords` (replacing them if present; see
/// [`write_lab_file`]). `out` is created if needed.
pub fn convert(root: &Path, out: &Path) -> Result<ConvertReport, DataError> {
    let contours = find_contours(root)?;
    if contours.is_empty() {
        return Err(DataError::Sunnybrook {
            root: root.to_path_buf(),
            problem: "no `<CASE>/contours-manual/IRCCI-expert/IM-0001-NNNN-icontour-manual.txt` files found".to_string(),
        });
    }
    let mut report = ConvertReport {
        train_path: out.join(TRAIN_FILE),
        val_path: out.join(VAL_FILE),
        ..ConvertReport::default()
    };
    let (val_idx, train_idx) = split_indices(contours.len());
    let mut sets: BTreeMap<bool, Vec<LabSlice>> = BTreeMap::new();
    for (is_val, indices) in [(false, &train_idx), (true, &val_idx)] {
        let mut slices = Vec::new();
        for &i in indices {
            let contour = &contours[i];
            let Some(dicom) = contour.dicom_path(root) else {
                report.unknown_case.push(contour.path.clone());
                continue;
            };
            if !dicom.is_file() {
                report.missing_dicom.push((contour.path.clone(), dicom));
                continue;
            }
            slices.push(load_pair(&contour.path, &dicom)?);
        }
        sets.insert(is_val, slices);
    }
    std::fs::create_dir_all(out).map_err(|e| DataError::io(out, e))?;
    report.train = write_lab_file(&report.train_path, &sets[&false])?;
    report.val = write_lab_file(&report.val_path, &sets[&true])?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrink_case_strips_padding() {
        assert_eq!(shrink_case("SC-HF-I-01"), "SC-HF-I-1");
        assert_eq!(shrink_case("SC-HYP-40"), "SC-HYP-40");
        assert_eq!(shrink_case("SC-N-03"), "SC-N-3");
        assert_eq!(series_of(&shrink_case("SC-HF-NI-04")), Some("0501"));
        assert_eq!(series_of("SC-X-1"), None);
    }

    #[test]
    fn matches_only_the_lab_pattern() {
        let ok = Path::new(
            "r/T/SC-HF-I-01/contours-manual/IRCCI-expert/IM-0001-0048-icontour-manual.txt",
        );
        let c = match_contour(ok).unwrap();
        assert_eq!((c.case.as_str(), c.image.as_str()), ("SC-HF-I-01", "0048"));
        assert_eq!(
            c.dicom_path(Path::new("r")).unwrap(),
            Path::new("r/challenge_training/SC-HF-I-1/IM-0004-0048.dcm")
        );
        for no in [
            "r/SC-HF-I-01/contours-manual/IRCCI-expert/IM-0001-0048-ocontour-manual.txt",
            "r/SC-HF-I-01/contours-manual/other/IM-0001-0048-icontour-manual.txt",
            "r/SC-HF-I-01/contours-manual/IRCCI-expert/IM-0002-0048-icontour-manual.txt",
            "r/SC-HF-I-01/contours-manual/IRCCI-expert/IM-0001-048-icontour-manual.txt",
        ] {
            assert!(match_contour(Path::new(no)).is_none(), "{no}");
        }
    }

    #[test]
    fn split_is_the_labs_ten_percent() {
        let (val, train) = split_indices(260);
        assert_eq!((val.len(), train.len()), (26, 234));
        let mut all: Vec<_> = val.iter().chain(&train).copied().collect();
        all.sort();
        assert_eq!(all, (0..260).collect::<Vec<_>>());
        assert_eq!(split_indices(260), (val, train), "deterministic");
        assert_eq!(split_indices(9).0.len(), 0);
    }
}
