//! Deterministic synthetic short-axis cardiac MRI slices with an LV label.
//!
//! The Sunnybrook images the lab trains on cannot be redistributed, so the
//! lab runs on slices drawn here instead. Each slice is a 256×256 cine-SSFP
//! look-alike: an elliptical torso with a bright subcutaneous fat ring,
//! dark lungs, liver, spine and descending aorta, and the heart in the
//! middle — a bright LV blood pool inside a darker myocardial ring of
//! varying thickness, with papillary muscles, and an RV crescent beside it.
//! Shapes are ellipses whose boundary is perturbed by a few low-frequency
//! harmonics; a smooth multiplicative bias field, a tissue texture, and
//! Rician noise are added, and every intensity, size and position varies
//! from slice to slice.
//!
//! The label is the LV blood pool (inside the endocardium), made the way
//! the lab makes Sunnybrook labels: the endocardial contour's float
//! vertices are truncated toward zero and filled with
//! [`fill_poly`]. On average it covers about 2 %
//! of the image (1–3 % is the lab's regime: "less than 2 percent of all
//! pixels" in the original tutorial).
//!
//! Determinism: slice `i` of seed `s` depends only on `(s, i)` through a
//! self-contained SplitMix64 generator (no `rand` crate version can change
//! it). Same seed and indices give byte-identical files on one platform;
//! the generator uses `f64` `sin`/`exp`/`atan2`, whose last bit may differ
//! between C libraries, so a different platform may differ by one raw unit
//! in rare pixels.

use std::f64::consts::{PI, TAU};

use super::polygon::{fill_poly, Point};
use super::{LabSlice, PIXELS, SIZE};

/// First slice index of validation sets ([`ensure_synthetic`] and
/// `tbseg data synth`); training sets start at 0. Keeping the two ranges
/// far apart means the validation set never changes when the training set
/// grows, and the two never share a slice.
///
/// [`ensure_synthetic`]: super::ensure_synthetic
pub const VAL_FIRST_INDEX: u64 = 1_000_000;

/// Default seed of `tbseg data synth` and the lab commands (the lab's
/// conversion script seeds its shuffle with 1234 too).
pub const DEFAULT_SEED: u64 = 1234;

/// Generates `count` slices: indices `first_index .. first_index + count`.
pub fn generate(seed: u64, count: usize, first_index: u64) -> Vec<LabSlice> {
    iter(seed, count, first_index).collect()
}

/// Like [`generate`], in order, for streaming to a file (made on every
/// core, see [`super::synthetic_slices`]).
pub fn iter(seed: u64, count: usize, first_index: u64) -> impl Iterator<Item = LabSlice> {
    super::synthetic_slices(super::SynthStyle::Classic, seed, count, first_index, 1.0)
}

/// Generates slice `index` of `seed`.
pub fn generate_slice(seed: u64, index: u64) -> LabSlice {
    let mut rng = SplitMix64::new(slice_seed(seed, index));
    let scene = Scene::draw(&mut rng);
    let label = scene.label();
    let image = scene.render(&mut rng);
    LabSlice { image, label }
}

/// The per-slice generator seed: `seed ^ index`, spread by the golden
/// ratio so that neighbouring indices start far apart.
pub fn slice_seed(seed: u64, index: u64) -> u64 {
    seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for
/// drawing shapes and noise.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Standard normal (Box–Muller; one of the pair is discarded so the
    /// stream stays simple).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1], safe for ln
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
    }
}

/// An ellipse whose boundary radius (in units of the semi-axes) is
/// `1 + Σ amp·cos(k·θ + phase)`.
#[derive(Debug, Clone)]
pub(crate) struct Blob {
    pub(crate) cx: f64,
    pub(crate) cy: f64,
    pub(crate) ax: f64,
    pub(crate) ay: f64,
    cos_r: f64,
    sin_r: f64,
    pub(crate) harmonics: Vec<(f64, f64, f64)>,
    /// Width of the soft edge in pixels (partial volume).
    pub(crate) edge: f64,
}

