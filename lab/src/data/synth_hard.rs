//! The hard synthetic generator (`tbseg data synth --style hard`): slices
//! meant to be about as difficult as the lab's real Sunnybrook images.
//!
//! The classic generator ([`super::synth`]) draws every slice on its own,
//! with a bright LV that no other structure matches. Here:
//!
//! - slices come from **patients**, [`SLICES_PER_PATIENT`] each, from the
//!   base of the heart (index 0) to the apex (the last); a patient fixes the
//!   field of view (scale), the position and orientation of the heart, the
//!   tissue contrasts and overall intensity, the bias field, the noise
//!   level and the blur. Training slices (indices from 0) and validation
//!   slices (from [`super::synth::VAL_FIRST_INDEX`]) therefore never share a
//!   patient;
//! - the LV blood pool shrinks from about 2.5–3.5 % of the pixels at the
//!   base to a few tenths of a percent at the apex (1–2 % on average) and
//!   grows more irregular toward the apex;
//! - the RV, the great vessels at the base (aorta, pulmonary artery, left
//!   atrium), the descending aorta and the pulmonary vessels carry blood as
//!   bright as the LV's;
//! - papillary muscles and trabeculae (myocardium-dark) sit inside the LV
//!   cavity, and the label, the filled endocardial contour, includes them;
//! - a strong smooth bias field, a Gaussian blur of 0.7–1.5 pixels, tissue
//!   texture and Rician noise are applied, all scaled by the `difficulty`.
//!
//! Determinism is the classic generator's: slice `i` of seed `s` depends
//! only on `(s, i, difficulty)`.

use std::f64::consts::{PI, TAU};

use super::synth::{coverage_map, paint, slice_seed, value_noise, Blob, SplitMix64};
use super::{LabSlice, PIXELS, SIZE};

/// Slices per synthetic patient, base to apex.
pub const SLICES_PER_PATIENT: u64 = 10;

/// The default difficulty (`--difficulty` of `tbseg data synth`): the
/// level at which the lab's recipes score about what they score on
/// Sunnybrook in the lab (BENCHMARKS.md's calibration runs).
pub const DEFAULT_DIFFICULTY: f64 = 2.5;

/// Generates slice `index` of `seed` at `difficulty` (0 keeps the anatomy
/// only; larger is noisier, blurrier and less even; `tbseg data synth`
/// uses [`DEFAULT_DIFFICULTY`]).
pub fn generate_slice(seed: u64, index: u64, difficulty: f64) -> LabSlice {
    let patient_index = index / SLICES_PER_PATIENT;
    let level = index % SLICES_PER_PATIENT;
    // The patient's generator is keyed apart from the slices' so that
    // patient p and slice p do not share draws.
    let mut patient_rng = SplitMix64::new(slice_seed(seed ^ 0x005e_ed0f_9a71_e475, patient_index));
    let patient = Patient::draw(&mut patient_rng, difficulty);
    let mut rng = SplitMix64::new(slice_seed(seed, index));
    let apex = level as f64 / (SLICES_PER_PATIENT - 1) as f64;
    let scene = Scene::draw(&patient, apex, &mut rng);
    let label = scene.label();
    let image = scene.render(&patient, &mut rng);
    LabSlice { image, label }
}

/// What one patient fixes for all of its slices.
#[derive(Debug, Clone)]
struct Patient {
    /// Field-of-view scale: anatomy sizes in pixels are multiplied by it.
    scale: f64,
    body: (f64, f64, f64, f64),
    /// LV centre relative to the body centre, in unscaled pixels.
    heart_offset: (f64, f64),
    /// Direction from the LV toward the RV (radians).
    rv_direction: f64,
    /// LV blood pool at the base, as a fraction of the image.
    lv_base_fraction: f64,
    wall: f64,
    rv_size: f64,
    blood: f64,
    myocardium: f64,
    fat: f64,
    muscle: f64,
    lung: f64,
    liver: f64,
    bias: [f64; 5],
    blur_sigma: f64,
    noise_sigma: f64,
    texture_amp: f64,
    trabeculae: usize,
}

