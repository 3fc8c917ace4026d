//! Images read back: the encoded bytes with their size, channel count and
//! format, and (with the `png` feature) their pixels.
//!
//! TensorBoard's Images dashboard reads two forms, and so does this
//! module: TensorFlow 2's DT_STRING tensor `[width, height, image, ...]`
//! (what tbseg and `tf.summary.image` write, and how tbseg logs a video,
//! as an animated GIF) and the legacy `Summary.Image` (what torch's
//! `add_image` writes), one image per value.

use crate::proto::tensorflow::summary;

use super::tensor::{self, TensorError};
use crate::proto::tensorflow::TensorProto;

/// How an image's bytes are encoded, from their signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageFormat {
    /// PNG: what tbseg, TensorFlow and torch write for images.
    Png,
    /// GIF: tbseg's and tensorboardX's videos, animated.
    Gif,
    /// JPEG.
    Jpeg,
    /// Anything else.
    Other,
}

/// One logged image (or video, as an animated GIF).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Image {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Channels per pixel (1 grey, 2 grey and alpha, 3 RGB, 4 RGBA), from
    /// the PNG header or the legacy `colorspace` field; `None` when
    /// neither says (a GIF, or a legacy image without a colour space).
    pub channels: Option<usize>,
    /// The encoding of [`encoded`](Self::encoded).
    pub format: ImageFormat,
    /// The encoded image as logged.
    pub encoded: Vec<u8>,
}

/// An image's pixels, decoded.
#[cfg(feature = "png")]
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Pixels {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Channels per pixel: 1 grey, 2 grey and alpha, 3 RGB, 4 RGBA.
    pub channels: usize,
    /// `height × width × channels` 8-bit values, row-major from the top
    /// left with interleaved channels (16-bit images are cut to their
    /// high byte, palettes expanded to RGB or RGBA).
    pub data: Vec<u8>,
}

impl Image {
    /// Builds an image from its encoded bytes and its size as logged.
    fn new(width: usize, height: usize, channels: Option<usize>, encoded: Vec<u8>) -> Self {
        let format = format_of(&encoded);
        let channels = match format {
            ImageFormat::Png => png_channels(&encoded).or(channels),
            _ => channels,
        };
        Image {
            width,
            height,
            channels,
            format,
            encoded,
        }
    }

    /// For a GIF (a video), how many frames it holds; `None` for other
    /// formats or a GIF too damaged to walk.
    pub fn frame_count(&self) -> Option<usize> {
        match self.format {
            ImageFormat::Gif => gif_frame_count(&self.encoded),
            _ => None,
        }
    }

    /// Decodes a PNG image's pixels. Other formats, and a PNG that does not
    /// decode, are an error saying why.
    #[cfg(feature = "png")]
    pub fn pixels(&self) -> Result<Pixels, String> {
        if self.format != ImageFormat::Png {
            return Err(format!(
                "a {:?} image; only PNG images are decoded",
                self.format
            ));
        }
        let mut decoder = png::Decoder::new(std::io::Cursor::new(&self.encoded));
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
        let size = reader
            .output_buffer_size()
            .ok_or("the PNG is too large to decode")?;
        let channels = reader.output_color_type().0.samples();
        let mut data = vec![0; size];
        let info = reader.next_frame(&mut data).map_err(|e| e.to_string())?;
        data.truncate(info.buffer_size());
        Ok(Pixels {
            width: info.width as usize,
            height: info.height as usize,
            channels,
            data,
        })
    }
}

/// The images of one value in TensorFlow 2's form: `[width, height,
/// image, image, ...]` as strings.
pub(crate) fn from_tensor(tensor: &TensorProto) -> Result<Vec<Image>, TensorError> {
    let strings = tensor::strings(tensor)?;
    let [width, height, images @ ..] = strings else {
        return tensor::error(format!(
            "{} strings, expected a width, a height and the images",
            strings.len()
        ));
    };
    let number = |bytes: &[u8], what: &str| -> Result<usize, TensorError> {
        std::str::from_utf8(bytes)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                let text = String::from_utf8_lossy(bytes);
                TensorError(format!("the {what} {text:?} is not a number"))
            })
    };
    let (width, height) = (number(width, "width")?, number(height, "height")?);
    Ok(images
        .iter()
        .map(|encoded| Image::new(width, height, None, encoded.clone()))
        .collect())
}