impl Blob {
    /// The mask of the polygon through `vertices` boundary points, as the
    /// lab makes a label from a contour file: float points truncated toward
    /// zero, then filled.
    pub(crate) fn contour_label(&self, vertices: usize) -> Vec<u8> {
        let contour: Vec<Point> = (0..vertices)
            .map(|i| {
                let (x, y) = self.boundary_point(TAU * i as f64 / vertices as f64);
                (x.trunc() as i32, y.trunc() as i32)
            })
            .collect();
        let mut label = vec![0u8; PIXELS];
        fill_poly(&contour, SIZE, SIZE, &mut label, 1);
        label
    }

    pub(crate) fn new(cx: f64, cy: f64, ax: f64, ay: f64, rotation: f64) -> Self {
        Blob {
            cx,
            cy,
            ax,
            ay,
            cos_r: rotation.cos(),
            sin_r: rotation.sin(),
            harmonics: Vec::new(),
            edge: 0.6,
        }
    }

    /// Adds harmonics 2.. up to `max_k` with amplitudes up to `amp`.
    pub(crate) fn wobble(mut self, rng: &mut SplitMix64, max_k: u32, amp: f64) -> Self {
        for k in 2..=max_k {
            let a = rng.range(0.0, amp) / f64::from(k - 1);
            self.harmonics.push((f64::from(k), a, rng.range(0.0, TAU)));
        }
        self
    }

    fn radius(&self, theta: f64) -> f64 {
        1.0 + self
            .harmonics
            .iter()
            .map(|&(k, a, p)| a * (k * theta + p).cos())
            .sum::<f64>()
    }

    fn max_radius(&self) -> f64 {
        1.0 + self.harmonics.iter().map(|h| h.1.abs()).sum::<f64>()
    }

    fn mean_axis(&self) -> f64 {
        0.5 * (self.ax + self.ay)
    }

    /// Approximate signed distance in pixels to the boundary grown by
    /// `grow` pixels (negative inside).
    fn distance(&self, x: f64, y: f64, grow: f64) -> f64 {
        let (dx, dy) = (x - self.cx, y - self.cy);
        let u = (dx * self.cos_r + dy * self.sin_r) / self.ax;
        let v = (-dx * self.sin_r + dy * self.cos_r) / self.ay;
        let rho = u.hypot(v);
        let theta = v.atan2(u);
        (rho - self.radius(theta)) * self.mean_axis() - grow
    }

    /// Soft coverage of pixel centre (x, y) by the blob grown by `grow`.
    fn coverage(&self, x: f64, y: f64, grow: f64) -> f64 {
        let d = self.distance(x, y, grow) / self.edge;
        if d > 8.0 {
            0.0
        } else if d < -8.0 {
            1.0
        } else {
            1.0 / (1.0 + d.exp())
        }
    }

    /// Pixel rows/columns the blob grown by `grow` can touch.
    fn bbox(&self, grow: f64) -> (usize, usize, usize, usize) {
        let r = self.ax.max(self.ay) * self.max_radius() + grow.max(0.0) + 6.0 * self.edge + 1.0;
        let clamp = |v: f64| v.clamp(0.0, (SIZE - 1) as f64) as usize;
        (
            clamp(self.cx - r),
            clamp(self.cx + r),
            clamp(self.cy - r),
            clamp(self.cy + r),
        )
    }

    /// The boundary point at parameter angle `theta`.
    pub(crate) fn boundary_point(&self, theta: f64) -> (f64, f64) {
        let r = self.radius(theta);
        let (u, v) = (r * theta.cos() * self.ax, r * theta.sin() * self.ay);
        (
            self.cx + u * self.cos_r - v * self.sin_r,
            self.cy + u * self.sin_r + v * self.cos_r,
        )
    }
}

