//! The Sunnybrook converter on a small fake tree: DICOM files written byte
//! by byte (so the reader is not checked against its own writer) and
//! contour files in the lab's layout.

use std::path::{Path, PathBuf};

use tbseg_lab::data::polygon::fill_poly_mask;
use tbseg_lab::data::sunnybrook::{convert, read_contour, read_dicom_image};
use tbseg_lab::data::{read_lab_slices, DataError, PIXELS, SIZE};

const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";
const IMPLICIT_LE: &str = "1.2.840.10008.1.2";
const JPEG_BASELINE: &str = "1.2.840.10008.1.2.4.50";

/// One explicit-VR little-endian element.
fn element(out: &mut Vec<u8>, group: u16, elem: u16, vr: &str, value: &[u8]) {
    let mut value = value.to_vec();
    if value.len() % 2 == 1 {
        value.push(if vr == "UI" || vr == "OB" { 0 } else { b' ' });
    }
    out.extend_from_slice(&group.to_le_bytes());
    out.extend_from_slice(&elem.to_le_bytes());
    out.extend_from_slice(vr.as_bytes());
    if matches!(vr, "OB" | "OW" | "SQ" | "UN" | "UT") {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    }
    out.extend_from_slice(&value);
}

/// One implicit-VR little-endian element.
fn implicit(out: &mut Vec<u8>, group: u16, elem: u16, value: &[u8]) {
    out.extend_from_slice(&group.to_le_bytes());
    out.extend_from_slice(&elem.to_le_bytes());
    out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    out.extend_from_slice(value);
}

struct Dicom<'a> {
    ts: &'a str,
    rows: u16,
    columns: u16,
    bits_stored: u16,
    signed: bool,
    pixels: Vec<u16>,
}

