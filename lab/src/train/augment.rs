//! On-the-fly augmentation (`--augment`): every training example is
//! transformed by its own seeded random draw before the step, labels with
//! their images.
//!
//! The geometric part is a dihedral transform (90° rotations, a transpose,
//! so flips too: all 8 symmetries of the square), exact on both tensors,
//! unless the orientation is kept (`--augment_symmetries false`: in
//! short-axis MRI the RV lies on one side of the LV, a cue a flip would
//! destroy), followed by a small random affine map (rotation, scale, shift) sampled
//! once as a grid: bilinear for the image, nearest-neighbour for the label,
//! so the label stays 0/1 and lands where the image content went. The
//! intensity jitter (gain and offset) touches the image only.

use rand::{Rng, SeedableRng};
use tch::{Kind, TchError, Tensor};

/// Largest affine rotation, in degrees either way.
pub const MAX_ROTATION_DEGREES: f64 = 10.0;
/// Largest relative zoom in or out.
pub const MAX_SCALE_CHANGE: f64 = 0.1;
/// Largest shift, as a fraction of the image side.
pub const MAX_SHIFT: f64 = 0.05;
/// Largest relative change of the image contrast.
pub const MAX_GAIN_CHANGE: f64 = 0.1;
/// Largest brightness offset, in the network's input units (raw / 1024).
pub const MAX_OFFSET: f64 = 0.05;

/// One example's transform.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Augmentation {
    /// Quarter turns (0–3), counter-clockwise in the displayed image.
    pub quarter_turns: i64,
    /// Swap rows and columns first (with the rotations: any flip).
    pub transpose: bool,
    /// Affine rotation in degrees.
    pub rotation_degrees: f64,
    /// Affine zoom (1 = none).
    pub scale: f64,
    /// Affine shift as fractions of the side (x, y).
    pub shift: (f64, f64),
    /// Intensity gain (1 = none).
    pub gain: f64,
    /// Intensity offset (0 = none).
    pub offset: f64,
}

impl Augmentation {
    /// The transform that changes nothing.
    pub const IDENTITY: Augmentation = Augmentation {
        quarter_turns: 0,
        transpose: false,
        rotation_degrees: 0.0,
        scale: 1.0,
        shift: (0.0, 0.0),
        gain: 1.0,
        offset: 0.0,
    };

    /// A random draw within the module's limits; without `symmetries` the
    /// image keeps its orientation (no rotation by quarter turns, no flip).
    pub fn random(rng: &mut impl Rng, symmetries: bool) -> Augmentation {
        let mut within = |limit: f64| rng.random_range(-limit..=limit);
        let rotation_degrees = within(MAX_ROTATION_DEGREES);
        let scale = 1.0 + within(MAX_SCALE_CHANGE);
        let shift = (within(MAX_SHIFT), within(MAX_SHIFT));
        let gain = 1.0 + within(MAX_GAIN_CHANGE);
        let offset = within(MAX_OFFSET);
        // Drawn either way, so that both settings share the affine and
        // intensity draws of a seed.
        let quarter_turns = rng.random_range(0..4);
        let transpose = rng.random_bool(0.5);
        Augmentation {
            quarter_turns: if symmetries { quarter_turns } else { 0 },
            transpose: symmetries && transpose,
            rotation_degrees,
            scale,
            shift,
            gain,
            offset,
        }
    }

    fn has_affine(&self) -> bool {
        self.rotation_degrees != 0.0 || self.scale != 1.0 || self.shift != (0.0, 0.0)
    }

    /// Applies the transform to one image `[1, 1, H, W]` (float) and its
    /// label `[1, H, W]` (class ids).
    pub fn apply(&self, image: &Tensor, label: &Tensor) -> Result<(Tensor, Tensor), TchError> {
        let mut image = image.shallow_clone();
        let mut label = label.f_unsqueeze(1)?.f_to_kind(image.kind())?;
        if self.transpose {
            image = image.f_transpose(2, 3)?;
            label = label.f_transpose(2, 3)?;
        }
        if self.quarter_turns != 0 {
            image = image.f_rot90(self.quarter_turns, [2, 3])?;
            label = label.f_rot90(self.quarter_turns, [2, 3])?;
        }
        if self.has_affine() {
            let grid = self.grid(&image)?;
            // Modes of grid_sampler_2d: 0 bilinear, 1 nearest; padding 0
            // (zeros): what leaves the frame becomes background.
            image = image.f_grid_sampler_2d(&grid, 0, 0, false)?;
            label = label.f_grid_sampler_2d(&grid, 1, 0, false)?;
        }
        if self.gain != 1.0 || self.offset != 0.0 {
            image = image.f_mul_scalar(self.gain)?.f_add_scalar(self.offset)?;
        }
        Ok((
            image.f_contiguous()?,
            label.f_squeeze_dim(1)?.f_to_kind(Kind::Int64)?,
        ))
    }