/// Alpha-blends `value` into `img` where `blob` (grown by `grow`) covers,
/// optionally limited by a per-pixel `clip` weight.
pub(crate) fn paint(img: &mut [f64], blob: &Blob, grow: f64, value: f64, clip: Option<&[f64]>) {
    let (x0, x1, y0, y1) = blob.bbox(grow);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let i = y * SIZE + x;
            let mut m = blob.coverage(x as f64, y as f64, grow);
            if let Some(clip) = clip {
                m *= clip[i];
            }
            if m > 0.0 {
                img[i] += (value - img[i]) * m;
            }
        }
    }
}

/// Per-pixel coverage of `blob` grown by `grow` over the whole image.
pub(crate) fn coverage_map(blob: &Blob, grow: f64) -> Vec<f64> {
    let mut map = vec![0.0; PIXELS];
    paint(&mut map, blob, grow, 1.0, None);
    map
}

/// Intensities of one slice before gain, bias and noise.
#[derive(Debug, Clone)]
struct Tissue {
    fat: f64,
    muscle: f64,
    lung: f64,
    liver: f64,
    blood: f64,
    myocardium: f64,
    bone: f64,
    csf: f64,
}

/// Everything random about one slice, drawn up front.
#[derive(Debug, Clone)]
struct Scene {
    body: Blob,
    fat_thickness: f64,
    lungs: [Blob; 2],
    vessels: Vec<Blob>,
    liver: Blob,
    spine: Blob,
    canal: Blob,
    aorta: Blob,
    epicardial_fat: Vec<Blob>,
    rv: Blob,
    lv_epi: Blob,
    lv_endo: Blob,
    papillary: Vec<Blob>,
    contour_vertices: usize,
    tissue: Tissue,
    gain: f64,
    bias: [f64; 5],
    texture_amp: f64,
    noise_sigma: f64,
}