/// The image of a legacy `Summary.Image`.
pub(crate) fn from_legacy(image: &summary::Image) -> Result<Image, TensorError> {
    let size = |v: i32, what: &str| {
        usize::try_from(v).map_err(|_| TensorError(format!("the {what} {v} is negative")))
    };
    // colorspace: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA, 5 DigitalYUV, 6 BGRA.
    let channels = match image.colorspace {
        c @ 1..=4 => Some(c as usize),
        5 => Some(3),
        6 => Some(4),
        _ => None,
    };
    Ok(Image::new(
        size(image.width, "width")?,
        size(image.height, "height")?,
        channels,
        image.encoded_image_string.clone(),
    ))
}

fn format_of(bytes: &[u8]) -> ImageFormat {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        ImageFormat::Png
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        ImageFormat::Gif
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        ImageFormat::Jpeg
    } else {
        ImageFormat::Other
    }
}

/// Channels from a PNG's IHDR colour type (byte 25 of the file).
fn png_channels(png: &[u8]) -> Option<usize> {
    if png.get(12..16) != Some(b"IHDR") {
        return None;
    }
    match png.get(25)? {
        0 => Some(1),
        2 | 3 => Some(3),
        4 => Some(2),
        6 => Some(4),
        _ => None,
    }
}

/// Counts the image descriptors of a GIF by walking its blocks.
fn gif_frame_count(gif: &[u8]) -> Option<usize> {
    // Header (6), logical screen descriptor (7), global colour table.
    let flags = *gif.get(10)?;
    let mut at = 13
        + if flags & 0x80 != 0 {
            3 << ((flags & 7) + 1)
        } else {
            0
        };
    let skip_sub_blocks = |mut at: usize| -> Option<usize> {
        loop {
            let len = usize::from(*gif.get(at)?);
            at += 1 + len;
            if len == 0 {
                return Some(at);
            }
        }
    };
    let mut frames = 0;
    loop {
        match *gif.get(at)? {
            // Extension: label, then data sub-blocks.
            0x21 => at = skip_sub_blocks(at + 2)?,
            // Image descriptor (10 bytes), local colour table, LZW code
            // size, then data sub-blocks.
            0x2c => {
                let flags = *gif.get(at + 9)?;
                at += 10;
                if flags & 0x80 != 0 {
                    at += 3 << ((flags & 7) + 1);
                }
                at = skip_sub_blocks(at + 1)?;
                frames += 1;
            }
            0x3b => return Some(frames),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_signatures() {
        assert_eq!(format_of(b"GIF89a..."), ImageFormat::Gif);
        assert_eq!(format_of(&[0xff, 0xd8, 0xff, 0xe0]), ImageFormat::Jpeg);
        assert_eq!(format_of(b"BM"), ImageFormat::Other);
    }

    #[test]
    fn legacy_colorspace_gives_channels() {
        let image = summary::Image {
            width: 3,
            height: 2,
            colorspace: 4,
            encoded_image_string: b"not an image".to_vec(),
        };
        let image = from_legacy(&image).unwrap();
        assert_eq!((image.width, image.height), (3, 2));
        assert_eq!(image.channels, Some(4));
        assert_eq!(image.format, ImageFormat::Other);
    }

    #[test]
    fn a_tensor_without_its_size_is_an_error() {
        let tensor = TensorProto {
            dtype: crate::proto::tensorflow::DataType::DtString as i32,
            string_val: vec![b"4".to_vec()],
            ..Default::default()
        };
        assert_eq!(
            from_tensor(&tensor).unwrap_err().0,
            "1 strings, expected a width, a height and the images"
        );
        let tensor = TensorProto {
            string_val: vec![b"4".to_vec(), b"x".to_vec()],
            ..tensor
        };
        assert_eq!(
            from_tensor(&tensor).unwrap_err().0,
            "the height \"x\" is not a number"
        );
    }
}