    /// The sampling grid: each output pixel's source position in the
    /// normalised coordinates of `grid_sampler_2d` (square images, so the
    /// rotation is the same in both axes).
    fn grid(&self, image: &Tensor) -> Result<Tensor, TchError> {
        let angle = self.rotation_degrees.to_radians();
        let (sin, cos) = angle.sin_cos();
        let inverse = 1.0 / self.scale;
        // Normalised coordinates span 2 per side, so a shift of a fraction
        // f of the side is 2f.
        let theta = [
            inverse * cos,
            -inverse * sin,
            -2.0 * self.shift.0,
            inverse * sin,
            inverse * cos,
            -2.0 * self.shift.1,
        ];
        let theta = Tensor::from_slice(&theta)
            .f_reshape([1, 2, 3])?
            .f_to_kind(image.kind())?
            .f_to_device(image.device())?;
        Tensor::f_affine_grid_generator(&theta, image.size(), false)
    }
}

/// Draws and applies augmentations per example, reproducibly: the draw
/// for example `i` of step `s` depends only on the seed, `s` and `i`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Augmenter {
    seed: u64,
    symmetries: bool,
}

impl Augmenter {
    /// An augmenter whose draws follow `seed`; `symmetries` adds the 8
    /// symmetries of the square to the affine and intensity changes.
    pub fn new(seed: u64, symmetries: bool) -> Augmenter {
        Augmenter { seed, symmetries }
    }

