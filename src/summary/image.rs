//! PNG encoding for image summaries, and the segmentation overlay.

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ImageBuffer, ImageEncoder, Pixel, PixelWithColorType, RgbImage};

use super::SummaryError;

/// Overlay colour of pixels only the ground truth marks (missed: green).
pub const OVERLAY_TRUTH: [u8; 3] = [0, 255, 0];
/// Overlay colour of pixels only the prediction marks (false alarm: red).
pub const OVERLAY_PREDICTED: [u8; 3] = [255, 0, 0];
/// Overlay colour of pixels both masks mark (agreement: yellow).
pub const OVERLAY_BOTH: [u8; 3] = [255, 255, 0];
/// Opacity of the overlay colours over the grey MRI slice.
pub const OVERLAY_ALPHA: f32 = 0.45;

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

/// Draws an MRI slice with a ground-truth and a predicted mask over it.
///
/// `image` is `width × height` floats in row-major order, in any intensity
/// range: it is auto-contrasted to 0..=255 grey, clipping the darkest and
/// brightest 1 % of the finite pixels (non-finite pixels are black). Each
/// mask has one byte per pixel; non-zero means "inside".
///
/// Colours, alpha-blended at [`OVERLAY_ALPHA`] over the grey:
/// - yellow ([`OVERLAY_BOTH`]): in both masks (correct);
/// - green ([`OVERLAY_TRUTH`]): ground truth only (missed);
/// - red ([`OVERLAY_PREDICTED`]): prediction only (false positive);
/// - untouched grey elsewhere.
///
/// Mismatched lengths are an [`SummaryError::InvalidArgument`].
pub fn overlay(
    image: &[f32],
    width: u32,
    height: u32,
    truth: &[u8],
    predicted: &[u8],
) -> Result<RgbImage, SummaryError> {
    let n = width as usize * height as usize;
    for (what, len) in [
        ("image", image.len()),
        ("truth", truth.len()),
        ("predicted", predicted.len()),
    ] {
        if len != n {
            return Err(SummaryError::InvalidArgument {
                tag: "overlay".into(),
                what,
                reason: format!("{len} pixels, expected {width}×{height} = {n}"),
            });
        }
    }
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
        let colour = match (truth[i] != 0, predicted[i] != 0) {
            (true, true) => Some(OVERLAY_BOTH),
            (true, false) => Some(OVERLAY_TRUTH),
            (false, true) => Some(OVERLAY_PREDICTED),
            (false, false) => None,
        };
        pixel.0 = match colour {
            None => [grey.round() as u8; 3],
            Some(c) => c.map(|c| {
                ((1.0 - OVERLAY_ALPHA) * grey + OVERLAY_ALPHA * f32::from(c)).round() as u8
            }),
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

    #[test]
    fn overlay_colours_follow_the_masks() {
        // 2×2: black, white, black, white; masks cover all four cases.
        let image = [0.0, 1.0, 0.0, 1.0];
        let truth = [1, 1, 0, 0];
        let predicted = [1, 0, 1, 0];
        let out = overlay(&image, 2, 2, &truth, &predicted).unwrap();
        let blend = |grey: f32, c: u8| {
            ((1.0 - OVERLAY_ALPHA) * grey + OVERLAY_ALPHA * c as f32).round() as u8
        };
        // both, on black
        assert_eq!(out.get_pixel(0, 0).0, [blend(0.0, 255), blend(0.0, 255), 0]);
        // truth only, on white
        assert_eq!(
            out.get_pixel(1, 0).0,
            [blend(255.0, 0), 255, blend(255.0, 0)]
        );
        // prediction only, on black
        assert_eq!(out.get_pixel(0, 1).0, [blend(0.0, 255), 0, 0]);
        // neither, white
        assert_eq!(out.get_pixel(1, 1).0, [255, 255, 255]);
    }

    #[test]
    fn auto_contrast_clips_outliers() {
        // 200 pixels ramping 0..199 plus one huge outlier: the ramp still
        // spans (almost) the whole grey range.
        let mut image: Vec<f32> = (0..200).map(|i| i as f32).collect();
        image[199] = 1e9;
        let zeros = vec![0u8; 200];
        let out = overlay(&image, 200, 1, &zeros, &zeros).unwrap();
        assert_eq!(out.get_pixel(0, 0).0, [0; 3]);
        assert_eq!(out.get_pixel(199, 0).0, [255; 3]);
        assert!(out.get_pixel(100, 0).0[0] > 100);
    }

    #[test]
    fn flat_and_non_finite_images_do_not_panic() {
        let out = overlay(&[3.0, 3.0, f32::NAN, 3.0], 2, 2, &[0; 4], &[0; 4]).unwrap();
        assert!(out.pixels().all(|p| p.0 == [0; 3]));
    }

    #[test]
    fn mismatched_lengths_are_rejected() {
        let err = overlay(&[0.0; 4], 2, 2, &[0; 3], &[0; 4]).unwrap_err();
        assert!(matches!(
            err,
            SummaryError::InvalidArgument { what: "truth", .. }
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