impl Scene {
    fn draw(rng: &mut SplitMix64) -> Self {
        let jitter = |rng: &mut SplitMix64, f: f64| rng.range(1.0 - f, 1.0 + f);

        // Torso: wider than deep, roughly centred.
        let bx = 128.0 + 6.0 * rng.normal();
        let by = 132.0 + 6.0 * rng.normal();
        let body = Blob::new(
            bx,
            by,
            rng.range(92.0, 118.0),
            rng.range(66.0, 86.0),
            rng.range(-0.08, 0.08),
        )
        .wobble(rng, 4, 0.05);
        let fat_thickness = rng.range(4.0, 11.0);

        // LV: area fraction uniform in [0.7 %, 3.3 %] (mean 2 %), basal
        // slices large, apical ones small. ax·ay = r², so the area is
        // about π r².
        let lv_fraction = rng.range(0.007, 0.033);
        let r = (lv_fraction * PIXELS as f64 / PI).sqrt();
        let ecc = rng.range(0.85, 1.2);
        let lx = bx + rng.range(4.0, 30.0);
        let ly = by + rng.range(-28.0, 4.0);
        let mut lv_endo = Blob::new(lx, ly, r * ecc.sqrt(), r / ecc.sqrt(), rng.range(0.0, PI))
            .wobble(rng, 5, 0.1);
        lv_endo.edge = 0.5;
        let wall = rng.range(5.0, 10.0);
        // The epicardium follows the endocardium's shape, grown by a wall
        // thickness that itself varies around the ring.
        let mut lv_epi = lv_endo.clone();
        lv_epi.ax += wall;
        lv_epi.ay += wall;
        lv_epi.harmonics = lv_endo
            .harmonics
            .iter()
            .map(|&(k, a, p)| (k, a * r / (r + wall), p))
            .collect();
        lv_epi
            .harmonics
            .push((1.0, rng.range(0.0, 0.12), rng.range(0.0, TAU)));
        let r_epi = r + wall;

        // RV: an ellipse beside the LV toward image left (patient right)
        // and slightly anterior; the LV covers part of it, leaving a
        // crescent.
        let dir = PI + rng.range(-0.05, 0.55);
        let dist = r_epi * rng.range(0.55, 0.9);
        let rv = Blob::new(
            lx + dist * dir.cos(),
            ly + dist * dir.sin(),
            r_epi * rng.range(0.75, 1.05),
            r_epi * rng.range(1.1, 1.5),
            dir,
        )
        .wobble(rng, 3, 0.08);

        // Epicardial fat: a few patches on the heart's surface (the
        // grooves), not a full ring.
        let patches = 2 + (rng.next_u64() % 3) as usize;
        let epicardial_fat = (0..patches)
            .map(|_| {
                let (fx, fy) = lv_epi.boundary_point(rng.range(0.0, TAU));
                let size = rng.range(2.5, 6.5);
                Blob::new(fx, fy, size * rng.range(1.0, 2.2), size, rng.range(0.0, PI))
                    .wobble(rng, 3, 0.2)
            })
            .collect();

        // Papillary muscles: two small dark blobs inside the cavity near
        // the free wall (inside the endocardial contour, so labelled LV).
        let mut papillary = Vec::new();
        for base in [0.6, 2.2] {
            let theta = base + rng.range(-0.3, 0.3);
            let (px, py) = lv_endo.boundary_point(theta);
            let size = rng.range(0.14, 0.26) * r;
            let pull = rng.range(0.08, 0.18);
            papillary.push(Blob::new(
                px + (lx - px) * pull,
                py + (ly - py) * pull,
                size,
                size * rng.range(0.7, 1.3),
                rng.range(0.0, PI),
            ));
        }

        let lungs = [
            // Image right (patient left), beyond the LV.
            Blob::new(
                lx + r_epi + rng.range(18.0, 30.0),
                ly + rng.range(-10.0, 12.0),
                rng.range(22.0, 36.0),
                rng.range(38.0, 56.0),
                rng.range(-0.4, 0.2),
            )
            .wobble(rng, 4, 0.12),
            // Image left (patient right), beyond the RV.
            Blob::new(
                rv.cx - rv.ax - rng.range(18.0, 32.0),
                ly + rng.range(-10.0, 12.0),
                rng.range(24.0, 38.0),
                rng.range(38.0, 58.0),
                rng.range(-0.2, 0.4),
            )
            .wobble(rng, 4, 0.12),
        ];

        // Pulmonary vessels: small grey dots inside the lungs.
        let mut vessels = Vec::new();
        for lung in &lungs {
            for _ in 0..(3 + rng.next_u64() % 5) {
                let (a, d) = (rng.range(0.0, TAU), rng.range(0.0, 0.75));
                let size = rng.range(1.0, 2.6);
                vessels.push(Blob::new(
                    lung.cx + d * lung.ax * a.cos(),
                    lung.cy + d * lung.ay * a.sin(),
                    size,
                    size * rng.range(0.7, 1.4),
                    0.0,
                ));
            }
        }

        let liver = Blob::new(
            bx - body.ax * rng.range(0.2, 0.45),
            by + body.ay * rng.range(0.35, 0.6),
            rng.range(35.0, 55.0),
            rng.range(25.0, 40.0),
            rng.range(-0.3, 0.3),
        )
        .wobble(rng, 3, 0.1);

        let spine_y = by + body.ay * rng.range(0.6, 0.72);
        let spine_x = bx + rng.range(-5.0, 5.0);
        let vertebra = rng.range(10.0, 14.0);
        let spine = Blob::new(spine_x, spine_y, vertebra, vertebra * 0.9, 0.0).wobble(rng, 3, 0.05);
        let canal = Blob::new(spine_x, spine_y + vertebra + 4.0, 4.5, 3.5, 0.0);
        let aorta_r = rng.range(6.0, 9.0);
        let aorta = Blob::new(
            spine_x + rng.range(10.0, 20.0),
            spine_y - vertebra - aorta_r * rng.range(0.2, 0.8),
            aorta_r,
            aorta_r,
            0.0,
        );

        let blood = rng.range(900.0, 1200.0);
        let tissue = Tissue {
            fat: rng.range(650.0, 900.0),
            muscle: rng.range(200.0, 300.0),
            lung: rng.range(25.0, 60.0),
            liver: rng.range(280.0, 380.0),
            blood,
            myocardium: rng.range(170.0, 260.0),
            bone: rng.range(300.0, 420.0),
            csf: rng.range(600.0, 900.0),
        };
        let gain = jitter(rng, 0.15);
        let bias = [
            rng.range(-0.25, 0.25),
            rng.range(-0.35, 0.1),
            rng.range(-0.1, 0.1),
            rng.range(-0.2, 0.05),
            rng.range(-0.2, 0.05),
        ];
        let perimeter = TAU * r;
        Scene {
            body,
            fat_thickness,
            lungs,
            vessels,
            liver,
            spine,
            canal,
            aorta,
            epicardial_fat,
            rv,
            lv_epi,
            lv_endo,
            papillary,
            contour_vertices: (perimeter.round() as usize).max(24),
            tissue,
            gain,
            bias,
            texture_amp: rng.range(0.08, 0.16),
            noise_sigma: rng.range(8.0, 22.0),
        }
    }

