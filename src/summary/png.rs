//! PNG encoding of raw 8-bit pixels, for image summaries.

use super::SummaryError;

/// Encodes `width × height` 8-bit pixels with `channels` interleaved
/// channels per pixel (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA), row-major
/// from the top-left, as PNG.
///
/// Uses fast deflate and the `Sub` filter: summaries are written often and
/// read rarely, so encoding speed matters more than size. A `pixels` length
/// other than `width * height * channels`, a channel count outside 1–4 and
/// a zero-sized image are an [`SummaryError::InvalidArgument`].
///
/// ```
/// let png = tbseg::summary::png::encode(2, 1, 3, &[255, 0, 0, 0, 0, 255])?;
/// assert_eq!(&png[1..4], b"PNG");
/// # Ok::<(), tbseg::summary::SummaryError>(())
/// ```
pub fn encode(
    width: u32,
    height: u32,
    channels: u8,
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
        return Err(invalid("size", format!("{width}x{height} has no pixels")));
    }
    let expected = width as usize * height as usize * usize::from(channels);
    if pixels.len() != expected {
        return Err(invalid(
            "pixels",
            format!(
                "{} bytes, expected {width}x{height}x{channels} = {expected}",
                pixels.len()
            ),
        ));
    }
    let failed = |e: png::EncodingError| SummaryError::ImageEncode {
        tag: "png".into(),
        message: e.to_string(),
    };
    let mut out = Vec::with_capacity(expected / 2 + 64);
    let mut encoder = png::Encoder::new(&mut out, width, height);
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
        for channels in 1..=4u8 {
            let pixels: Vec<u8> = (0..5 * 3 * u32::from(channels))
                .map(|i| (i * 17 % 256) as u8)
                .collect();
            let png = encode(5, 3, channels, &pixels).unwrap();
            let (info, back) = decode(&png);
            assert_eq!((info.width, info.height), (5, 3));
            assert_eq!(info.color_type.samples(), usize::from(channels));
            assert_eq!(back, pixels);
        }
    }

    #[test]
    fn bad_shapes_are_rejected() {
        let err = encode(2, 2, 3, &[0; 11]).unwrap_err();
        assert!(err.to_string().contains("expected 2x2x3 = 12"), "{err}");
        assert!(encode(2, 2, 5, &[0; 20]).is_err());
        assert!(encode(0, 2, 1, &[]).is_err());
    }
}