impl Patient {
    fn draw(rng: &mut SplitMix64, difficulty: f64) -> Patient {
        let scale = rng.range(0.8, 1.25);
        let blood = rng.range(500.0, 1500.0);
        let d = difficulty.max(0.0);
        let within = |rng: &mut SplitMix64, limit: f64| rng.range(-limit, limit) * d;
        Patient {
            scale,
            body: (
                128.0 + 8.0 * rng.normal(),
                132.0 + 8.0 * rng.normal(),
                rng.range(92.0, 118.0),
                rng.range(66.0, 86.0),
            ),
            heart_offset: (rng.range(0.0, 30.0), rng.range(-30.0, 6.0)),
            rv_direction: PI + rng.range(-0.3, 0.6),
            lv_base_fraction: rng.range(0.022, 0.032),
            wall: rng.range(6.0, 10.0),
            rv_size: rng.range(1.0, 1.4),
            blood,
            myocardium: blood * rng.range(0.22, 0.4),
            fat: blood * rng.range(0.6, 0.95),
            muscle: blood * rng.range(0.2, 0.32),
            lung: blood * rng.range(0.02, 0.06),
            liver: blood * rng.range(0.25, 0.4),
            bias: [
                within(rng, 0.45),
                within(rng, 0.45) - 0.1 * d,
                within(rng, 0.25),
                within(rng, 0.3) - 0.1 * d,
                within(rng, 0.3) - 0.1 * d,
            ],
            blur_sigma: rng.range(0.7, 1.5) * d,
            noise_sigma: blood * rng.range(0.04, 0.09) * d,
            texture_amp: rng.range(0.08, 0.18) * d.min(1.5),
            trabeculae: 4 + (rng.next_u64() % 7) as usize,
        }
    }
}

/// The shapes of one slice.
#[derive(Debug, Clone)]
struct Scene {
    body: Blob,
    fat_thickness: f64,
    lungs: Vec<Blob>,
    lung_vessels: Vec<Blob>,
    liver: Option<Blob>,
    spine: Blob,
    descending_aorta: Blob,
    /// Bright blood outside the ventricles: great vessels and the left
    /// atrium at basal levels.
    bright_vessels: Vec<Blob>,
    epicardial_fat: Vec<Blob>,
    rv: Option<Blob>,
    lv_epi: Blob,
    lv_endo: Blob,
    /// Papillary muscles and trabeculae inside the cavity.
    muscles: Vec<Blob>,
    contour_vertices: usize,
}

