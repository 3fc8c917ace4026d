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
//! (the `--` is optional; the sweep's own flags come first). A trial runs
//! as a child `tbseg train --checkpoint_dir <logdir>/<trial> --resume`,
//! then `tbseg eval` on its last checkpoint; their output goes to
//! `train.log` and `eval.log` in the trial's folder. The trial's run holds
//! the hyper-parameters (`tbseg train` writes them) and the final and best
//! metric as the scalars `sweep/final` and `sweep/best`, so TensorBoard's
//! HParams dashboard shows the table, parallel coordinates and scatter
//! plots. Rerunning the same command resumes: finished trials (those with
//! a `sweep_result.txt`) are skipped and an interrupted one continues from
//! its checkpoint.
//!
//! Each child runs in its own process group, so a Ctrl-C at the terminal
//! reaches the sweep alone; the sweep passes SIGINT or SIGTERM on to every
//! running child once (each saves a checkpoint), starts no new trial, and
//! exits with `128 + signal` when they have stopped. A second signal exits
//! at once, leaving the children to finish their saves.

use std::collections::VecDeque;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{CommandFactory, Parser};
use tbseg::summary::SummaryWriter;

use crate::sweep::{self, Axis, Trial, TrialResult};
use crate::train::validate::{BestRecord, BEST_DIR};
use crate::train::TrainError;

use super::signals;

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

/// A trial ready to run: its folder and checked `tbseg train` flags.
struct Planned {
    dir: PathBuf,
    train_args: Vec<String>,
    model: String,
    data_dir: PathBuf,
    device: String,
}

/// A sweep stopped by SIGINT or SIGTERM: every running trial was asked to
/// save a checkpoint, and the process exits with `128 + signal`.
#[derive(Debug, thiserror::Error)]
#[error("sweep stopped by signal {signal}; running trials saved a checkpoint, run the same command again to resume")]
pub struct SweepInterrupted {
    /// The signal number (2 = SIGINT, 15 = SIGTERM).
    pub signal: i32,
}

impl SweepInterrupted {
    /// The process exit status: `128 + signal`.
    pub fn exit_code(&self) -> u8 {
        u8::try_from(128 + self.signal).unwrap_or(1)
    }
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
    let total_threads = threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let threads = (total_threads / workers).max(1);
    let pending: VecDeque<Planned> = planned
        .into_iter()
        .filter(|p| TrialResult::read(&p.dir).is_none())
        .collect();
    let total = sweep::expand(&axes).len();
    println!(
        "tbseg sweep: {} trial(s) to train in {} ({} of the grid of {total} already done or not drawn), {} worker(s) × {threads} thread(s)",
        pending.len(),
        args.logdir.display(),
        total - pending.len(),
        workers
    );
    if args.dry_run {
        for p in &pending {
            println!(
                "{}: tbseg train {}",
                p.dir.display(),
                p.train_args.join(" ")
            );
        }
        return Ok(());
    }
    // With several GPUs, worker w trains on GPU w mod n (its children see
    // only that one), so trials do not share a GPU while others idle.
    let gpus = if planned_uses_gpu(&pending) {
        usize::try_from(tch::Cuda::device_count()).unwrap_or(0)
    } else {
        0
    };
    std::fs::create_dir_all(&args.logdir)
        .with_context(|| format!("creating {}", args.logdir.display()))?;
    let stop = signals::stop_flag();
    let queue = Mutex::new(pending);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for worker in 0..workers {
            let gpu = (gpus > 1).then(|| worker % gpus);
            let queue = &queue;
            let failures = &failures;
            scope.spawn(move || loop {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Some(next) = queue.lock().ok().and_then(|mut q| q.pop_front()) else {
                    return;
                };
                match run_trial(&next, threads, gpu, stop) {
                    Ok(None) => {
                        println!(
                            "tbseg sweep: {} stopped; it resumes on a rerun",
                            next.dir.display()
                        );
                    }
                    Ok(Some(result)) => println!(
                        "tbseg sweep: {} done: {} = {:.3} (final {:.3}) in {:.0} s",
                        next.dir.display(),
                        result.metric,
                        result.score(),
                        result.final_value,
                        result.seconds
                    ),
                    Err(err) => {
                        eprintln!("tbseg sweep: {} failed: {err:#}", next.dir.display());
                        if let Ok(mut failures) = failures.lock() {
                            failures.push(next.dir.clone());
                        }
                    }
                }
            });
        }
    });
    print_table(&sweep::expand(&axes), &axes, &args.logdir);
    let failures = failures.into_inner().unwrap_or_default();
    if let Some(signal) = signals::received() {
        return Err(SweepInterrupted { signal }.into());
    }
    if !failures.is_empty() {
        bail!(
            "{} trial(s) failed (see train.log / eval.log in their folders); rerun to retry them",
            failures.len()
        );
    }
    Ok(())
}

