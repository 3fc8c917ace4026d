//! PNG encoding of raw 8-bit pixels, for image summaries.

use super::SummaryError;

/// The largest side, in pixels, that the PNG format can store (2^31 - 1).
const MAX_SIDE: u32 = (1 << 31) - 1;

/// Encodes `height × width` 8-bit pixels with `channels` interleaved
/// channels per pixel (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA), row-major
/// from the top-left, as PNG.
///
/// Uses fast deflate and the `Sub` filter: summaries are written often and
/// read rarely, so encoding speed matters more than size. A `pixels` length
/// other than `height * width * channels`, a channel count outside 1–4, a
/// zero-sized image and a side over PNG's limit of 2^31 - 1 pixels are an
/// [`SummaryError::InvalidArgument`].
///
/// ```
/// // One row of two RGB pixels: red, blue.
/// let png = tbseg::summary::png::encode(1, 2, 3, &[255, 0, 0, 0, 0, 255])?;
/// assert_eq!(&png[1..4], b"PNG");
/// # Ok::<(), tbseg::summary::SummaryError>(())
/// ```
pub fn encode(
    height: usize,
    width: usize,
    channels: usize,
    pixels: &[u8],
) -> Result<Vec<u8>, SummaryError> {
    let invalid = |what, reason| SummaryError::InvalidArgument {
        tag: "png".into(),
        what,
        reason,
    };
    let color = match channels {
        1 => png::ColorType::Grayscale,
        2 => png::ColorType::GrayscaleAlpha,
        3 => png::ColorType::Rgb,
        4 => png::ColorType::Rgba,
        _ => {
            return Err(invalid(
                "channels",
                format!("{channels}, expected 1, 2, 3 or 4"),
            ))
        }
    };
    if width == 0 || height == 0 {
        return Err(invalid(
            "size",
            format!("{height}x{width} (height x width) has no pixels"),
        ));
    }
    let side = |n: usize| u32::try_from(n).ok().filter(|&n| n <= MAX_SIDE);
    let (Some(png_width), Some(png_height)) = (side(width), side(height)) else {
        return Err(invalid(
            "size",
            format!("{height}x{width} (height x width), expected sides of at most {MAX_SIDE}"),
        ));
    };
    let expected = height
        .checked_mul(width)
        .and_then(|n| n.checked_mul(channels));
    if expected != Some(pixels.len()) {
        return Err(invalid(
            "pixels",
            format!(
                "{} bytes, expected {height}x{width}x{channels} (height x width x channels)",
                pixels.len()
            ),
        ));
    }
    let failed = |e: png::EncodingError| SummaryError::ImageEncode {
        tag: "png".into(),
        message: e.to_string(),
    };
    let mut out = Vec::with_capacity(pixels.len() / 2 + 64);
    let mut encoder = png::Encoder::new(&mut out, png_width, png_height);
    encoder.set_color(color);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    encoder.set_filter(png::Filter::Sub);
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(pixels).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(png: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info, buf)
    }

    #[test]
    fn every_channel_count_round_trips() {
        for channels in 1..=4usize {
            let pixels: Vec<u8> = (0..5 * 3 * channels)
                .map(|i| (i * 17 % 256) as u8)
                .collect();
            let png = encode(3, 5, channels, &pixels).unwrap();
            let (info, back) = decode(&png);
            assert_eq!((info.width, info.height), (5, 3));
            assert_eq!(info.color_type.samples(), channels);
            assert_eq!(back, pixels);
        }
    }

    #[test]
    fn bad_shapes_are_rejected() {
        let err = encode(2, 2, 3, &[0; 11]).unwrap_err();
        assert!(
            err.to_string()
                .contains("expected 2x2x3 (height x width x channels)"),
            "{err}"
        );
        assert!(encode(2, 2, 5, &[0; 20]).is_err());
        assert!(encode(2, 2, 259, &[0; 12]).is_err());
        assert!(encode(0, 2, 1, &[]).is_err());
        // Sizes PNG cannot store, or whose product overflows, allocate
        // nothing.
        let err = encode(1 << 31, 1 << 31, 4, &[]).unwrap_err();
        assert!(err.to_string().contains("at most 2147483647"), "{err}");
        assert!(encode(1 << 30, 1 << 30, 4, &[]).is_err());
    }
}