impl Scene {
    /// The slice at `apex` (0 = base, 1 = apex) of `patient`.
    fn draw(patient: &Patient, apex: f64, rng: &mut SplitMix64) -> Scene {
        let k = patient.scale;
        let (bx, by, bax, bay) = patient.body;
        // Breathing moves the heart a little between slices.
        let (bx, by) = (bx + 1.5 * rng.normal(), by + 1.5 * rng.normal());
        let body = Blob::new(bx, by, bax * k, bay * k, rng.range(-0.06, 0.06)).wobble(rng, 4, 0.05);
        let fat_thickness = rng.range(4.0, 10.0) * k;

        // The LV pool shrinks toward the apex, faster near it.
        let fraction = patient.lv_base_fraction * (1.0 - 0.88 * apex.powf(1.4));
        let r = (fraction * PIXELS as f64 / PI).sqrt();
        let lx = bx + patient.heart_offset.0 * k + rng.range(-2.0, 2.0);
        let ly = by + patient.heart_offset.1 * k + rng.range(-2.0, 2.0);
        let ecc = rng.range(0.8, 1.25);
        let irregular = 0.08 + 0.22 * apex;
        let mut lv_endo = Blob::new(lx, ly, r * ecc.sqrt(), r / ecc.sqrt(), rng.range(0.0, PI))
            .wobble(rng, 6, irregular);
        lv_endo.edge = 0.5;
        // The wall keeps its thickness while the cavity shrinks, so the
        // apex is mostly muscle.
        let wall = patient.wall * k * rng.range(0.85, 1.15) * (1.0 + 0.2 * apex);
        let mut lv_epi = lv_endo.clone();
        lv_epi.ax += wall;
        lv_epi.ay += wall;
        lv_epi.harmonics = lv_endo
            .harmonics
            .iter()
            .map(|&(h, a, p)| (h, a * r / (r + wall), p))
            .collect();
        lv_epi
            .harmonics
            .push((1.0, rng.range(0.0, 0.1), rng.range(0.0, TAU)));
        let r_epi = r + wall;

        // The RV wraps the septum: an ellipse centred beside the LV, drawn
        // only outside the LV's wall, so a crescent. It thins toward the
        // apex and is gone before it.
        let rv = (apex < 0.85).then(|| {
            let dir = patient.rv_direction + rng.range(-0.1, 0.1);
            let size = r_epi * patient.rv_size * (1.0 - 0.5 * apex);
            let dist = r_epi * rng.range(0.55, 0.85);
            Blob::new(
                lx + dist * dir.cos(),
                ly + dist * dir.sin(),
                size * rng.range(0.75, 1.0),
                size * rng.range(1.15, 1.5),
                dir,
            )
            .wobble(rng, 3, 0.1)
        });

        // Papillary muscles (two, larger) and trabeculae (small) along the
        // endocardium, pulled a little into the cavity.
        let mut muscles = Vec::new();
        let count = 2 + ((patient.trabeculae as f64) * (1.0 - 0.5 * apex)).round() as usize;
        for i in 0..count {
            let (theta, size, pull) = if i < 2 {
                (
                    [0.7, 2.3][i] + rng.range(-0.3, 0.3),
                    rng.range(0.15, 0.28) * r,
                    rng.range(0.1, 0.25),
                )
            } else {
                (
                    rng.range(0.0, TAU),
                    rng.range(0.06, 0.13) * r,
                    rng.range(0.0, 0.08),
                )
            };
            let (px, py) = lv_endo.boundary_point(theta);
            muscles.push(Blob::new(
                px + (lx - px) * pull,
                py + (ly - py) * pull,
                size.max(0.8),
                size.max(0.8) * rng.range(0.6, 1.4),
                rng.range(0.0, PI),
            ));
        }

        // Bright blood beside the heart at the base: the aortic root and
        // the pulmonary trunk anterior to it, the left atrium behind.
        let mut bright_vessels = Vec::new();
        if apex < 0.4 {
            let fade = 1.0 - apex / 0.4;
            let aorta_r = rng.range(9.0, 14.0) * k * (0.5 + 0.5 * fade);
            let toward_rv = patient.rv_direction;
            let anterior = toward_rv + 0.9;
            bright_vessels.push(Blob::new(
                lx + (r_epi + aorta_r) * (0.6 * toward_rv.cos() + 0.5 * anterior.cos()),
                ly + (r_epi + aorta_r) * (0.6 * toward_rv.sin() + 0.5 * anterior.sin()),
                aorta_r,
                aorta_r * rng.range(0.85, 1.15),
                0.0,
            ));
            let pa_r = rng.range(8.0, 12.0) * k * (0.5 + 0.5 * fade);
            bright_vessels.push(Blob::new(
                lx + (r_epi + 2.2 * pa_r) * anterior.cos(),
                ly + (r_epi + 2.2 * pa_r) * anterior.sin(),
                pa_r * rng.range(1.0, 1.5),
                pa_r,
                rng.range(0.0, PI),
            ));
            if apex < 0.2 {
                let la_r = r * rng.range(0.7, 1.1);
                let posterior = toward_rv + PI - 0.6;
                bright_vessels.push(
                    Blob::new(
                        lx + (r_epi + 0.8 * la_r) * posterior.cos(),
                        ly + (r_epi + 0.8 * la_r) * posterior.sin(),
                        la_r * rng.range(1.0, 1.4),
                        la_r,
                        rng.range(0.0, PI),
                    )
                    .wobble(rng, 3, 0.1),
                );
            }
        }

        let patches = 2 + (rng.next_u64() % 3) as usize;
        let epicardial_fat = (0..patches)
            .map(|_| {
                let (fx, fy) = lv_epi.boundary_point(rng.range(0.0, TAU));
                let size = rng.range(2.5, 6.5) * k;
                Blob::new(fx, fy, size * rng.range(1.0, 2.2), size, rng.range(0.0, PI))
                    .wobble(rng, 3, 0.2)
            })
            .collect();

        let lungs: Vec<Blob> = [(1.0, 0.0), (-1.0, 0.2)]
            .into_iter()
            .map(|(side, tilt)| {
                Blob::new(
                    lx + side * (r_epi + rng.range(40.0, 60.0) * k),
                    ly + rng.range(-10.0, 12.0),
                    rng.range(22.0, 36.0) * k,
                    rng.range(38.0, 56.0) * k,
                    tilt + rng.range(-0.3, 0.3),
                )
                .wobble(rng, 4, 0.12)
            })
            .collect();
        let mut lung_vessels = Vec::new();
        for lung in &lungs {
            for _ in 0..(4 + rng.next_u64() % 6) {
                let (a, dist) = (rng.range(0.0, TAU), rng.range(0.0, 0.75));
                let size = rng.range(1.2, 3.5) * k;
                lung_vessels.push(Blob::new(
                    lung.cx + dist * lung.ax * a.cos(),
                    lung.cy + dist * lung.ay * a.sin(),
                    size,
                    size * rng.range(0.7, 1.4),
                    0.0,
                ));
            }
        }
        // The liver rises into the lower slices.
        let liver = (apex > 0.4).then(|| {
            Blob::new(
                bx - body.ax * rng.range(0.2, 0.45),
                by + body.ay * rng.range(0.25, 0.5),
                rng.range(35.0, 60.0) * k * apex,
                rng.range(25.0, 40.0) * k * apex,
                rng.range(-0.3, 0.3),
            )
            .wobble(rng, 3, 0.1)
        });
        let spine_y = by + body.ay * rng.range(0.6, 0.72);
        let spine_x = bx + rng.range(-5.0, 5.0);
        let vertebra = rng.range(10.0, 14.0) * k;
        let spine = Blob::new(spine_x, spine_y, vertebra, vertebra * 0.9, 0.0).wobble(rng, 3, 0.05);
        let aorta_r = rng.range(6.0, 9.0) * k;
        let descending_aorta = Blob::new(
            spine_x + rng.range(10.0, 20.0) * k,
            spine_y - vertebra - aorta_r * rng.range(0.2, 0.8),
            aorta_r,
            aorta_r,
            0.0,
        );
        let perimeter = TAU * r;
        Scene {
            body,
            fat_thickness,
            lungs,
            lung_vessels,
            liver,
            spine,
            descending_aorta,
            bright_vessels,
            epicardial_fat,
            rv,
            lv_epi,
            lv_endo,
            muscles,
            contour_vertices: (perimeter.round() as usize).max(16),
        }
    }