    /// The transform of example `index` in the batch of `step`.
    pub fn draw(&self, step: i64, index: usize) -> Augmentation {
        let key = self.seed
            ^ (step as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ (index as u64).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        Augmentation::random(&mut rand::rngs::StdRng::seed_from_u64(key), self.symmetries)
    }

    /// Images `[N, 1, H, W]` and labels `[N, H, W]` of `step`, each
    /// example transformed by its own draw.
    pub fn apply(
        &self,
        step: i64,
        images: &Tensor,
        labels: &Tensor,
    ) -> Result<(Tensor, Tensor), TchError> {
        let count = images.size()[0];
        let mut augmented_images = Vec::with_capacity(count as usize);
        let mut augmented_labels = Vec::with_capacity(count as usize);
        for i in 0..count {
            let (image, label) = self
                .draw(step, i as usize)
                .apply(&images.f_narrow(0, i, 1)?, &labels.f_narrow(0, i, 1)?)?;
            augmented_images.push(image);
            augmented_labels.push(label);
        }
        Ok((
            Tensor::f_cat(&augmented_images, 0)?,
            Tensor::f_cat(&augmented_labels, 0)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIDE: i64 = 32;

    /// An image and label of `SIDE`² pixels, both marking the same
    /// asymmetric set: an L-shaped block and, with `lone`, a lone pixel (so
    /// any wrong rotation, flip or shift of one against the other shows).
    /// Resampling can drop a lone pixel from the nearest-neighbour label
    /// while the bilinear image keeps a trace of it, so the affine test
    /// marks blocks only.
    fn marked(lone: bool) -> (Tensor, Tensor) {
        let mut label = vec![0i64; (SIDE * SIDE) as usize];
        for y in 8..20 {
            for x in 10..16 {
                label[(y * SIDE + x) as usize] = 1;
            }
        }
        for y in 16..20 {
            for x in 16..24 {
                label[(y * SIDE + x) as usize] = 1;
            }
        }
        if lone {
            label[(4 * SIDE + 27) as usize] = 1;
        }
        let label = Tensor::from_slice(&label).reshape([1, SIDE, SIDE]);
        let image = label.to_kind(Kind::Float).unsqueeze(1);
        (image, label)
    }

    fn values<T: tch::kind::Element>(t: &Tensor) -> Vec<T> {
        let flat = t.flatten(0, -1);
        let mut out = vec![T::ZERO; flat.numel()];
        let count = out.len();
        flat.copy_data(&mut out, count);
        out
    }

    #[test]
    fn dihedral_transforms_keep_every_marked_pixel_aligned() {
        let (image, label) = marked(true);
        let mut seen = std::collections::HashSet::new();
        for quarter_turns in 0..4 {
            for transpose in [false, true] {
                let augmentation = Augmentation {
                    quarter_turns,
                    transpose,
                    ..Augmentation::IDENTITY
                };
                let (image, label) = augmentation.apply(&image, &label).unwrap();
                assert_eq!(image.size(), [1, 1, SIDE, SIDE]);
                assert_eq!(label.size(), [1, SIDE, SIDE]);
                let image: Vec<f32> = values(&image);
                let label: Vec<i64> = values(&label);
                let marks: Vec<i64> = image.iter().map(|&v| v as i64).collect();
                assert_eq!(marks, label, "{quarter_turns} turns, transpose {transpose}");
                assert_eq!(label.iter().sum::<i64>(), 6 * 12 + 8 * 4 + 1);
                seen.insert(label);
            }
        }
        assert_eq!(seen.len(), 8, "the 8 symmetries give 8 different images");
    }

    #[test]
    fn random_affine_moves_labels_with_their_images() {
        let (image, label) = marked(false);
        let augmenter = Augmenter::new(11, true);
        let mut moved = 0;
        for step in 0..20 {
            let mut augmentation = augmenter.draw(step, 0);
            augmentation.gain = 1.0;
            augmentation.offset = 0.0;
            assert!(augmentation.rotation_degrees.abs() <= MAX_ROTATION_DEGREES);
            let (out_image, out_label) = augmentation.apply(&image, &label).unwrap();
            let out_image: Vec<f32> = values(&out_image);
            let out_label: Vec<i64> = values(&out_label);
            assert!(out_label.iter().all(|&l| l == 0 || l == 1));
            // Where the label's 3x3 neighbourhood is uniform, the bilinear
            // image is exactly that class: alignment to the pixel.
            let mut checked = 0;
            for y in 1..SIDE - 1 {
                for x in 1..SIDE - 1 {
                    let at = |dy: i64, dx: i64| out_label[((y + dy) * SIDE + x + dx) as usize];
                    let centre = at(0, 0);
                    let uniform = (-1..=1).all(|dy| (-1..=1).all(|dx| at(dy, dx) == centre));
                    if uniform {
                        let value = out_image[(y * SIDE + x) as usize];
                        assert!(
                            (value - centre as f32).abs() < 1e-5,
                            "step {step}: pixel ({x}, {y}) label {centre} image {value}"
                        );
                        checked += usize::from(centre == 1);
                    }
                }
            }
            assert!(
                checked > 20,
                "step {step}: only {checked} interior LV pixels"
            );
            moved += usize::from(out_label != values::<i64>(&label));
        }
        assert!(moved >= 18, "only {moved} of 20 draws changed the label");
    }

    #[test]
    fn without_symmetries_draws_keep_the_orientation_and_share_the_rest() {
        let with = Augmenter::new(7, true);
        let without = Augmenter::new(7, false);
        let mut turned = 0;
        for step in 0..64 {
            let a = with.draw(step, 0);
            let b = without.draw(step, 0);
            assert_eq!((b.quarter_turns, b.transpose), (0, false), "step {step}");
            assert_eq!(
                Augmentation {
                    quarter_turns: 0,
                    transpose: false,
                    ..a
                },
                b
            );
            turned += usize::from(a.quarter_turns != 0 || a.transpose);
        }
        assert!(turned > 40, "only {turned} of 64 draws used a symmetry");
    }

    #[test]
    fn intensity_jitter_leaves_labels_alone_and_draws_are_reproducible() {
        let (image, label) = marked(true);
        let jitter = Augmentation {
            gain: 1.1,
            offset: -0.05,
            ..Augmentation::IDENTITY
        };
        let (out_image, out_label) = jitter.apply(&image, &label).unwrap();
        assert!(out_label.equal(&label));
        assert!((out_image.double_value(&[0, 0, 8, 10]) - 1.05).abs() < 1e-6);
        assert!((out_image.double_value(&[0, 0, 0, 0]) + 0.05).abs() < 1e-6);

        let images = Tensor::cat(&[&image, &image], 0);
        let labels = Tensor::cat(&[&label, &label], 0);
        let a = Augmenter::new(3, true).apply(5, &images, &labels).unwrap();
        let b = Augmenter::new(3, true).apply(5, &images, &labels).unwrap();
        assert!(a.0.equal(&b.0) && a.1.equal(&b.1));
        assert_eq!(a.0.size(), [2, 1, SIDE, SIDE]);
        assert_ne!(
            Augmenter::new(3, true).draw(5, 0),
            Augmenter::new(3, true).draw(5, 1)
        );
        assert_ne!(
            Augmenter::new(3, true).draw(5, 0),
            Augmenter::new(4, true).draw(5, 0)
        );
    }
}
