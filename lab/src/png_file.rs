//! PNG files in and out of the command line: `tbseg predict`'s input image,
//! its masks and overlays, and `tbseg data preview`'s slices. Built on the
//! `png` crate that tbseg's image summaries already use, rather than a
//! general image library the rest of the build does not need.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use anyhow::{bail, Context};

/// A PNG read as one grey value per pixel, row-major from the top-left.
#[derive(Clone, Debug, PartialEq)]
pub struct GrayPng {
    /// Pixels per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// 8-bit samples divided by 255; 16-bit samples divided by 1024, the
    /// scale of the lab's MRI intensities.
    pub values: Vec<f32>,
}

/// Rec. 709 luma weights in ten-thousandths, as image libraries turn colour
/// into grey (integer arithmetic, truncated).
const LUMA: [u32; 3] = [2126, 7152, 722];

/// Reads any PNG as grey values: grey as is, colour as its luma, alpha
/// ignored; palettes and samples under 8 bits are expanded to 8 bits first.
pub fn read_gray(path: &Path) -> anyhow::Result<GrayPng> {
    let not_png = || format!("{}: not a readable PNG", path.display());
    let file = File::open(path).with_context(not_png)?;
    let mut decoder = png::Decoder::new(BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().with_context(not_png)?;
    let Some(size) = reader.output_buffer_size() else {
        bail!("{}: PNG too large to decode", path.display());
    };
    let mut buffer = vec![0; size];
    let frame = reader.next_frame(&mut buffer).with_context(not_png)?;
    let bytes = &buffer[..frame.buffer_size()];
    let channels = frame.color_type.samples();
    let values = match frame.bit_depth {
        png::BitDepth::Sixteen => {
            let samples: Vec<u32> = bytes
                .chunks_exact(2)
                .map(|b| u32::from(u16::from_be_bytes([b[0], b[1]])))
                .collect();
            gray_samples(&samples, channels)
                .map(|v| v as f32 / 1024.0)
                .collect()
        }
        _ => {
            let samples: Vec<u32> = bytes.iter().map(|&b| u32::from(b)).collect();
            gray_samples(&samples, channels)
                .map(|v| v as f32 / 255.0)
                .collect()
        }
    };
    Ok(GrayPng {
        width: frame.width,
        height: frame.height,
        values,
    })
}

/// One grey sample per pixel of `channels` interleaved samples (1 grey,
/// 2 grey + alpha, 3 RGB, 4 RGBA).
fn gray_samples(samples: &[u32], channels: usize) -> impl Iterator<Item = u32> + '_ {
    samples.chunks_exact(channels).map(move |pixel| {
        if channels >= 3 {
            (LUMA[0] * pixel[0] + LUMA[1] * pixel[1] + LUMA[2] * pixel[2]) / 10_000
        } else {
            pixel[0]
        }
    })
}

/// Writes `height × width` 8-bit pixels of `channels` interleaved samples
/// as a PNG, through tbseg's atomic writer: a killed or failing run never
/// leaves a half-written file under the name.
pub fn write(
    path: &Path,
    height: usize,
    width: usize,
    channels: usize,
    pixels: &[u8],
) -> anyhow::Result<()> {
    let png = tbseg::summary::png::encode(height, width, channels, pixels)
        .with_context(|| format!("encoding {}", path.display()))?;
    tbseg::atomic::write(path, &png).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(
        width: u32,
        height: u32,
        color: png::ColorType,
        depth: png::BitDepth,
        data: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(color);
        encoder.set_depth(depth);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(data).unwrap();
        writer.finish().unwrap();
        out
    }

    fn read(bytes: &[u8]) -> GrayPng {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.png");
        std::fs::write(&path, bytes).unwrap();
        read_gray(&path).unwrap()
    }

    #[test]
    fn grey_8_and_16_bit_keep_their_scales() {
        let eight = read(&encoded(
            2,
            1,
            png::ColorType::Grayscale,
            png::BitDepth::Eight,
            &[0, 255],
        ));
        assert_eq!((eight.width, eight.height), (2, 1));
        assert_eq!(eight.values, vec![0.0, 1.0]);
        // 16-bit samples are big-endian: 1024 and 512.
        let sixteen = read(&encoded(
            2,
            1,
            png::ColorType::Grayscale,
            png::BitDepth::Sixteen,
            &[4, 0, 2, 0],
        ));
        assert_eq!(sixteen.values, vec![1.0, 0.5]);
    }

    #[test]
    fn colour_becomes_luma_and_alpha_is_ignored() {
        let rgba = read(&encoded(
            3,
            1,
            png::ColorType::Rgba,
            png::BitDepth::Eight,
            &[255, 0, 0, 7, 0, 255, 0, 7, 255, 255, 255, 0],
        ));
        let expected: Vec<f32> = [54.0, 182.0, 255.0].iter().map(|v| v / 255.0).collect();
        assert_eq!(rgba.values, expected);
    }

    #[test]
    fn one_bit_grey_expands_to_full_scale() {
        // 1-bit samples packed high bit first: 1, 0, 1, 0.
        let bits = read(&encoded(
            4,
            1,
            png::ColorType::Grayscale,
            png::BitDepth::One,
            &[0b1010_0000],
        ));
        assert_eq!(bits.values, vec![1.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn written_pixels_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.png");
        write(&path, 1, 3, 1, &[0, 51, 255]).unwrap();
        let back = read_gray(&path).unwrap();
        assert_eq!(back.values, vec![0.0, 0.2, 1.0]);
    }

    #[test]
    fn a_file_that_is_not_png_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.png");
        std::fs::write(&path, b"not an image").unwrap();
        let message = format!("{:#}", read_gray(&path).unwrap_err());
        assert!(
            message.contains("notes.png: not a readable PNG"),
            "{message}"
        );
    }
}
