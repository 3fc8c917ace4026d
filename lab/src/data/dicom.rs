//! A small DICOM Part 10 reader: just enough to find the top-level
//! elements of a single-frame image stored with an uncompressed
//! little-endian transfer syntax.
//!
//! It never allocates by a length read from the file. Every declared
//! length is checked against the bytes that remain before it is used, and
//! values are borrowed slices of the file, so a corrupt or hostile file
//! costs no more memory than its own size (a general-purpose DICOM library
//! reserved gigabytes for one bad element length; see
//! `tests/data/fuzz/sunnybrook/`). Nested sequences are walked only to
//! find where they end.

use std::collections::BTreeMap;

/// Implicit VR little endian, DICOM's default transfer syntax.
pub const IMPLICIT_VR_LE: &str = "1.2.840.10008.1.2";
/// Explicit VR little endian.
pub const EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1";

/// A data element's tag: (group, element).
pub type Tag = (u16, u16);

/// Sequences nested deeper than this are refused: each level costs stack,
/// and real images nest a handful of levels at most.
const MAX_DEPTH: usize = 32;

/// The item, item-delimitation and sequence-delimitation tags.
const ITEM: Tag = (0xfffe, 0xe000);
const ITEM_END: Tag = (0xfffe, 0xe00d);
const SEQUENCE_END: Tag = (0xfffe, 0xe0dd);

/// A length of `0xFFFFFFFF`: the value runs to a delimiter.
const UNDEFINED: u32 = u32::MAX;

/// A top-level element: its value representation (when the transfer syntax
/// states it) and its value bytes.
#[derive(Debug, Clone, Copy)]
pub struct Element<'a> {
    /// The two-letter VR, absent in implicit-VR data.
    pub vr: Option<[u8; 2]>,
    /// The value as stored in the file; empty for an undefined-length
    /// sequence.
    pub value: &'a [u8],
}

/// A parsed file: the transfer syntax of its meta header and the
/// top-level elements of its data set.
#[derive(Debug)]
pub struct DicomFile<'a> {
    /// The transfer syntax UID, without padding.
    pub transfer_syntax: String,
    /// The data set's top-level elements by tag (the last wins when a
    /// tag repeats).
    pub elements: BTreeMap<Tag, Element<'a>>,
}

impl<'a> DicomFile<'a> {
    /// Parses `bytes`: the 128-byte preamble and `DICM` marker (or the
    /// marker alone), the explicit-VR meta group, then the data set.
    ///
    /// `supported` is asked about the transfer syntax before the data set
    /// is read; its error message is returned as is.
    pub fn parse(
        bytes: &'a [u8],
        supported: impl Fn(&str) -> Result<(), String>,
    ) -> Result<Self, String> {
        let start = if bytes.get(128..132) == Some(b"DICM") {
            132
        } else if bytes.starts_with(b"DICM") {
            4
        } else {
            return Err("not a DICOM file (no \"DICM\" marker at byte 128)".into());
        };
        let mut cursor = Cursor {
            bytes,
            at: start,
            explicit: true,
        };
        let mut meta = BTreeMap::new();
        while cursor.peek_group() == Some(0x0002) {
            let (tag, element) = cursor.element(0)?;
            meta.insert(tag, element);
        }
        let transfer_syntax = meta
            .get(&(0x0002, 0x0010))
            .map(|e| text(e.value))
            .ok_or("the meta header has no TransferSyntaxUID (0002,0010)")?;
        supported(&transfer_syntax)?;
        cursor.explicit = transfer_syntax != IMPLICIT_VR_LE;
        let mut elements = BTreeMap::new();
        while !cursor.at_end() {
            let (tag, element) = cursor.element(0)?;
            if tag.0 == 0xfffe {
                return Err(format!(
                    "unexpected {} at byte {} outside a sequence",
                    name(tag),
                    cursor.at - 8
                ));
            }
            elements.insert(tag, element);
        }
        Ok(DicomFile {
            transfer_syntax,
            elements,
        })
    }
}

/// A position in the file and how to read element headers there.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
    explicit: bool,
}

impl<'a> Cursor<'a> {
    fn at_end(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        if n > self.remaining() {
            return Err(format!(
                "{what} at byte {} needs {n} bytes but only {} remain (truncated or corrupt file)",
                self.at,
                self.remaining()
            ));
        }
        let slice = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(slice)
    }

    fn u16(&mut self, what: &str) -> Result<u16, String> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn peek_group(&self) -> Option<u16> {
        let b = self.bytes.get(self.at..self.at + 2)?;
        Some(u16::from_le_bytes([b[0], b[1]]))
    }

    fn tag(&mut self) -> Result<Tag, String> {
        Ok((self.u16("a tag")?, self.u16("a tag")?))
    }

