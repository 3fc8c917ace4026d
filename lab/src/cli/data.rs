//! `tbseg data`: make, convert and look at the lab's TFRecord files.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use crate::data::{self, synth, synth_hard, LabSlice, SynthStyle, SIZE, TRAIN_FILE, VAL_FILE};

/// Make, convert and look at the lab's data files.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: DataCommand,
}

#[derive(Debug, Subcommand)]
enum DataCommand {
    /// Write a synthetic train/val pair of short-axis cardiac MRI slices.
    Synth(SynthArgs),
    /// Convert the Sunnybrook DICOM + contour tree into the lab's two files.
    Sunnybrook(SunnybrookArgs),
    /// Write PNGs of slices with the label outline drawn in red.
    Preview(PreviewArgs),
}

#[derive(Debug, clap::Args)]
struct SynthArgs {
    /// Output directory (created if missing); gets train_images.tfrecords
    /// and val_images.tfrecords.
    #[arg(long)]
    out: PathBuf,
    /// Generator seed; same seed, same bytes.
    #[arg(long, default_value_t = synth::DEFAULT_SEED)]
    seed: u64,
    /// Number of training slices.
    #[arg(long, default_value_t = 234)]
    train: usize,
    /// Number of validation slices.
    #[arg(long, default_value_t = 26)]
    val: usize,
    /// `classic`: independent slices, easier than real MRI; `hard`: patients sliced base to apex, meant to be as hard as the lab's Sunnybrook images.
    #[arg(long, value_enum, default_value_t = SynthStyle::Classic)]
    style: SynthStyle,
    /// Scale of the hard style's noise, bias field and blur; 0 keeps the anatomy only [default: 2.5, calibrated against the lab's Sunnybrook figures in the README].
    #[arg(long, allow_negative_numbers = true)]
    difficulty: Option<f64>,
    /// Replace existing files.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, clap::Args)]
struct SunnybrookArgs {
    /// Data root holding `challenge_training/` and the contour folders.
    #[arg(long)]
    root: PathBuf,
    /// Output directory (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Replace existing files.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, clap::Args)]
struct PreviewArgs {
    /// A lab TFRecord file.
    #[arg(long)]
    input: PathBuf,
    /// Output directory for `slice-NNNN.png` (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// How many slices, from the start of the file.
    #[arg(long, default_value_t = 8)]
    count: usize,
}

/// Runs `tbseg data ...`.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        DataCommand::Synth(args) => synth_files(args),
        DataCommand::Sunnybrook(args) => sunnybrook(args),
        DataCommand::Preview(args) => preview(args),
    }
}

fn synth_files(args: SynthArgs) -> anyhow::Result<()> {
    if args.style == SynthStyle::Classic && args.difficulty.is_some() {
        bail!("invalid --difficulty: only --style hard has one");
    }
    let difficulty = args.difficulty.unwrap_or(synth_hard::DEFAULT_DIFFICULTY);
    if !(difficulty.is_finite() && (0.0..=10.0).contains(&difficulty)) {
        bail!("invalid --difficulty: {difficulty} (must be a number from 0 to 10)");
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let train = args.out.join(TRAIN_FILE);
    let val = args.out.join(VAL_FILE);
    refuse_overwrite(&[&train, &val], args.force)?;
    let progress = progress_bar((args.train + args.val) as u64);
    let mut stats = LabelStats::default();
    for (path, count, first) in [
        (&train, args.train, 0),
        (&val, args.val, synth::VAL_FIRST_INDEX),
    ] {
        let slices = data::synthetic_slices(args.style, args.seed, count, first, difficulty)
            .inspect(|s| {
                stats.add(s);
                progress.inc(1);
            });
        data::write_lab_file(path, slices)?;
    }
    progress.finish_and_clear();
    println!(
        "wrote {} train + {} val {} slices (seed {}) to {}; mean LV fraction {:.2} % (min {:.2} %, max {:.2} %)",
        args.train,
        args.val,
        clap::ValueEnum::to_possible_value(&args.style).map_or_else(String::new, |v| v.get_name().to_string()),
        args.seed,
        args.out.display(),
        100.0 * stats.mean(),
        100.0 * stats.min,
        100.0 * stats.max,
    );
    Ok(())
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

fn sunnybrook(args: SunnybrookArgs) -> anyhow::Result<()> {
    refuse_overwrite(
        &[&args.out.join(TRAIN_FILE), &args.out.join(VAL_FILE)],
        args.force,
    )?;
    let report = data::sunnybrook::convert(&args.root, &args.out)?;
    for (contour, dicom) in &report.missing_dicom {
        eprintln!(
            "warning: skipped {}: no image {}",
            contour.display(),
            dicom.display()
        );
    }
    for contour in &report.unknown_case {
        eprintln!(
            "warning: skipped {}: case not in the lab's series table",
            contour.display()
        );
    }
    println!(
        "wrote {} train + {} val slices to {} ({} skipped)",
        report.train,
        report.val,
        args.out.display(),
        report.missing_dicom.len() + report.unknown_case.len()
    );
    Ok(())
}

/// A bar on a terminal, nothing when stderr is piped.
fn progress_bar(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} slices {eta}") {
        bar.set_style(style);
    }
    bar
}

#[derive(Debug)]
struct LabelStats {
    sum: f64,
    count: usize,
    min: f64,
    max: f64,
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

    fn mean(&self) -> f64 {
        self.sum / self.count.max(1) as f64
    }
}

fn preview(args: PreviewArgs) -> anyhow::Result<()> {
    let slices = data::read_lab_slices(&args.input)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let count = args.count.min(slices.len());
    for (i, slice) in slices.iter().take(count).enumerate() {
        let path = args.out.join(format!("slice-{i:04}.png"));
        preview_image(slice)
            .save(&path)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "wrote {count} of {} slices to {}",
        slices.len(),
        args.out.display()
    );
    Ok(())
}

/// Grey image windowed to its 0.5–99.5 percentile, label boundary in red.
fn preview_image(slice: &LabSlice) -> image::RgbImage {
    let mut sorted = slice.image.clone();
    sorted.sort_unstable();
    let lo = sorted[sorted.len() / 200] as f64;
    let hi = (sorted[sorted.len() - 1 - sorted.len() / 200] as f64).max(lo + 1.0);
    let label = |x: usize, y: usize| slice.label[y * SIZE + x] == 1;
    image::RgbImage::from_fn(SIZE as u32, SIZE as u32, |x, y| {
        let (x, y) = (x as usize, y as usize);
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
            return image::Rgb([255, 0, 0]);
        }
        let v = (slice.image[y * SIZE + x] as f64 - lo) / (hi - lo);
        let g = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        image::Rgb([g, g, g])
    })
}