/// Checks a trial's flags with `tbseg train`'s own parser and checks.
fn plan(trial: Trial, axes: &[Axis], logdir: &Path) -> anyhow::Result<Planned> {
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
    Ok(Planned {
        model: job.config.kind.name().to_string(),
        data_dir: line.args.data_dir.clone(),
        device: clap::ValueEnum::to_possible_value(&line.args.runtime.device)
            .map_or_else(|| "auto".to_string(), |v| v.get_name().to_string()),
        dir,
        train_args,
    })
}

/// Whether any trial may run on a GPU (`--device auto` or `cuda`).
fn planned_uses_gpu(trials: &VecDeque<Planned>) -> bool {
    trials.iter().any(|p| p.device != "cpu")
}

/// How often a worker looks at its child and at the stop flag.
const POLL: Duration = Duration::from_millis(50);

/// Reads all of `pipe` on a thread of its own (so neither pipe of a child
/// fills up while the other is read).
fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// Runs `tbseg <args>` in its own process group with its output in `log`;
/// returns its stdout text, or `None` when the sweep's stop flag was
/// raised and the signal passed on to the child (which then saves a
/// checkpoint and exits).
fn child(
    args: &[String],
    log: &Path,
    gpu: Option<usize>,
    stop: &AtomicBool,
) -> anyhow::Result<Option<String>> {
    let exe = std::env::current_exe().context("finding the tbseg executable")?;
    let mut command = Command::new(exe);
    if let Some(gpu) = gpu {
        command.env("CUDA_VISIBLE_DEVICES", gpu.to_string());
    }
    let mut process = command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .with_context(|| format!("starting tbseg {}", args.first().map_or("", |s| s)))?;
    let stdout = drain(process.stdout.take());
    let stderr = drain(process.stderr.take());
    let mut forwarded = false;
    let status = loop {
        if let Some(status) = process.try_wait().context("waiting for a trial")? {
            break status;
        }
        if !forwarded && stop.load(Ordering::SeqCst) {
            let signal = signals::received().unwrap_or(libc::SIGINT);
            let pid = libc::pid_t::try_from(process.id()).context("child process id")?;
            // SAFETY: `kill` has no memory effects; `pid` is our own child,
            // not yet reaped (try_wait above saw it running).
            unsafe { libc::kill(pid, signal) };
            forwarded = true;
        }
        std::thread::sleep(POLL);
    };
    let stdout = String::from_utf8_lossy(&stdout.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned();
    let text = format!("$ tbseg {}\n{stdout}{stderr}", args.join(" "));
    tbseg::atomic::write(log, text.as_bytes())
        .with_context(|| format!("writing {}", log.display()))?;
    if forwarded {
        return Ok(None);
    }
    if !status.success() {
        let last = stderr.lines().last().unwrap_or("").to_string();
        bail!("tbseg {} exited with {}: {last}", args[0], status);
    }
    Ok(Some(stdout))
}

/// Trains, evaluates and records one trial; `None` when a signal stopped
/// it before its result was recorded.
fn run_trial(
    planned: &Planned,
    threads: usize,
    gpu: Option<usize>,
    stop: &AtomicBool,
) -> anyhow::Result<Option<TrialResult>> {
    let started = Instant::now();
    let dir = &planned.dir;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut train = vec!["train".to_string()];
    train.extend(planned.train_args.iter().cloned());
    train.extend([
        "--checkpoint_dir".into(),
        dir.display().to_string(),
        "--resume".into(),
        "--threads".into(),
        threads.to_string(),
    ]);
    let Some(trained) = child(&train, &dir.join("train.log"), gpu, stop)? else {
        return Ok(None);
    };
    if stop.load(Ordering::SeqCst) {
        return Ok(None);
    }
    let steps = trained
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix("OUTPUT: Done training for ")?;
            rest.split(", ")
                .nth(1)?
                .strip_suffix(" steps.")?
                .parse()
                .ok()
        })
        .unwrap_or(0);
    let eval = vec![
        "eval".to_string(),
        "--model".into(),
        planned.model.clone(),
        "--data_dir".into(),
        planned.data_dir.display().to_string(),
        "--checkpoint_dir".into(),
        dir.display().to_string(),
        "--device".into(),
        planned.device.clone(),
        "--threads".into(),
        threads.to_string(),
    ];
    let Some(evaluated) = child(&eval, &dir.join("eval.log"), gpu, stop)? else {
        return Ok(None);
    };
    let (metric, final_value) = evaluated
        .lines()
        .find_map(|line| {
            let line = line.strip_prefix("OUTPUT: ")?;
            ["Dice metric", "precision"].into_iter().find_map(|name| {
                let value = line.split_once(&format!("{name} = "))?.1;
                Some((name.to_string(), value.trim().parse::<f64>().ok()?))
            })
        })
        .with_context(|| format!("{}: no metric line", dir.join("eval.log").display()))?;
    let best = BestRecord::read(&dir.join(BEST_DIR))?.map(|b| (b.value, b.step));
    let result = TrialResult {
        metric,
        final_value,
        best,
        steps,
        seconds: started.elapsed().as_secs_f64(),
    };
    // The metrics next to the hparams that `tbseg train` wrote, for the
    // HParams dashboard. A file from an attempt stopped before its result
    // was recorded goes first, so no point appears twice.
    remove_sweep_events(dir)?;
    let writer = SummaryWriter::builder(dir)
        .filename_suffix(".sweep")
        .build()?;
    writer.add_scalar("sweep/final", final_value as f32, steps)?;
    if let Some((value, _)) = best {
        writer.add_scalar("sweep/best", value as f32, steps)?;
    }
    writer.add_scalar("sweep/seconds", result.seconds as f32, steps)?;
    writer.sync()?;
    writer.close()?;
    result
        .write(dir)
        .with_context(|| format!("writing {}", dir.join(sweep::RESULT_FILE).display()))?;
    Ok(Some(result))
}

/// Deletes the `sweep/*` event files (suffix `.sweep`) in a trial folder.
fn remove_sweep_events(dir: &Path) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry
            .with_context(|| format!("reading {}", dir.display()))?
            .path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if name.is_some_and(|n| n.starts_with("events.out.tfevents.") && n.ends_with(".sweep")) {
            std::fs::remove_file(&path).with_context(|| format!("deleting {}", path.display()))?;
        }
    }
    Ok(())
}

/// Prints the finished trials, best first.
fn print_table(trials: &[Trial], axes: &[Axis], logdir: &Path) {
    let mut done: Vec<(String, TrialResult)> = trials
        .iter()
        .filter_map(|trial| {
            let result = TrialResult::read(&sweep::trial_dir(logdir, trial, axes))?;
            Some((trial.name(axes), result))
        })
        .collect();
    sweep::rank(&mut done);
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