    /// Reads one element (header and value) at nesting `depth`; an
    /// undefined-length value is walked to its delimiter and comes back
    /// empty.
    fn element(&mut self, depth: usize) -> Result<(Tag, Element<'a>), String> {
        let tag = self.tag()?;
        if tag.0 == 0xfffe {
            // Items and delimiters have no VR, even in explicit-VR data.
            self.u32("an item length")?;
            return Ok((
                tag,
                Element {
                    vr: None,
                    value: &[],
                },
            ));
        }
        let (vr, length) = if self.explicit {
            let vr: [u8; 2] = self.take(2, "a VR")?.try_into().expect("2 bytes");
            let length = if has_long_length(&vr) {
                self.take(2, "a reserved field")?;
                self.u32("an element length")?
            } else {
                u32::from(self.u16("an element length")?)
            };
            (Some(vr), length)
        } else {
            (None, self.u32("an element length")?)
        };
        if length == UNDEFINED {
            self.skip_undefined_sequence(tag, depth + 1)?;
            return Ok((tag, Element { vr, value: &[] }));
        }
        let value = self.take(length as usize, &format!("the value of {}", name(tag)))?;
        Ok((tag, Element { vr, value }))
    }

    /// Skips the items of an undefined-length sequence (or encapsulated
    /// data) up to and including its sequence delimiter.
    fn skip_undefined_sequence(&mut self, owner: Tag, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("sequences nested deeper than {MAX_DEPTH} levels"));
        }
        loop {
            if self.at_end() {
                return Err(format!(
                    "the undefined-length value of {} has no sequence delimiter (truncated file)",
                    name(owner)
                ));
            }
            let tag = self.tag()?;
            let length = self.u32("an item length")?;
            match tag {
                SEQUENCE_END => return Ok(()),
                ITEM if length == UNDEFINED => self.skip_undefined_item(depth)?,
                ITEM => {
                    self.take(length as usize, "an item")?;
                }
                other => {
                    return Err(format!(
                        "{} inside the sequence {}, expected an item",
                        name(other),
                        name(owner)
                    ))
                }
            }
        }
    }

    /// Skips the elements of an undefined-length item up to and including
    /// its item delimiter.
    fn skip_undefined_item(&mut self, depth: usize) -> Result<(), String> {
        loop {
            if self.at_end() {
                return Err(
                    "an undefined-length item has no item delimiter (truncated file)".into(),
                );
            }
            let (tag, _) = self.element(depth)?;
            match tag {
                ITEM_END => return Ok(()),
                ITEM | SEQUENCE_END => {
                    return Err(format!("{} inside an item", name(tag)));
                }
                _ => {}
            }
        }
    }
}

/// The VRs whose explicit header has two reserved bytes and a 32-bit length.
fn has_long_length(vr: &[u8; 2]) -> bool {
    matches!(
        vr,
        b"OB"
            | b"OD"
            | b"OF"
            | b"OL"
            | b"OV"
            | b"OW"
            | b"SQ"
            | b"SV"
            | b"UC"
            | b"UN"
            | b"UR"
            | b"UT"
            | b"UV"
    )
}

/// A text value without DICOM's trailing NUL or space padding.
pub fn text(value: &[u8]) -> String {
    String::from_utf8_lossy(value)
        .trim_end_matches(['\0', ' '])
        .trim()
        .to_owned()
}

/// `(0028,0010)`.
pub fn name(tag: Tag) -> String {
    format!("({:04X},{:04X})", tag.0, tag.1)
}

