//! PNG encoding for image summaries, and class maps drawn over a grey
//! image.

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ImageBuffer, ImageEncoder, Pixel, PixelWithColorType, RgbImage};

use super::SummaryError;

/// Fraction of the darkest and of the brightest pixels clipped by the
/// auto-contrast, so a few very bright pixels (fat, flow artefacts) do not
/// leave the heart dark.
const CONTRAST_CLIP: f64 = 0.01;

/// Encodes an 8-bit image (grey, grey+alpha, RGB or RGBA) as PNG, with the
/// fast deflate setting: summaries are written often and read rarely.
pub fn encode_png<P>(image: &ImageBuffer<P, Vec<u8>>) -> Result<Vec<u8>, image::ImageError>
where
    P: Pixel<Subpixel = u8> + PixelWithColorType,
{
    let mut png = Vec::with_capacity(image.as_raw().len() / 2 + 64);
    PngEncoder::new_with_quality(&mut png, CompressionType::Fast, FilterType::Sub).write_image(
        image.as_raw(),
        image.width(),
        image.height(),
        P::COLOR_TYPE,
    )?;
    Ok(png)
}

/// Draws a class map over a grey image: the usual way to look at a
/// segmentation.
///
/// `image` is `width × height` floats in row-major order, in any intensity
/// range: it is auto-contrasted to 0..=255 grey, clipping the darkest and
/// brightest 1 % of the finite pixels (non-finite pixels are black).
/// `classes` has one byte per pixel: 0 leaves the grey untouched, and class
/// `k ≥ 1` is `palette[k - 1]` alpha-blended over the grey with opacity
/// `alpha` (0 = invisible, 1 = opaque).
///
/// Mismatched lengths, and a class with no colour in the palette, are an
/// [`SummaryError::InvalidArgument`].
pub fn overlay_classes(
    image: &[f32],
    width: u32,
    height: u32,
    classes: &[u8],
    palette: &[[u8; 3]],
    alpha: f32,
) -> Result<RgbImage, SummaryError> {
    let n = width as usize * height as usize;
    let invalid = |what, reason| SummaryError::InvalidArgument {
        tag: "overlay".into(),
        what,
        reason,
    };
    for (what, len) in [("image", image.len()), ("classes", classes.len())] {
        if len != n {
            return Err(invalid(
                what,
                format!("{len} pixels, expected {width}×{height} = {n}"),
            ));
        }
    }
    if let Some(&class) = classes.iter().find(|&&c| usize::from(c) > palette.len()) {
        return Err(invalid(
            "classes",
            format!(
                "class {class}, but the palette has {} colours",
                palette.len()
            ),
        ));
    }
    let alpha = alpha.clamp(0.0, 1.0);
    let (low, high) = contrast_range(image);
    let scale = if high > low {
        255.0 / (high - low)
    } else {
        0.0
    };
    let mut out = RgbImage::new(width, height);
    for (i, pixel) in out.pixels_mut().enumerate() {
        let x = image[i];
        let grey = if x.is_finite() {
            ((x - low) * scale).clamp(0.0, 255.0)
        } else {
            0.0
        };
        pixel.0 = match classes[i] {
            0 => [grey.round() as u8; 3],
            class => palette[usize::from(class) - 1]
                .map(|c| ((1.0 - alpha) * grey + alpha * f32::from(c)).round() as u8),
        };
    }
    Ok(out)
}

/// The intensities mapped to black and white: the 1st and 99th percentile
/// of the finite pixels (min and max for tiny images).
fn contrast_range(image: &[f32]) -> (f32, f32) {
    let mut finite: Vec<f32> = image.iter().copied().filter(|x| x.is_finite()).collect();
    if finite.is_empty() {
        return (0.0, 0.0);
    }
    let last = finite.len() - 1;
    let low_rank = (last as f64 * CONTRAST_CLIP).round() as usize;
    let high_rank = (last as f64 * (1.0 - CONTRAST_CLIP)).round() as usize;
    let (_, &mut high, _) = finite.select_nth_unstable_by(high_rank, f32::total_cmp);
    let (_, &mut low, _) = finite[..=high_rank].select_nth_unstable_by(low_rank, f32::total_cmp);
    (low, high)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RED: [u8; 3] = [255, 0, 0];
    const GREEN: [u8; 3] = [0, 255, 0];

    #[test]
    fn classes_take_their_palette_colour() {
        // 2×2: black, white, black, white; classes 0, 1, 2, 1.
        let image = [0.0, 1.0, 0.0, 1.0];
        let out = overlay_classes(&image, 2, 2, &[0, 1, 2, 1], &[RED, GREEN], 0.5).unwrap();
        let blend = |grey: f32, c: u8| (0.5 * grey + 0.5 * c as f32).round() as u8;
        assert_eq!(out.get_pixel(0, 0).0, [0; 3]);
        assert_eq!(
            out.get_pixel(1, 0).0,
            [blend(255.0, 255), blend(255.0, 0), blend(255.0, 0)]
        );
        assert_eq!(out.get_pixel(0, 1).0, [0, blend(0.0, 255), 0]);
        assert_eq!(out.get_pixel(1, 1).0, [255, 128, 128]);
    }

    #[test]
    fn a_class_beyond_the_palette_is_rejected() {
        let err = overlay_classes(&[0.0; 4], 2, 2, &[0, 0, 3, 0], &[RED, GREEN], 0.5).unwrap_err();
        assert!(err.to_string().contains("class 3"), "{err}");
    }

    #[test]
    fn auto_contrast_clips_outliers() {
        // 200 pixels ramping 0..199 plus one huge outlier: the ramp still
        // spans (almost) the whole grey range.
        let mut image: Vec<f32> = (0..200).map(|i| i as f32).collect();
        image[199] = 1e9;
        let zeros = vec![0u8; 200];
        let out = overlay_classes(&image, 200, 1, &zeros, &[], 1.0).unwrap();
        assert_eq!(out.get_pixel(0, 0).0, [0; 3]);
        assert_eq!(out.get_pixel(199, 0).0, [255; 3]);
        assert!(out.get_pixel(100, 0).0[0] > 100);
    }

    #[test]
    fn flat_and_non_finite_images_do_not_panic() {
        let out = overlay_classes(&[3.0, 3.0, f32::NAN, 3.0], 2, 2, &[0; 4], &[], 1.0).unwrap();
        assert!(out.pixels().all(|p| p.0 == [0; 3]));
    }

    #[test]
    fn mismatched_lengths_are_rejected() {
        let err = overlay_classes(&[0.0; 4], 2, 2, &[0; 3], &[], 1.0).unwrap_err();
        assert!(matches!(
            err,
            SummaryError::InvalidArgument {
                what: "classes",
                ..
            }
        ));
    }

    #[test]
    fn png_round_trips() {
        let img = image::GrayImage::from_fn(5, 3, |x, y| image::Luma([(x * 10 + y) as u8]));
        let png = encode_png(&img).unwrap();
        let back = image::load_from_memory(&png).unwrap().into_luma8();
        assert_eq!(back, img);
    }
}