    /// The label: the endocardial contour filled as the lab does.
    fn label(&self) -> Vec<u8> {
        self.lv_endo.contour_label(self.contour_vertices)
    }

    fn render(&self, p: &Patient, rng: &mut SplitMix64) -> Vec<i64> {
        let mut img = vec![0.0f64; PIXELS];
        paint(&mut img, &self.body, 0.0, p.fat, None);
        paint(&mut img, &self.body, -self.fat_thickness, p.muscle, None);
        let inner = coverage_map(&self.body, -self.fat_thickness - 4.0);
        if let Some(liver) = &self.liver {
            paint(&mut img, liver, 0.0, p.liver, Some(&inner));
        }
        for lung in &self.lungs {
            paint(&mut img, lung, 0.0, p.lung, Some(&inner));
        }
        for vessel in &self.lung_vessels {
            paint(
                &mut img,
                vessel,
                0.0,
                p.blood * rng.range(0.5, 1.0),
                Some(&inner),
            );
        }
        paint(&mut img, &self.spine, 0.0, p.muscle * 1.4, Some(&inner));
        paint(
            &mut img,
            &self.descending_aorta,
            1.5,
            p.myocardium,
            Some(&inner),
        );
        paint(&mut img, &self.descending_aorta, 0.0, p.blood, Some(&inner));
        for patch in &self.epicardial_fat {
            paint(&mut img, patch, 0.0, p.fat * 0.8, Some(&inner));
        }
        // Everything outside the LV's own wall.
        let outside_lv: Vec<f64> = coverage_map(&self.lv_epi, 0.5)
            .iter()
            .zip(&inner)
            .map(|(c, i)| (1.0 - c) * i)
            .collect();
        for vessel in &self.bright_vessels {
            paint(&mut img, vessel, 2.0, p.myocardium, Some(&outside_lv));
            paint(
                &mut img,
                vessel,
                0.0,
                p.blood * rng.range(0.95, 1.05),
                Some(&outside_lv),
            );
        }
        if let Some(rv) = &self.rv {
            paint(&mut img, rv, 2.5, p.myocardium, Some(&outside_lv));
            paint(
                &mut img,
                rv,
                0.0,
                p.blood * rng.range(0.95, 1.05),
                Some(&outside_lv),
            );
        }
        paint(&mut img, &self.lv_epi, 0.0, p.myocardium, None);
        paint(&mut img, &self.lv_endo, 0.0, p.blood, None);
        for muscle in &self.muscles {
            paint(&mut img, muscle, 0.0, p.myocardium * 1.1, None);
        }

        let img = gaussian_blur(&img, p.blur_sigma);
        let texture = value_noise(rng, 10);
        let [b0, b1, b2, b3, b4] = p.bias;
        img.iter()
            .enumerate()
            .map(|(i, &v)| {
                let u = (i % SIZE) as f64 / (SIZE as f64 / 2.0) - 1.0;
                let w = (i / SIZE) as f64 / (SIZE as f64 / 2.0) - 1.0;
                let bias = (b0 * u + b1 * w + b2 * u * w + b3 * u * u + b4 * w * w).exp();
                let s = v * bias * (1.0 + p.texture_amp * texture[i]);
                let re = s + p.noise_sigma * rng.normal();
                let im = p.noise_sigma * rng.normal();
                (re.hypot(im).round() as i64).clamp(0, 4095)
            })
            .collect()
    }
}

