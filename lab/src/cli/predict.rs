//! `tbseg predict`: the latest checkpoint applied to new images (a lab
//! TFRecord file or one PNG; see [`crate::job::predict`] for how PNG
//! intensities are read and what is written).

use std::path::PathBuf;

use crate::job::predict::{predict, PredictJob};
use crate::job::train::default_checkpoint_dir;
use crate::job::Location;
use crate::train::validate::CheckpointChoice;
use crate::train::ModelKind;

use super::runtime::Runtime;

/// Flags of `tbseg predict`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which task's network the checkpoint holds.
    #[arg(long, value_enum, default_value_t = ModelKind::CnnDice)]
    pub model: ModelKind,
    /// Folder with the checkpoints (default: `logs/<model>`).
    #[arg(long = "checkpoint_dir", visible_alias = "checkpoint-dir")]
    pub checkpoint_dir: Option<PathBuf>,
    /// Which checkpoint: `latest`, `best` (kept by `train --eval_every`) or a checkpoint prefix.
    #[arg(long, default_value = "latest")]
    pub checkpoint: CheckpointChoice,
    /// Same as `--checkpoint best`.
    #[arg(long, conflicts_with = "checkpoint")]
    pub best: bool,
    /// A lab TFRecord file or a 256x256 grayscale PNG.
    #[arg(long)]
    pub input: PathBuf,
    /// Folder for the masks and overlays (created if needed).
    #[arg(long)]
    pub out: PathBuf,
    /// Device and thread count.
    #[command(flatten)]
    pub runtime: Runtime,
}

/// Runs `tbseg predict`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let checkpoint_dir = args
        .checkpoint_dir
        .clone()
        .unwrap_or_else(|| default_checkpoint_dir(args.model));
    let job = PredictJob {
        kind: args.model,
        checkpoint_dir: Location::of(&checkpoint_dir),
        checkpoint: if args.best {
            CheckpointChoice::Best
        } else {
            args.checkpoint.clone()
        },
        input: Location::of(&args.input),
        out: args.out.clone(),
        device: args.runtime.device,
        threads: args.runtime.threads,
    };
    let report = predict(&job)?;
    println!(
        "predicted {} image(s) from {} into {}",
        report.images,
        args.input.display(),
        args.out.display()
    );
    Ok(())
}