    fn label(&self) -> Vec<u8> {
        self.lv_endo.contour_label(self.contour_vertices)
    }

    fn render(&self, rng: &mut SplitMix64) -> Vec<i64> {
        let t = &self.tissue;
        let mut img = vec![0.0f64; PIXELS];
        // Torso: fat everywhere, then muscle/soft tissue inside the fat ring.
        paint(&mut img, &self.body, 0.0, t.fat, None);
        paint(&mut img, &self.body, -self.fat_thickness, t.muscle, None);
        let inner = coverage_map(&self.body, -self.fat_thickness - 4.0);
        paint(&mut img, &self.liver, 0.0, t.liver, Some(&inner));
        for lung in &self.lungs {
            paint(&mut img, lung, 0.0, t.lung, Some(&inner));
        }
        for vessel in &self.vessels {
            paint(&mut img, vessel, 0.0, t.muscle * 0.9, Some(&inner));
        }
        paint(&mut img, &self.spine, 2.0, t.muscle * 0.5, Some(&inner));
        paint(&mut img, &self.spine, 0.0, t.bone, Some(&inner));
        paint(&mut img, &self.canal, 0.0, t.csf, Some(&inner));
        paint(&mut img, &self.aorta, 1.5, t.myocardium, Some(&inner));
        paint(&mut img, &self.aorta, 0.0, t.blood * 0.95, Some(&inner));

        // Heart: fat around it, RV wall and blood, then the LV on top.
        for patch in &self.epicardial_fat {
            paint(&mut img, patch, 0.0, t.fat * 0.8, Some(&inner));
        }
        paint(&mut img, &self.rv, 2.5, t.myocardium, Some(&inner));
        let outside_lv: Vec<f64> = coverage_map(&self.lv_epi, 1.5)
            .iter()
            .zip(&inner)
            .map(|(c, i)| (1.0 - c) * i)
            .collect();
        paint(&mut img, &self.rv, 0.0, t.blood * 0.88, Some(&outside_lv));
        paint(&mut img, &self.lv_epi, 0.0, t.myocardium, None);
        paint(&mut img, &self.lv_endo, 0.0, t.blood, None);
        for muscle in &self.papillary {
            paint(&mut img, muscle, 0.0, t.myocardium * 1.1, None);
        }

        let img = blur3(&img);
        let texture = value_noise(rng, 12);
        let sigma = self.noise_sigma;
        let [b0, b1, b2, b3, b4] = self.bias;
        img.iter()
            .enumerate()
            .map(|(i, &v)| {
                let u = (i % SIZE) as f64 / (SIZE as f64 / 2.0) - 1.0;
                let w = (i / SIZE) as f64 / (SIZE as f64 / 2.0) - 1.0;
                let bias = (b0 * u + b1 * w + b2 * u * w + b3 * u * u + b4 * w * w).exp();
                let s = v * self.gain * bias * (1.0 + self.texture_amp * texture[i]);
                // Rician: magnitude of a complex signal with Gaussian noise
                // on both channels.
                let re = s + sigma * rng.normal();
                let im = sigma * rng.normal();
                (re.hypot(im).round() as i64).clamp(0, 4095)
            })
            .collect()
    }
}

