//! `tbseg sweep`: train a grid (or a random sample of it) of trials, each
//! in its own run folder under one logdir, several at a time, and rank
//! them.
//!
//! Any `tbseg train` flag may take comma-separated values:
//!
//! ```text
//! tbseg sweep --logdir sweeps/lr --workers 2 -- --data_dir data --model cnn-dice \
//!     --learning_rate 0.01,0.03 --num_epochs 1 --eval_every 100
//! ```
//!
//! (the `--` is optional; the sweep's own flags come first). Each trial's
//! flags are checked here with `tbseg train`'s own parser before anything
//! is trained; the trials then run as child processes
//! ([`crate::job::sweep`]), and rerunning the same command resumes.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{CommandFactory, Parser};

use crate::job::sweep::{self as job, PlannedTrial, SweepPlan};
use crate::sweep::{self, Axis, Trial, TrialResult};
use crate::train::TrainError;

/// Flags of `tbseg sweep`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder holding one run folder per trial.
    #[arg(long, default_value = "sweeps")]
    pub logdir: PathBuf,
    /// Trials trained at the same time (with several GPUs, worker w uses GPU w mod n).
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    pub workers: i64,
    /// CPU threads in all, split evenly between the workers (default: one per core).
    #[arg(long, allow_negative_numbers = true)]
    pub threads: Option<i64>,
    /// A JSON or TOML file mapping training flags to a value or a list of values.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Random search: train only this many trials of the grid, drawn by --sample_seed.
    #[arg(long, allow_negative_numbers = true)]
    pub sample: Option<i64>,
    /// Seed of the random search.
    #[arg(
        long = "sample_seed",
        visible_alias = "sample-seed",
        default_value_t = 0
    )]
    pub sample_seed: u64,
    /// Print the trials and exit without training.
    #[arg(long = "dry_run", visible_alias = "dry-run")]
    pub dry_run: bool,
    /// Training flags, each with one value or comma-separated values.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "TRAIN FLAGS"
    )]
    pub train_flags: Vec<String>,
}

/// `tbseg train`'s flags on their own, to check each trial's command line
/// exactly as `tbseg train` would.
#[derive(Debug, Parser)]
#[command(name = "tbseg train")]
struct TrainLine {
    #[command(flatten)]
    args: super::train::Args,
}

/// Flags the sweep sets for every trial itself.
const RESERVED: [&str; 3] = ["checkpoint_dir", "resume", "threads"];

/// Whether `flag` (either spelling) is a `tbseg train` switch (takes no value);
/// `None` when train has no such flag.
fn train_switch(flag: &str) -> Option<bool> {
    let command = TrainLine::command();
    let wanted = flag.replace('-', "_");
    let switch = command
        .get_arguments()
        .find(|arg| {
            arg.get_long()
                .into_iter()
                .chain(arg.get_all_aliases().unwrap_or_default())
                .any(|name| name.replace('-', "_") == wanted)
        })
        .map(|arg| !arg.get_action().takes_values());
    switch
}

/// `value` as a count of at least 1, or the error naming `flag`.
fn at_least_one(flag: &'static str, value: i64) -> Result<usize, TrainError> {
    usize::try_from(value)
        .ok()
        .filter(|&v| v >= 1)
        .ok_or_else(|| TrainError::InvalidFlag {
            flag,
            reason: format!("{value} (must be at least 1)"),
        })
}

/// Runs `tbseg sweep`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let workers = at_least_one("--workers", args.workers)?;
    let threads = args
        .threads
        .map(|t| at_least_one("--threads", t))
        .transpose()?;
    let sample = args
        .sample
        .map(|n| at_least_one("--sample", n))
        .transpose()?;
    let tokens: Vec<String> = args
        .train_flags
        .iter()
        .filter(|t| t.as_str() != "--")
        .cloned()
        .collect();
    let mut axes = Vec::new();
    if let Some(path) = &args.config {
        axes = sweep::axes_from_file(path)?;
    }
    let from_flags = sweep::parse_axes(&tokens, |flag| train_switch(flag).unwrap_or(false))?;
    sweep::merge_axes(&mut axes, from_flags)?;
    for axis in &axes {
        let canonical = axis.flag.replace('-', "_");
        if RESERVED.contains(&canonical.as_str()) {
            bail!(
                "sweep: --{} is set by the sweep for each trial; use --logdir and --threads of `tbseg sweep`",
                axis.flag
            );
        }
        if train_switch(&axis.flag).is_none() {
            bail!("sweep: --{} is not a `tbseg train` flag", axis.flag);
        }
    }
    let mut trials = sweep::expand(&axes);
    if let Some(count) = sample {
        trials = sweep::sample(trials, count, args.sample_seed);
    }
    // Every trial's command line is checked before anything is trained.
    let planned = trials
        .into_iter()
        .map(|trial| plan(trial, &axes, &args.logdir))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let plan = SweepPlan::new(planned, workers, threads);
    let total = sweep::expand(&axes).len();
    println!(
        "tbseg sweep: {} trial(s) to train in {} ({} of the grid of {total} already done or not drawn), {} worker(s) × {} thread(s)",
        plan.pending.len(),
        args.logdir.display(),
        total - plan.pending.len(),
        plan.workers,
        plan.threads
    );
    if args.dry_run {
        for p in &plan.pending {
            println!(
                "{}: tbseg train {}",
                p.dir.display(),
                p.train_args.join(" ")
            );
        }
        return Ok(());
    }
    let outcome = job::run(plan, &args.logdir)?;
    print_table(&sweep::expand(&axes), &axes, &args.logdir);
    outcome.check()
}

