//! The lab's prediction overlay: an MRI slice with the ground-truth and
//! predicted LV masks drawn over it in three colours.

use tbseg::summary::{overlay_classes, Image, SummaryError};

/// Overlay colour of pixels only the ground truth marks (missed: green).
pub const OVERLAY_TRUTH: [u8; 3] = [0, 255, 0];
/// Overlay colour of pixels only the prediction marks (false alarm: red).
pub const OVERLAY_PREDICTED: [u8; 3] = [255, 0, 0];
/// Overlay colour of pixels both masks mark (agreement: yellow).
pub const OVERLAY_BOTH: [u8; 3] = [255, 255, 0];
/// Opacity of the overlay colours over the grey MRI slice.
pub const OVERLAY_ALPHA: f32 = 0.45;

/// Draws an MRI slice with a ground-truth and a predicted mask over it.
///
/// `image` is `height × width` floats in row-major order, auto-contrasted
/// to grey (see [`overlay_classes`]). Each mask has one byte per pixel;
/// non-zero means "inside". Colours, alpha-blended at [`OVERLAY_ALPHA`]:
/// yellow ([`OVERLAY_BOTH`]) in both masks, green ([`OVERLAY_TRUTH`]) in
/// the ground truth only (missed), red ([`OVERLAY_PREDICTED`]) in the
/// prediction only (false positive), plain grey elsewhere.
///
/// Mismatched lengths are an [`SummaryError::InvalidArgument`].
pub fn overlay(
    image: &[f32],
    height: usize,
    width: usize,
    truth: &[u8],
    predicted: &[u8],
) -> Result<Image, SummaryError> {
    if truth.len() != predicted.len() {
        return Err(SummaryError::InvalidArgument {
            tag: "overlay".into(),
            what: "predicted",
            reason: format!(
                "{} pixels, but the ground truth has {}",
                predicted.len(),
                truth.len()
            ),
        });
    }
    let classes: Vec<u8> = truth
        .iter()
        .zip(predicted)
        .map(|(&t, &p)| u8::from(t != 0) | (u8::from(p != 0) << 1))
        .collect();
    overlay_classes(
        image,
        height,
        width,
        &classes,
        &[OVERLAY_TRUTH, OVERLAY_PREDICTED, OVERLAY_BOTH],
        OVERLAY_ALPHA,
    )
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
        assert_eq!(
            out.pixel(0, 0).unwrap(),
            [blend(0.0, 255), blend(0.0, 255), 0]
        );
        // truth only, on white
        assert_eq!(
            out.pixel(0, 1).unwrap(),
            [blend(255.0, 0), 255, blend(255.0, 0)]
        );
        // prediction only, on black
        assert_eq!(out.pixel(1, 0).unwrap(), [blend(0.0, 255), 0, 0]);
        // neither, white
        assert_eq!(out.pixel(1, 1).unwrap(), [255, 255, 255]);
    }

    #[test]
    fn mismatched_masks_are_rejected() {
        let err = overlay(&[0.0; 4], 2, 2, &[0; 4], &[0; 3]).unwrap_err();
        assert!(matches!(
            err,
            SummaryError::InvalidArgument {
                what: "predicted",
                ..
            }
        ));
    }
}