/// The first value of an integer element: binary US/UL/SS/SL (in implicit
/// VR, by the value's length), or an IS string.
pub fn first_int(element: &Element<'_>) -> Result<i64, String> {
    let v = element.value;
    let vr = element.vr.as_ref().map(|vr| &vr[..]);
    let binary = |width: usize, signed: bool| -> Result<i64, String> {
        let b = v
            .get(..width)
            .ok_or_else(|| format!("the value has {} bytes, expected {width}", v.len()))?;
        Ok(match (width, signed) {
            (2, false) => i64::from(u16::from_le_bytes([b[0], b[1]])),
            (2, true) => i64::from(i16::from_le_bytes([b[0], b[1]])),
            (4, false) => i64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            _ => i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        })
    };
    match vr {
        Some(b"US") => binary(2, false),
        Some(b"SS") => binary(2, true),
        Some(b"UL") => binary(4, false),
        Some(b"SL") => binary(4, true),
        Some(b"IS") => {
            let s = text(v);
            let first = s.split('\\').next().unwrap_or("").trim();
            first
                .parse()
                .map_err(|_| format!("{first:?} is not an integer"))
        }
        Some(other) => Err(format!(
            "has VR {}, expected an integer",
            String::from_utf8_lossy(other)
        )),
        None if v.len() == 4 => binary(4, false),
        None => binary(2, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explicit(out: &mut Vec<u8>, tag: Tag, vr: &[u8; 2], value: &[u8]) {
        out.extend_from_slice(&tag.0.to_le_bytes());
        out.extend_from_slice(&tag.1.to_le_bytes());
        out.extend_from_slice(vr);
        if has_long_length(vr) {
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        } else {
            out.extend_from_slice(&(value.len() as u16).to_le_bytes());
        }
        out.extend_from_slice(value);
    }

    fn file(body: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; 128];
        out.extend_from_slice(b"DICM");
        explicit(&mut out, (0x0002, 0x0010), b"UI", b"1.2.840.10008.1.2.1\0");
        out.extend_from_slice(body);
        out
    }

    fn any(_: &str) -> Result<(), String> {
        Ok(())
    }

    #[test]
    fn reads_top_level_elements_and_skips_nested_sequences() {
        let mut body = Vec::new();
        explicit(&mut body, (0x0028, 0x0010), b"US", &256u16.to_le_bytes());
        // An undefined-length sequence holding one undefined-length item
        // with a nested element, then a defined-length item.
        body.extend_from_slice(&[0x08, 0x00, 0x40, 0x11]);
        body.extend_from_slice(b"SQ\0\0");
        body.extend_from_slice(&UNDEFINED.to_le_bytes());
        body.extend_from_slice(&[0xfe, 0xff, 0x00, 0xe0]);
        body.extend_from_slice(&UNDEFINED.to_le_bytes());
        explicit(&mut body, (0x0028, 0x0011), b"US", &7u16.to_le_bytes());
        body.extend_from_slice(&[0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0]);
        body.extend_from_slice(&[0xfe, 0xff, 0x00, 0xe0, 2, 0, 0, 0, 1, 2]);
        body.extend_from_slice(&[0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
        explicit(&mut body, (0x0028, 0x0011), b"US", &255u16.to_le_bytes());
        let bytes = file(&body);
        let dicom = DicomFile::parse(&bytes, any).unwrap();
        assert_eq!(dicom.transfer_syntax, EXPLICIT_VR_LE);
        let tags: Vec<Tag> = dicom.elements.keys().copied().collect();
        assert_eq!(tags, [(0x0008, 0x1140), (0x0028, 0x0010), (0x0028, 0x0011)]);
        // The nested (0028,0011) = 7 did not leak to the top level.
        assert_eq!(first_int(&dicom.elements[&(0x0028, 0x0011)]), Ok(255));
        assert_eq!(first_int(&dicom.elements[&(0x0028, 0x0010)]), Ok(256));
    }

    #[test]
    fn a_length_beyond_the_file_is_an_error_not_an_allocation() {
        let mut body = Vec::new();
        body.extend_from_slice(&[0xe0, 0x7f, 0x10, 0x00]);
        body.extend_from_slice(b"OW\0\0");
        body.extend_from_slice(&0xb000_0000u32.to_le_bytes());
        body.extend_from_slice(&[0; 16]);
        let bytes = file(&body);
        let err = DicomFile::parse(&bytes, any).unwrap_err();
        assert!(
            err.contains("the value of (7FE0,0010)") && err.contains("needs 2952790016 bytes"),
            "{err}"
        );
    }

    #[test]
    fn deep_nesting_and_missing_delimiters_are_errors() {
        let mut body = Vec::new();
        for _ in 0..40 {
            body.extend_from_slice(&[0x08, 0x00, 0x40, 0x11]);
            body.extend_from_slice(b"SQ\0\0");
            body.extend_from_slice(&UNDEFINED.to_le_bytes());
            body.extend_from_slice(&[0xfe, 0xff, 0x00, 0xe0]);
            body.extend_from_slice(&UNDEFINED.to_le_bytes());
        }
        let bytes = file(&body);
        let err = DicomFile::parse(&bytes, any).unwrap_err();
        assert!(err.contains("nested deeper than 32"), "{err}");

        let bytes = file(&body[..20]);
        let err = DicomFile::parse(&bytes, any).unwrap_err();
        assert!(err.contains("no item delimiter"), "{err}");
    }

    #[test]
    fn unsupported_transfer_syntax_stops_before_the_data_set() {
        let bytes = file(&[0xff; 7]); // not even a whole element
        let err = DicomFile::parse(&bytes, |ts| Err(format!("no {ts}"))).unwrap_err();
        assert_eq!(err, format!("no {EXPLICIT_VR_LE}"));
        let err = DicomFile::parse(b"not dicom", any).unwrap_err();
        assert!(err.contains("DICM"), "{err}");
    }

    #[test]
    fn integers_by_vr() {
        let element = |vr: Option<[u8; 2]>, value: &'static [u8]| Element { vr, value };
        assert_eq!(first_int(&element(Some(*b"US"), &[0, 1])), Ok(256));
        assert_eq!(first_int(&element(Some(*b"SS"), &[0xff, 0xff])), Ok(-1));
        assert_eq!(first_int(&element(Some(*b"IS"), b"12\\4 ")), Ok(12));
        assert_eq!(first_int(&element(None, &[1, 0, 0, 1])), Ok(0x0100_0001));
        assert!(first_int(&element(Some(*b"US"), &[1])).is_err());
        assert!(first_int(&element(Some(*b"CS"), b"AB")).is_err());
    }
}