/// Separable Gaussian blur of standard deviation `sigma` pixels (none
/// below 0.1), edges clamped.
fn gaussian_blur(img: &[f64], sigma: f64) -> Vec<f64> {
    if sigma < 0.1 {
        return img.to_vec();
    }
    let radius = (3.0 * sigma).ceil() as isize;
    let weights: Vec<f64> = (-radius..=radius)
        .map(|d| (-(d * d) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    let weights: Vec<f64> = weights.iter().map(|w| w / total).collect();
    let pass = |src: &[f64], horizontal: bool| {
        let mut out = vec![0.0; PIXELS];
        for y in 0..SIZE as isize {
            for x in 0..SIZE as isize {
                let mut acc = 0.0;
                for (j, w) in weights.iter().enumerate() {
                    let d = j as isize - radius;
                    let (sx, sy) = if horizontal { (x + d, y) } else { (x, y + d) };
                    let sx = sx.clamp(0, SIZE as isize - 1) as usize;
                    let sy = sy.clamp(0, SIZE as isize - 1) as usize;
                    acc += w * src[sy * SIZE + sx];
                }
                out[y as usize * SIZE + x as usize] = acc;
            }
        }
        out
    };
    pass(&pass(img, true), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lv_fraction(slice: &LabSlice) -> f64 {
        slice.label.iter().map(|&l| f64::from(l)).sum::<f64>() / PIXELS as f64
    }

    fn mean_where(slice: &LabSlice, keep: impl Fn(usize) -> bool) -> f64 {
        let values: Vec<f64> = (0..PIXELS)
            .filter(|&i| keep(i))
            .map(|i| slice.image[i] as f64)
            .collect();
        values.iter().sum::<f64>() / values.len().max(1) as f64
    }

    #[test]
    fn reproducible_and_different_per_seed_and_difficulty() {
        let a = generate_slice(3, 12, 1.0);
        assert_eq!(a, generate_slice(3, 12, 1.0));
        assert_ne!(a.image, generate_slice(4, 12, 1.0).image);
        assert_ne!(a.image, generate_slice(3, 12, 1.5).image);
        assert_eq!(
            a.label,
            generate_slice(3, 12, 1.5).label,
            "difficulty leaves the anatomy"
        );
        assert!(a.image.iter().all(|&v| (0..=4095).contains(&v)));
    }

    #[test]
    fn the_lv_shrinks_from_base_to_apex_and_averages_one_to_two_percent() {
        let mut total = 0.0;
        let patients = 12;
        for patient in 0..patients {
            let first = patient * SLICES_PER_PATIENT;
            let base = lv_fraction(&generate_slice(9, first, 1.0));
            let apex = lv_fraction(&generate_slice(9, first + SLICES_PER_PATIENT - 1, 1.0));
            assert!(
                base > 3.0 * apex,
                "patient {patient}: base {base}, apex {apex}"
            );
            assert!(apex > 0.0, "patient {patient}: no LV at the apex");
            for level in 0..SLICES_PER_PATIENT {
                total += lv_fraction(&generate_slice(9, first + level, 1.0));
            }
        }
        let mean = total / (patients * SLICES_PER_PATIENT) as f64;
        assert!((0.01..=0.02).contains(&mean), "mean LV fraction {mean}");
    }

    #[test]
    fn other_blood_is_as_bright_as_the_lv() {
        // A basal slice: RV and great vessels present. The brightest
        // pixels outside the LV label reach the LV's own brightness.
        let slice = generate_slice(5, 20, 0.0);
        let lv = mean_where(&slice, |i| slice.label[i] == 1);
        let mut outside: Vec<i64> = (0..PIXELS)
            .filter(|&i| slice.label[i] == 0)
            .map(|i| slice.image[i])
            .collect();
        outside.sort_unstable();
        // More bright pixels outside the LV than the LV has.
        let lv_pixels = slice.label.iter().filter(|&&l| l == 1).count();
        let bright_outside = outside[outside.len() - lv_pixels] as f64;
        assert!(
            bright_outside > 0.9 * lv,
            "{bright_outside} vs LV mean {lv}"
        );
    }
}
