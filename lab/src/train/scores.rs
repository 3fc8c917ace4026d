//! Evaluation metrics beyond the lab's: per-image Dice (mean and
//! distribution), IoU, and the Hausdorff distance between the predicted
//! and the true LV contour.
//!
//! The lab's Dice pools every pixel of the validation file, so large
//! basal slices dominate it; the per-image figures show how the small
//! apical ones fare, and the Hausdorff distance how far the worst contour
//! point strays.

/// Per-image scores of one predicted mask against its label (both 0/1
/// per pixel, row-major, `side`² pixels).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImageScore {
    /// `2·|P∩L| / (|P| + |L|)`; 1 when both masks are empty.
    pub dice: f64,
    /// `|P∩L| / |P∪L|`; 1 when both masks are empty.
    pub iou: f64,
    /// Symmetric Hausdorff distance in pixels between the two LV contours;
    /// `None` unless both masks have LV pixels.
    pub hausdorff: Option<f64>,
}

/// Scores `predicted` against `label`, square images of `side` pixels.
pub fn score_image(predicted: &[u8], label: &[u8], side: usize) -> ImageScore {
    let (mut both, mut either, mut p_count, mut l_count) = (0u64, 0u64, 0u64, 0u64);
    for (&p, &l) in predicted.iter().zip(label) {
        let (p, l) = (p != 0, l != 0);
        both += u64::from(p && l);
        either += u64::from(p || l);
        p_count += u64::from(p);
        l_count += u64::from(l);
    }
    let (dice, iou) = if either == 0 {
        (1.0, 1.0)
    } else {
        (
            2.0 * both as f64 / (p_count + l_count) as f64,
            both as f64 / either as f64,
        )
    };
    let hausdorff = hausdorff_distance(&contour(predicted, side), &contour(label, side));
    ImageScore {
        dice,
        iou,
        hausdorff,
    }
}

/// The contour of a mask: its pixels with a 4-neighbour outside the mask
/// or on the image border, as (x, y).
pub fn contour(mask: &[u8], side: usize) -> Vec<(i64, i64)> {
    let inside = |x: i64, y: i64| {
        x >= 0
            && y >= 0
            && (x as usize) < side
            && (y as usize) < side
            && mask[y as usize * side + x as usize] != 0
    };
    let mut points = Vec::new();
    for y in 0..side as i64 {
        for x in 0..side as i64 {
            if inside(x, y)
                && !(inside(x - 1, y) && inside(x + 1, y) && inside(x, y - 1) && inside(x, y + 1))
            {
                points.push((x, y));
            }
        }
    }
    points
}

/// `max(max_a min_b |a−b|, max_b min_a |a−b|)`; `None` when either set
/// is empty.
pub fn hausdorff_distance(a: &[(i64, i64)], b: &[(i64, i64)]) -> Option<f64> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let directed = |from: &[(i64, i64)], to: &[(i64, i64)]| {
        from.iter()
            .map(|&(x, y)| {
                to.iter()
                    .map(|&(u, v)| (x - u).pow(2) + (y - v).pow(2))
                    .min()
                    .unwrap_or(0)
            })
            .max()
            .unwrap_or(0)
    };
    let squared = directed(a, b).max(directed(b, a));
    Some((squared as f64).sqrt())
}

/// Per-image scores gathered over a validation file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImageScores {
    /// One score per image, in file order.
    pub images: Vec<ImageScore>,
}

impl ImageScores {
    /// Scores one more image.
    pub fn add(&mut self, predicted: &[u8], label: &[u8], side: usize) {
        self.images.push(score_image(predicted, label, side));
    }

    /// Every image's Dice, in file order.
    pub fn dices(&self) -> Vec<f64> {
        self.images.iter().map(|s| s.dice).collect()
    }

    /// Mean per-image Dice; NaN with no image.
    pub fn mean_dice(&self) -> f64 {
        mean(self.images.iter().map(|s| s.dice))
    }

    /// Mean per-image IoU; NaN with no image.
    pub fn mean_iou(&self) -> f64 {
        mean(self.images.iter().map(|s| s.iou))
    }

    /// Mean Hausdorff distance over the images where it is defined; NaN
    /// where it never is.
    pub fn mean_hausdorff(&self) -> f64 {
        mean(self.images.iter().filter_map(|s| s.hausdorff))
    }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    sum / count as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `side`² mask with the rectangle `x0..x1` × `y0..y1` set.
    fn rect(side: usize, x0: usize, x1: usize, y0: usize, y1: usize) -> Vec<u8> {
        let mut mask = vec![0u8; side * side];
        for y in y0..y1 {
            for x in x0..x1 {
                mask[y * side + x] = 1;
            }
        }
        mask
    }

    #[test]
    fn scores_of_known_masks() {
        // Label: 4x4 square at (2..6, 2..6); prediction: the same square
        // moved right by 2: 8 shared pixels of 16 each, union 24.
        let label = rect(10, 2, 6, 2, 6);
        let predicted = rect(10, 4, 8, 2, 6);
        let score = score_image(&predicted, &label, 10);
        assert_eq!(score.dice, 0.5);
        assert!((score.iou - 8.0 / 24.0).abs() < 1e-12);
        // Every contour point moves by 2 columns; the far sides are 2 apart.
        assert_eq!(score.hausdorff, Some(2.0));
        let perfect = score_image(&label, &label, 10);
        assert_eq!(
            (perfect.dice, perfect.iou, perfect.hausdorff),
            (1.0, 1.0, Some(0.0))
        );
        let empty = vec![0u8; 100];
        let missed = score_image(&empty, &label, 10);
        assert_eq!(
            (missed.dice, missed.iou, missed.hausdorff),
            (0.0, 0.0, None)
        );
        let nothing = score_image(&empty, &empty, 10);
        assert_eq!((nothing.dice, nothing.iou), (1.0, 1.0));
    }

    #[test]
    fn hausdorff_sees_a_far_stray_blob() {
        let label = rect(20, 2, 6, 2, 6);
        let mut predicted = label.clone();
        predicted[15 * 20 + 17] = 1; // a lone pixel at (17, 15)
        let score = score_image(&predicted, &label, 20);
        // Nearest label contour point to (17, 15) is (5, 5): √(144 + 100).
        assert!((score.hausdorff.unwrap() - 244f64.sqrt()).abs() < 1e-12);
        assert!(score.dice > 0.95);
    }

    #[test]
    fn contour_is_the_boundary_ring() {
        let mask = rect(6, 1, 5, 1, 5);
        let ring = contour(&mask, 6);
        assert_eq!(ring.len(), 12);
        assert!(!ring.contains(&(2, 2)) && ring.contains(&(1, 1)));
        // Touching the border counts as contour.
        assert_eq!(contour(&rect(3, 0, 3, 0, 3), 3).len(), 8);
    }

    #[test]
    fn summaries_average_images() {
        let mut scores = ImageScores::default();
        let label = rect(10, 2, 6, 2, 6);
        scores.add(&label, &label, 10);
        scores.add(&rect(10, 4, 8, 2, 6), &label, 10);
        scores.add(&[0; 100], &label, 10);
        assert_eq!(scores.dices(), vec![1.0, 0.5, 0.0]);
        assert_eq!(scores.mean_dice(), 0.5);
        assert_eq!(scores.mean_hausdorff(), 1.0);
        assert!(ImageScores::default().mean_dice().is_nan());
    }
}