impl Dicom<'_> {
    fn mr(pixels: Vec<u16>) -> Self {
        Dicom {
            ts: EXPLICIT_LE,
            rows: 256,
            columns: 256,
            bits_stored: 12,
            signed: false,
            pixels,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut meta = Vec::new();
        element(&mut meta, 0x0002, 0x0001, "OB", &[0, 1]);
        element(
            &mut meta,
            0x0002,
            0x0002,
            "UI",
            b"1.2.840.10008.5.1.4.1.1.4",
        );
        element(&mut meta, 0x0002, 0x0003, "UI", b"1.2.3.4.5.6");
        element(&mut meta, 0x0002, 0x0010, "UI", self.ts.as_bytes());
        element(&mut meta, 0x0002, 0x0012, "UI", b"1.2.3.4");
        let mut out = vec![0u8; 128];
        out.extend_from_slice(b"DICM");
        element(
            &mut out,
            0x0002,
            0x0000,
            "UL",
            &(meta.len() as u32).to_le_bytes(),
        );
        out.extend_from_slice(&meta);

        let us = |v: u16| v.to_le_bytes().to_vec();
        let pixel_bytes: Vec<u8> = self.pixels.iter().flat_map(|p| p.to_le_bytes()).collect();
        let elements: Vec<(u16, u16, &str, Vec<u8>)> = vec![
            (0x0008, 0x0016, "UI", b"1.2.840.10008.5.1.4.1.1.4".to_vec()),
            (0x0008, 0x0018, "UI", b"1.2.3.4.5.6".to_vec()),
            (0x0028, 0x0002, "US", us(1)),
            (0x0028, 0x0004, "CS", b"MONOCHROME2".to_vec()),
            (0x0028, 0x0010, "US", us(self.rows)),
            (0x0028, 0x0011, "US", us(self.columns)),
            (0x0028, 0x0100, "US", us(16)),
            (0x0028, 0x0101, "US", us(self.bits_stored)),
            (0x0028, 0x0102, "US", us(self.bits_stored - 1)),
            (0x0028, 0x0103, "US", us(u16::from(self.signed))),
        ];
        for (g, e, vr, v) in &elements {
            if self.ts == IMPLICIT_LE {
                let mut v = v.clone();
                if v.len() % 2 == 1 {
                    v.push(if *vr == "UI" { 0 } else { b' ' });
                }
                implicit(&mut out, *g, *e, &v);
            } else {
                element(&mut out, *g, *e, vr, v);
            }
        }
        match self.ts {
            IMPLICIT_LE => implicit(&mut out, 0x7fe0, 0x0010, &pixel_bytes),
            EXPLICIT_LE => element(&mut out, 0x7fe0, 0x0010, "OW", &pixel_bytes),
            _ => {
                // Encapsulated: undefined length, empty offset table, one
                // fragment, sequence delimiter.
                out.extend_from_slice(&[0xe0, 0x7f, 0x10, 0x00]);
                out.extend_from_slice(b"OB\0\0");
                out.extend_from_slice(&u32::MAX.to_le_bytes());
                for (len, data) in [(0u32, &[][..]), (4, &[0xff, 0xd8, 0xff, 0xd9][..])] {
                    out.extend_from_slice(&[0xfe, 0xff, 0x00, 0xe0]);
                    out.extend_from_slice(&len.to_le_bytes());
                    out.extend_from_slice(data);
                }
                out.extend_from_slice(&[0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
            }
        }
        out
    }

    fn write(&self, path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, self.bytes()).unwrap();
    }
}

/// A 256×256 image whose first pixel identifies it.
fn pattern(id: u16) -> Vec<u16> {
    (0..PIXELS)
        .map(|i| if i == 0 { id } else { ((i * 7) % 1500) as u16 })
        .collect()
}

fn contour_dir(root: &Path, case: &str) -> PathBuf {
    root.join("Sunnybrook Cardiac MR Database ContoursPart3")
        .join("TrainingDataContours")
        .join(case)
        .join("contours-manual")
        .join("IRCCI-expert")
}

/// A square from (x, y) to (x + 20, y + 20), written with fractional
/// parts that truncation must drop.
fn square_contour(x: i32, y: i32) -> String {
    format!(
        "{x}.7 {y}.2\n{}.3 {y}.9\n{}.5 {}.1\n{x}.2 {}.8\n",
        x + 20,
        x + 20,
        y + 20,
        y + 20
    )
}

#[test]
fn converts_a_fake_tree() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("sunnybrook2009");
    // Ten contours over two cases; image 0088 of SC-HF-I-01 has no DICOM.
    let pairs = [
        ("SC-HF-I-01", "SC-HF-I-1", "0004", [20, 48, 68, 88, 100]),
        ("SC-N-03", "SC-N-3", "0915", [1, 2, 3, 4, 5]),
    ];
    for (case, short, series, images) in pairs {
        let contours = contour_dir(&root, case);
        std::fs::create_dir_all(&contours).unwrap();
        for image in images {
            let name = format!("IM-0001-{image:04}-icontour-manual.txt");
            std::fs::write(contours.join(name), square_contour(image as i32, 30)).unwrap();
            // Epicardial contours sit beside them and are ignored.
            let other = format!("IM-0001-{image:04}-ocontour-manual.txt");
            std::fs::write(contours.join(other), "1 1\n2 2\n").unwrap();
            if case == "SC-HF-I-01" && image == 88 {
                continue;
            }
            let dicom = root
                .join("challenge_training")
                .join(short)
                .join(format!("IM-{series}-{image:04}.dcm"));
            Dicom::mr(pattern(image)).write(&dicom);
        }
    }

    let out = dir.path().join("out");
    let report = convert(&root, &out).unwrap();
    assert_eq!((report.train, report.val), (8, 1));
    assert_eq!(report.missing_dicom.len(), 1);
    assert!(report.missing_dicom[0]
        .1
        .ends_with("challenge_training/SC-HF-I-1/IM-0004-0088.dcm"));

    let mut slices = read_lab_slices(&report.train_path).unwrap();
    slices.extend(read_lab_slices(&report.val_path).unwrap());
    let mut ids: Vec<i64> = slices.iter().map(|s| s.image[0]).collect();
    ids.sort();
    assert_eq!(ids, [1, 2, 3, 4, 5, 20, 48, 68, 100]);
    for slice in &slices {
        let x = slice.image[0] as i32;
        let expected = fill_poly_mask(&[(x, 30), (x + 20, 30), (x + 20, 50), (x, 50)], SIZE, SIZE);
        assert_eq!(slice.label, expected, "image {x}");
        assert_eq!(slice.label.iter().filter(|&&v| v == 1).count(), 21 * 21);
        assert_eq!(slice.image[1], 7);
    }

    // Converting again gives the same bytes (sorted listing, fixed seed).
    let again = dir.path().join("again");
    convert(&root, &again).unwrap();
    for name in ["train_images.tfrecords", "val_images.tfrecords"] {
        assert_eq!(
            std::fs::read(out.join(name)).unwrap(),
            std::fs::read(again.join(name)).unwrap()
        );
    }
}

