//! `tbseg data`: make, convert and look at the lab's TFRecord files
//! ([`crate::job::data`]).

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::bail;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use crate::data::{synth, synth_hard, SynthStyle};
use crate::job::data::{self as job, SynthJob};

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
    /// Scale of the hard style's noise, bias field and blur; 0 keeps the anatomy only [default: 2.5, calibrated against the lab's Sunnybrook figures in BENCHMARKS.md].
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
    let progress = progress_bar((args.train + args.val) as u64);
    let job = SynthJob {
        out: args.out.clone(),
        seed: args.seed,
        train: args.train,
        val: args.val,
        style: args.style,
        difficulty,
        force: args.force,
    };
    let stats = job::synth(&job, || progress.inc(1));
    progress.finish_and_clear();
    let stats = stats?;
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

fn sunnybrook(args: SunnybrookArgs) -> anyhow::Result<()> {
    let report = job::sunnybrook(&args.root, &args.out, args.force)?;
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

fn preview(args: PreviewArgs) -> anyhow::Result<()> {
    let report = job::preview(&args.input, &args.out, args.count)?;
    println!(
        "wrote {} of {} slices to {}",
        report.written,
        report.slices,
        args.out.display()
    );
    Ok(())
}