/// Checks a trial's flags with `tbseg train`'s own parser and checks.
fn plan(trial: Trial, axes: &[Axis], logdir: &Path) -> anyhow::Result<PlannedTrial> {
    let dir = sweep::trial_dir(logdir, &trial, axes);
    let name = trial.name(axes);
    let train_args = trial.train_args(|flag| train_switch(flag).unwrap_or(false));
    let line = TrainLine::try_parse_from(
        std::iter::once("tbseg train".to_string()).chain(train_args.clone()),
    )
    .map_err(|err| {
        let text = err.to_string();
        anyhow::anyhow!(
            "sweep trial {name}: {}",
            text.lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ")
        )
    })?;
    let job = line
        .args
        .job()
        .with_context(|| format!("sweep trial {name}"))?;
    Ok(PlannedTrial {
        model: job.config.kind.name().to_string(),
        data_dir: line.args.data_dir.clone(),
        device: clap::ValueEnum::to_possible_value(&line.args.runtime.device)
            .map_or_else(|| "auto".to_string(), |v| v.get_name().to_string()),
        dir,
        train_args,
    })
}

/// Prints the finished trials, best first.
fn print_table(trials: &[Trial], axes: &[Axis], logdir: &Path) {
    let done: Vec<(String, TrialResult)> = job::ranked(trials, axes, logdir);
    println!(
        "\n{:>4}  {:>7}  {:>7}  {:>14}  {:>7}  {:>7}  trial (in {})",
        "rank",
        "score",
        "final",
        "best @ step",
        "steps",
        "seconds",
        logdir.display()
    );
    for (rank, (name, result)) in done.iter().enumerate() {
        let best = result.best.map_or("-".to_string(), |(value, step)| {
            format!("{value:.3} @ {step}")
        });
        println!(
            "{:>4}  {:>7.3}  {:>7.3}  {:>14}  {:>7}  {:>7.0}  {name}",
            rank + 1,
            result.score(),
            result.final_value,
            best,
            result.steps,
            result.seconds
        );
    }
    if let Some((_, first)) = done.first() {
        println!(
            "(score: the best validation {} where --eval_every was given, else the final one)",
            first.metric
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn train_flags_are_recognised_with_either_spelling() {
        assert_eq!(train_switch("augment"), Some(true));
        assert_eq!(train_switch("learning_rate"), Some(false));
        assert_eq!(train_switch("learning-rate"), Some(false));
        assert_eq!(train_switch("num-epochs"), Some(false));
        assert_eq!(train_switch("no_such_flag"), None);
    }

    #[test]
    fn every_trial_is_checked_by_trains_own_parser() {
        let dir = tempfile::tempdir().unwrap();
        let axes = sweep::parse_axes(
            &[
                "--model",
                "cnn-dice,unet",
                "--learning_rate",
                "0.01",
                "--augment=true,false",
            ]
            .map(String::from),
            |f| train_switch(f).unwrap_or(false),
        )
        .unwrap();
        let trials = sweep::expand(&axes);
        assert_eq!(trials.len(), 4);
        let planned = plan(trials[3].clone(), &axes, dir.path()).unwrap();
        assert_eq!(planned.model, "unet");
        assert_eq!(
            planned.train_args,
            ["--model", "unet", "--learning_rate", "0.01"]
        );
        assert_eq!(planned.dir, dir.path().join("003-model=unet-augment=false"));

        let axes = sweep::parse_axes(&["--model", "vgg"].map(String::from), |_| false).unwrap();
        let err = plan(sweep::expand(&axes).remove(0), &axes, dir.path())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("vgg"), "{err}");
        let axes = sweep::parse_axes(&["--num_epochs", "0"].map(String::from), |_| false).unwrap();
        let err = format!(
            "{:#}",
            plan(sweep::expand(&axes).remove(0), &axes, dir.path())
                .err()
                .unwrap()
        );
        assert!(err.contains("--num_epochs"), "{err}");
    }
}
