//! Drawing bounding boxes on raw pixels, for tensorboardX's
//! `add_image_with_boxes`.

use super::SummaryError;

/// Red, the colour tensorboardX draws boxes in.
pub const DEFAULT_BOX_COLOR: [u8; 3] = [255, 0, 0];

/// Line width of the boxes, in pixels, as tensorboardX draws them.
pub const DEFAULT_BOX_THICKNESS: usize = 2;

/// Draws the outline of each box on `height × width` pixels of `channels`
/// interleaved channels (3 RGB or 4 RGBA; alpha is set to opaque on the
/// outline), in place.
///
/// Boxes are `[x_min, y_min, x_max, y_max]` in pixel coordinates (x to
/// the right, y down, both edges included), as tensorboardX takes them.
/// They are rounded to whole pixels and clipped to the image, and the
/// outline is `thickness` pixels wide, inside the box. A box with a
/// non-finite coordinate or a minimum above its maximum, a channel count
/// other than 3 or 4, and a pixel count other than `height × width ×
/// channels` are an [`SummaryError::InvalidArgument`], and nothing is
/// drawn.
pub fn draw_boxes(
    pixels: &mut [u8],
    height: usize,
    width: usize,
    channels: usize,
    boxes: &[[f32; 4]],
    color: [u8; 3],
    thickness: usize,
) -> Result<(), SummaryError> {
    let invalid = |what, reason| SummaryError::InvalidArgument {
        tag: "boxes".into(),
        what,
        reason,
    };
    if !matches!(channels, 3 | 4) {
        return Err(invalid("channels", format!("{channels}, expected 3 or 4")));
    }
    let (w, h, c) = (width, height, channels);
    if Some(pixels.len()) != h.checked_mul(w).and_then(|n| n.checked_mul(c)) {
        return Err(invalid(
            "pixels",
            format!(
                "{} bytes, expected {height}x{width}x{channels} (height x width x channels)",
                pixels.len()
            ),
        ));
    }
    for (i, b) in boxes.iter().enumerate() {
        if !b.iter().all(|x| x.is_finite()) || b[0] > b[2] || b[1] > b[3] {
            return Err(invalid(
                "boxes",
                format!("box {i} is {b:?}, expected finite [x_min, y_min, x_max, y_max] with min <= max"),
            ));
        }
    }
    if w == 0 || h == 0 {
        return Ok(());
    }
    let clip = |x: f32, size: usize| (x.round().max(0.0) as usize).min(size - 1);
    let mut paint = |x: usize, y: usize| {
        let at = (y * w + x) * c;
        pixels[at..at + 3].copy_from_slice(&color);
        if c == 4 {
            pixels[at + 3] = 255;
        }
    };
    for b in boxes {
        // Entirely outside the image: nothing to draw.
        if b[2] < -0.5 || b[3] < -0.5 || b[0] > w as f32 - 0.5 || b[1] > h as f32 - 0.5 {
            continue;
        }
        let (x0, y0, x1, y1) = (clip(b[0], w), clip(b[1], h), clip(b[2], w), clip(b[3], h));
        let t = thickness;
        for y in y0..=y1 {
            for x in x0..=x1 {
                let edge = y < y0.saturating_add(t)
                    || y.saturating_add(t) > y1
                    || x < x0.saturating_add(t)
                    || x.saturating_add(t) > x1;
                if edge {
                    paint(x, y);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The image as rows of '#' (box colour) and '.'.
    fn picture(pixels: &[u8], width: usize) -> Vec<String> {
        pixels
            .chunks(3 * width)
            .map(|row| {
                row.chunks(3)
                    .map(|p| if p == [255, 0, 0] { '#' } else { '.' })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn draws_outlines_clipped_to_the_image() {
        let mut pixels = vec![0u8; 8 * 6 * 3];
        draw_boxes(
            &mut pixels,
            6,
            8,
            3,
            &[
                [1.0, 1.0, 4.0, 3.0],
                [6.2, 4.0, 20.0, 30.0],
                [-9.0, -9.0, -5.0, -5.0],
            ],
            DEFAULT_BOX_COLOR,
            1,
        )
        .unwrap();
        assert_eq!(
            picture(&pixels, 8),
            [
                "........", //
                ".####...", ".#..#...", ".####...", "......##", "......##",
            ]
        );
    }

    #[test]
    fn thickness_grows_inwards_and_alpha_becomes_opaque() {
        let mut pixels = vec![0u8; 5 * 5 * 4];
        draw_boxes(&mut pixels, 5, 5, 4, &[[0.0, 0.0, 4.0, 4.0]], [1, 2, 3], 2).unwrap();
        // A thickness wider than the box fills it, without overflowing.
        let mut full = vec![0u8; 2 * 2 * 3];
        draw_boxes(
            &mut full,
            2,
            2,
            3,
            &[[0.0, 0.0, 1.0, 1.0]],
            [9, 9, 9],
            usize::MAX,
        )
        .unwrap();
        assert!(full.iter().all(|&p| p == 9));
        let centre = (2 * 5 + 2) * 4;
        assert_eq!(pixels[centre..centre + 4], [0, 0, 0, 0]);
        let inner = (5 + 1) * 4;
        assert_eq!(pixels[inner..inner + 4], [1, 2, 3, 255]);
    }

    #[test]
    fn bad_boxes_draw_nothing() {
        let mut pixels = vec![7u8; 4 * 4 * 3];
        let err = draw_boxes(
            &mut pixels,
            4,
            4,
            3,
            &[[0.0, 0.0, 1.0, 1.0], [3.0, 0.0, 1.0, 1.0]],
            DEFAULT_BOX_COLOR,
            1,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("box 1 is [3.0, 0.0, 1.0, 1.0]"),
            "{err}"
        );
        assert!(pixels.iter().all(|&p| p == 7));
        assert!(draw_boxes(&mut pixels, 4, 4, 1, &[], DEFAULT_BOX_COLOR, 1).is_err());
        assert!(draw_boxes(&mut pixels, 5, 4, 3, &[], DEFAULT_BOX_COLOR, 1).is_err());
        assert!(draw_boxes(&mut pixels, usize::MAX, 2, 3, &[], DEFAULT_BOX_COLOR, 1).is_err());
        assert!(draw_boxes(&mut pixels, 4, 4, 3, &[[f32::NAN; 4]], DEFAULT_BOX_COLOR, 1).is_err());
    }
}
