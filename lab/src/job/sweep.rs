//! A sweep's trials run: each trial in its own run folder under one
//! logdir, several at a time, then ranked.
//!
//! A trial runs as a child `tbseg train --checkpoint_dir <logdir>/<trial>
//! --resume`, then `tbseg eval` on its last checkpoint; their output goes
//! to `train.log` and `eval.log` in the trial's folder. The trial's run
//! holds the hyper-parameters (`tbseg train` writes them) and the final and
//! best metric as the scalars `sweep/final` and `sweep/best`, so
//! TensorBoard's HParams dashboard shows the table, parallel coordinates
//! and scatter plots. Finished trials (those with a `sweep_result.txt`) are
//! skipped and an interrupted one continues from its checkpoint.
//!
//! Each child runs in its own process group, so a Ctrl-C at the terminal
//! reaches the sweep alone; the sweep passes SIGINT or SIGTERM on to every
//! running child once (each saves a checkpoint), starts no new trial, and
//! ends in [`SweepInterrupted`] when they have stopped. A second signal
//! exits at once, leaving the children to finish their saves.

use std::collections::VecDeque;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tbseg::summary::SummaryWriter;

use crate::sweep::{self, Axis, Trial, TrialResult};
use crate::train::validate::{BestRecord, BEST_DIR};

use super::signals;

/// A trial ready to run: its folder and checked `tbseg train` flags.
#[derive(Clone, Debug)]
pub struct PlannedTrial {
    /// The trial's run folder.
    pub dir: PathBuf,
    /// Its `tbseg train` flags (without the ones the sweep sets).
    pub train_args: Vec<String>,
    /// Its `--model`, for `tbseg eval`.
    pub model: String,
    /// Its `--data_dir`, for `tbseg eval`.
    pub data_dir: PathBuf,
    /// Its `--device`, for `tbseg eval`.
    pub device: String,
}

/// A planned sweep: the trials still to train and how to share the
/// machine between them.
#[derive(Debug)]
pub struct SweepPlan {
    /// Trials without a result yet, in grid order.
    pub pending: VecDeque<PlannedTrial>,
    /// Trials trained at the same time.
    pub workers: usize,
    /// CPU threads of each trial.
    pub threads: usize,
}

impl SweepPlan {
    /// Keeps the trials that have no result yet and splits `threads` in
    /// all (default: one per core) evenly between the `workers`.
    pub fn new(trials: Vec<PlannedTrial>, workers: usize, threads: Option<usize>) -> SweepPlan {
        let total_threads = threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
        SweepPlan {
            pending: trials
                .into_iter()
                .filter(|p| TrialResult::read(&p.dir).is_none())
                .collect(),
            workers,
            threads: (total_threads / workers).max(1),
        }
    }
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

/// How a sweep's run ended.
#[derive(Debug)]
pub struct SweepOutcome {
    /// The folders of the trials that failed.
    pub failures: Vec<PathBuf>,
    /// The signal that stopped the sweep, if one did.
    pub signal: Option<i32>,
}

impl SweepOutcome {
    /// `Ok` when every trial ran; otherwise [`SweepInterrupted`] or an
    /// error counting the failed trials.
    pub fn check(self) -> anyhow::Result<()> {
        if let Some(signal) = self.signal {
            return Err(SweepInterrupted { signal }.into());
        }
        if !self.failures.is_empty() {
            bail!(
                "{} trial(s) failed (see train.log / eval.log in their folders); rerun to retry them",
                self.failures.len()
            );
        }
        Ok(())
    }
}

/// Trains the pending trials of `plan` in `logdir`, `plan.workers` at a
/// time, printing a line as each ends.
pub fn run(plan: SweepPlan, logdir: &Path) -> anyhow::Result<SweepOutcome> {
    // With several GPUs, worker w trains on GPU w mod n (its children see
    // only that one), so trials do not share a GPU while others idle.
    let gpus = if plan.pending.iter().any(|p| p.device != "cpu") {
        usize::try_from(tch::Cuda::device_count()).unwrap_or(0)
    } else {
        0
    };
    std::fs::create_dir_all(logdir).with_context(|| format!("creating {}", logdir.display()))?;
    let stop = signals::stop_flag();
    let threads = plan.threads;
    let queue = Mutex::new(plan.pending);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for worker in 0..plan.workers {
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
    Ok(SweepOutcome {
        failures: failures.into_inner().unwrap_or_default(),
        signal: signals::received(),
    })
}

/// The finished trials of the grid (`axes`' trials in `logdir`) with
/// their names, best first.
pub fn ranked(trials: &[Trial], axes: &[Axis], logdir: &Path) -> Vec<(String, TrialResult)> {
    let mut done: Vec<(String, TrialResult)> = trials
        .iter()
        .filter_map(|trial| {
            let result = TrialResult::read(&sweep::trial_dir(logdir, trial, axes))?;
            Some((trial.name(axes), result))
        })
        .collect();
    sweep::rank(&mut done);
    done
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
    planned: &PlannedTrial,
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
        .filename_suffix(SWEEP_EVENTS_SUFFIX)
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

/// The file name suffix of the event file holding a trial's `sweep/*`
/// scalars.
const SWEEP_EVENTS_SUFFIX: &str = ".sweep";

/// Deletes the `sweep/*` event files in a trial folder.
fn remove_sweep_events(dir: &Path) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry
            .with_context(|| format!("reading {}", dir.display()))?
            .path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if name.is_some_and(|n| {
            tbseg::summary::is_event_file_name(&n) && n.ends_with(SWEEP_EVENTS_SUFFIX)
        }) {
            std::fs::remove_file(&path).with_context(|| format!("deleting {}", path.display()))?;
        }
    }
    Ok(())
}