#[test]
fn empty_tree_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = convert(dir.path(), &dir.path().join("out")).unwrap_err();
    assert!(matches!(err, DataError::Sunnybrook { .. }), "{err}");
}

#[test]
fn reads_implicit_vr_and_signed_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.dcm");
    let mut pixels = pattern(9);
    pixels[5] = 0x0fff; // -1 in 12-bit two's complement
    pixels[6] = 0x0800; // -2048
    Dicom {
        ts: IMPLICIT_LE,
        signed: true,
        ..Dicom::mr(pixels)
    }
    .write(&path);
    let image = read_dicom_image(&path).unwrap();
    assert_eq!(image.len(), PIXELS);
    assert_eq!((image[0], image[5], image[6]), (9, -1, -2048));
}

#[test]
fn rejects_compressed_and_odd_sized_images() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jpeg.dcm");
    Dicom {
        ts: JPEG_BASELINE,
        ..Dicom::mr(Vec::new())
    }
    .write(&path);
    assert_eq!(
        read_dicom_image(&path).unwrap_err().to_string(),
        format!(
            "{}: transfer syntax 1.2.840.10008.1.2.4.50 is not supported (only uncompressed little-endian pixel data)",
            path.display()
        )
    );

    let path = dir.path().join("small.dcm");
    Dicom {
        rows: 128,
        columns: 128,
        ..Dicom::mr(vec![0; 128 * 128])
    }
    .write(&path);
    assert_eq!(
        read_dicom_image(&path).unwrap_err().to_string(),
        format!(
            "{}: image is 128x128 (columns x rows), the lab needs 256x256",
            path.display()
        )
    );

    let path = dir.path().join("short.dcm");
    Dicom::mr(vec![0; 100]).write(&path);
    assert_eq!(
        read_dicom_image(&path).unwrap_err().to_string(),
        format!(
            "{}: PixelData has 200 bytes, expected 131072 (one 256x256 16-bit frame)",
            path.display()
        )
    );
}

#[test]
fn contour_parsing_truncates_toward_zero_and_reports_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.txt");
    std::fs::write(&path, "10.9 20.1\n\n-0.5 3.99\n").unwrap();
    assert_eq!(read_contour(&path).unwrap(), [(10, 20), (0, 3)]);
    std::fs::write(&path, "10.9 20.1\n1 2 3\n").unwrap();
    assert_eq!(
        read_contour(&path).unwrap_err().to_string(),
        format!("{}: line 2: expected `x y`, got \"1 2 3\"", path.display())
    );
    std::fs::write(&path, "1 x\n").unwrap();
    assert_eq!(
        read_contour(&path).unwrap_err().to_string(),
        format!("{}: line 1: \"x\" is not a number", path.display())
    );
}
