//! The data jobs (`tbseg data ...`): a synthetic train/val pair written,
//! the Sunnybrook tree converted, PNG previews of slices.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::data::{self, sunnybrook::ConvertReport, LabSlice, SynthStyle, SIZE};
use crate::data::{TRAIN_FILE, VAL_FILE};
use crate::png_file;

/// A synthetic train/val pair to write.
#[derive(Clone, Debug)]
pub struct SynthJob {
    /// Output folder (created if missing).
    pub out: PathBuf,
    /// Generator seed; same seed, same bytes.
    pub seed: u64,
    /// Training slices.
    pub train: usize,
    /// Validation slices.
    pub val: usize,
    /// Which generator.
    pub style: SynthStyle,
    /// The hard style's difficulty (checked by the caller).
    pub difficulty: f64,
    /// Replace existing files.
    pub force: bool,
}

/// The share of left-ventricle pixels over the slices written.
#[derive(Clone, Copy, Debug)]
pub struct LabelStats {
    sum: f64,
    count: usize,
    /// The smallest share of one slice.
    pub min: f64,
    /// The largest share of one slice.
    pub max: f64,
}

impl Default for LabelStats {
    fn default() -> Self {
        LabelStats {
            sum: 0.0,
            count: 0,
            min: f64::INFINITY,
            max: 0.0,
        }
    }
}

impl LabelStats {
    fn add(&mut self, slice: &LabSlice) {
        let f = slice.label_fraction();
        self.sum += f;
        self.count += 1;
        self.min = self.min.min(f);
        self.max = self.max.max(f);
    }

    /// The mean share over the slices.
    pub fn mean(&self) -> f64 {
        self.sum / self.count.max(1) as f64
    }
}

/// Writes the pair, calling `progress` once per slice generated.
pub fn synth(job: &SynthJob, mut progress: impl FnMut()) -> anyhow::Result<LabelStats> {
    std::fs::create_dir_all(&job.out).with_context(|| format!("creating {}", job.out.display()))?;
    let train = job.out.join(TRAIN_FILE);
    let val = job.out.join(VAL_FILE);
    refuse_overwrite(&[&train, &val], job.force)?;
    let mut stats = LabelStats::default();
    for (path, count, first) in [
        (&train, job.train, 0),
        (&val, job.val, data::synth::VAL_FIRST_INDEX),
    ] {
        let slices = data::synthetic_slices(job.style, job.seed, count, first, job.difficulty)
            .inspect(|s| {
                stats.add(s);
                progress();
            });
        data::write_lab_file(path, slices)?;
    }
    Ok(stats)
}

/// Converts the Sunnybrook tree under `root` into the lab's two files in
/// `out`, refusing to replace them unless `force`.
pub fn sunnybrook(root: &Path, out: &Path, force: bool) -> anyhow::Result<ConvertReport> {
    refuse_overwrite(&[&out.join(TRAIN_FILE), &out.join(VAL_FILE)], force)?;
    Ok(data::sunnybrook::convert(root, out)?)
}

fn refuse_overwrite(paths: &[&Path], force: bool) -> anyhow::Result<()> {
    if !force {
        for path in paths {
            if path.exists() {
                bail!("{} exists (use --force to replace it)", path.display());
            }
        }
    }
    Ok(())
}

/// What [`preview`] wrote.
#[derive(Clone, Copy, Debug)]
pub struct PreviewReport {
    /// PNGs written.
    pub written: usize,
    /// Slices in the file.
    pub slices: usize,
}

/// Writes `slice-NNNN.png` into `out` for the first `count` slices of the
/// lab file `input`.
pub fn preview(input: &Path, out: &Path, count: usize) -> anyhow::Result<PreviewReport> {
    let slices = data::read_lab_slices(input)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let count = count.min(slices.len());
    for (i, slice) in slices.iter().take(count).enumerate() {
        let path = out.join(format!("slice-{i:04}.png"));
        png_file::write(&path, SIZE, SIZE, 3, &preview_image(slice))?;
    }
    Ok(PreviewReport {
        written: count,
        slices: slices.len(),
    })
}

/// RGB pixels of the grey image windowed to its 0.5–99.5 percentile, the
/// label's boundary in red.
fn preview_image(slice: &LabSlice) -> Vec<u8> {
    let mut sorted = slice.image.clone();
    sorted.sort_unstable();
    let lo = sorted[sorted.len() / 200] as f64;
    let hi = (sorted[sorted.len() - 1 - sorted.len() / 200] as f64).max(lo + 1.0);
    let label = |x: usize, y: usize| slice.label[y * SIZE + x] == 1;
    let pixel = |x: usize, y: usize| {
        let on_boundary = label(x, y)
            && (x == 0
                || y == 0
                || x == SIZE - 1
                || y == SIZE - 1
                || !label(x - 1, y)
                || !label(x + 1, y)
                || !label(x, y - 1)
                || !label(x, y + 1));
        if on_boundary {
            return [255, 0, 0];
        }
        let v = (slice.image[y * SIZE + x] as f64 - lo) / (hi - lo);
        let g = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        [g, g, g]
    };
    (0..SIZE)
        .flat_map(|y| (0..SIZE).flat_map(move |x| pixel(x, y)))
        .collect()
}