/// 3×3 binomial blur (partial volume and the scanner's point spread).
fn blur3(img: &[f64]) -> Vec<f64> {
    let at = |x: isize, y: isize| {
        let x = x.clamp(0, SIZE as isize - 1) as usize;
        let y = y.clamp(0, SIZE as isize - 1) as usize;
        img[y * SIZE + x]
    };
    let mut out = vec![0.0; PIXELS];
    for y in 0..SIZE as isize {
        for x in 0..SIZE as isize {
            let mut acc = 0.0;
            for (dy, wy) in [(-1, 1.0), (0, 2.0), (1, 1.0)] {
                for (dx, wx) in [(-1, 1.0), (0, 2.0), (1, 1.0)] {
                    acc += wy * wx * at(x + dx, y + dy);
                }
            }
            out[y as usize * SIZE + x as usize] = acc / 16.0;
        }
    }
    out
}

/// Smooth noise in [-1, 1]: random values on a grid every `cell` pixels,
/// interpolated with a smoothstep.
pub(crate) fn value_noise(rng: &mut SplitMix64, cell: usize) -> Vec<f64> {
    let n = SIZE / cell + 2;
    let grid: Vec<f64> = (0..n * n).map(|_| rng.range(-1.0, 1.0)).collect();
    let smooth = |t: f64| t * t * (3.0 - 2.0 * t);
    let mut out = vec![0.0; PIXELS];
    for y in 0..SIZE {
        let (gy, fy) = (y / cell, smooth((y % cell) as f64 / cell as f64));
        for x in 0..SIZE {
            let (gx, fx) = (x / cell, smooth((x % cell) as f64 / cell as f64));
            let g = |i: usize, j: usize| grid[j * n + i];
            let top = g(gx, gy) + (g(gx + 1, gy) - g(gx, gy)) * fx;
            let bottom = g(gx, gy + 1) + (g(gx + 1, gy + 1) - g(gx, gy + 1)) * fx;
            out[y * SIZE + x] = top + (bottom - top) * fy;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_values() {
        // First outputs of SplitMix64 seeded with 0 (the reference C code).
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(rng.next_u64(), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn same_seed_same_slice_different_seed_differs() {
        let a = generate_slice(7, 3);
        assert_eq!(a, generate_slice(7, 3));
        assert_ne!(a.image, generate_slice(8, 3).image);
        assert_ne!(a.image, generate_slice(7, 4).image);
    }

    #[test]
    fn label_is_the_filled_contour_and_sits_on_bright_blood() {
        let s = generate_slice(1, 0);
        let inside: Vec<i64> = (0..PIXELS)
            .filter(|&i| s.label[i] == 1)
            .map(|i| s.image[i])
            .collect();
        let mean_inside = inside.iter().sum::<i64>() as f64 / inside.len() as f64;
        let mean_all = s.image.iter().sum::<i64>() as f64 / PIXELS as f64;
        assert!(mean_inside > 2.0 * mean_all, "{mean_inside} vs {mean_all}");
        assert!(s.image.iter().all(|&v| (0..=4095).contains(&v)));
    }
}
