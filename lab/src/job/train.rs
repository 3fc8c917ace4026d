//! Training one task (the lab's `runTraining.py`): read and check the
//! data, survey the checkpoint folder once, restore when resuming, run the
//! loop with the lab's outputs and print the lab's final line. Nothing is
//! written before the data and flags have been checked.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use tbseg::summary::SessionStatus;
use tch::Device;

use crate::data;
use crate::train::examples::Examples;
use crate::train::output::{RunLog, SummaryCadence};
use crate::train::trainer::{self, TrainConfig};
use crate::train::validate::{metric_name, ValidationOptions, Validator, BEST_DIR, EVAL_DIR};
use crate::train::{weights, Model, ModelKind, TrainError};

use super::data_files::{data_file, load_examples};
use super::location::Location;
use super::run_folder::RunFolder;
use super::runtime::announce;
use super::signals;

/// What a training job does with an earlier run in its checkpoint folder.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EarlierRun {
    /// Stop with an error that names it (neither `--resume` nor
    /// `--overwrite`).
    #[default]
    Refuse,
    /// Continue from its latest checkpoint (`--resume`).
    Resume,
    /// Delete its events and checkpoints first, and say so (`--overwrite`).
    Overwrite,
    /// Delete its events and checkpoints, in subfolders too, without a
    /// word: `tbseg lab` owns its task folders and redoes the whole lab on
    /// every run.
    Replace,
}

/// A fully checked training job.
#[derive(Clone, Debug)]
pub struct TrainJob {
    /// Hyper-parameters.
    pub config: TrainConfig,
    /// Folder holding the training file.
    pub data_dir: Location,
    /// Folder for checkpoints and events.
    pub checkpoint_dir: Location,
    /// What to do with an earlier run in the checkpoint folder.
    pub earlier: EarlierRun,
    /// How often images and histograms are logged.
    pub cadence: SummaryCadence,
    /// Validation during training (default: none).
    pub validation: ValidationOptions,
}

/// What a training job did.
#[derive(Clone, Debug)]
pub struct TrainReport {
    /// `global_step` at the end.
    pub steps: i64,
    /// Ended by a signal (SIGINT or SIGTERM).
    pub interrupted: bool,
    /// Wall time of the job in seconds.
    pub seconds: f64,
}

/// Default checkpoint folder of a task: `logs/<model>`.
pub fn default_checkpoint_dir(kind: ModelKind) -> PathBuf {
    Path::new("logs").join(kind.name())
}

/// Trains one task: reads the data and checks the flags against it,
/// refuses to mix with an earlier run in the folder (unless resuming or
/// overwriting), restores when resuming, runs the loop with the lab's
/// outputs, prints the lab's final line.
pub fn train(job: &TrainJob, device: Device) -> anyhow::Result<TrainReport> {
    let started = Instant::now();
    job.config.validate()?;
    let train_file = data_file(&job.data_dir, data::TRAIN_FILE)?;
    let examples = load_examples(&train_file, device)?;
    let validation_examples = if job.validation.every > 0 {
        let val_file = data_file(&job.data_dir, data::VAL_FILE)?;
        Some(load_examples(&val_file, device)?)
    } else {
        None
    };
    let steps = job.config.step_count(examples.len())?;
    let mut folder = RunFolder::survey(job.checkpoint_dir.clone());
    let dir = job.checkpoint_dir.path();
    match job.earlier {
        EarlierRun::Refuse | EarlierRun::Overwrite => {
            if let Some(found) = folder.earlier_run() {
                if job.earlier == EarlierRun::Refuse {
                    return Err(TrainError::ExistingRun {
                        dir: dir.to_path_buf(),
                        found: found.to_string(),
                    }
                    .into());
                }
                folder.clear()?;
                eprintln!(
                    "tbseg: --overwrite: deleted the earlier run in {}",
                    job.checkpoint_dir
                );
            }
        }
        EarlierRun::Replace => folder.clear()?,
        EarlierRun::Resume => {}
    }
    tch::manual_seed(job.config.seed as i64);
    let mut model = Model::new(job.config.kind, device);
    let mut resume_step = None;
    if job.earlier == EarlierRun::Resume {
        match folder.latest_checkpoint()? {
            Some(prefix) => {
                let step = weights::restore(&mut model, &prefix)
                    .with_context(|| format!("restoring {}", prefix.display()))?;
                if step >= steps {
                    // Saving now would move `global_step` back: the run is done.
                    eprintln!(
                        "tbseg: {} is at step {step}, this run's {} epochs end at step {steps}: \
                         nothing to train",
                        prefix.display(),
                        job.config.num_epochs
                    );
                    println!(
                        "OUTPUT: Done training for {} epochs, {step} steps.",
                        job.config.num_epochs
                    );
                    return Ok(TrainReport {
                        steps: step,
                        interrupted: false,
                        seconds: started.elapsed().as_secs_f64(),
                    });
                }
                eprintln!("tbseg: resuming from {} at step {step}", prefix.display());
                resume_step = Some(step);
            }
            None => {
                eprintln!(
                    "tbseg: --resume: no checkpoint in {}, starting from scratch",
                    job.checkpoint_dir
                );
                // Events of a run killed before its first checkpoint go.
                resume_step = Some(0);
            }
        }
    }
    announce(device);
    folder.create()?;
    let mut log = RunLog::create(dir, &job.config, job.cadence, resume_step)?;
    let stop = signals::stop_flag();
    let first_step = resume_step.unwrap_or(0);
    let trained = match &validation_examples {
        Some(validation_examples) => train_validating(
            job,
            &model,
            &examples,
            validation_examples,
            first_step,
            &mut log,
            stop,
        ),
        None => trainer::train(&job.config, &model, &examples, first_step, &mut log, stop),
    };
    let outcome = match trained {
        Ok(outcome) => outcome,
        Err(err) => {
            // The run's error is the one to report; the events written so
            // far are flushed and synced on the way out if the disk allows.
            let _ = log.finish(SessionStatus::Failure);
            return Err(err.into());
        }
    };
    let status = if outcome.interrupted {
        SessionStatus::Running
    } else {
        SessionStatus::Success
    };
    log.finish(status)?;
    if outcome.interrupted {
        if let Some(path) = log.last_checkpoint() {
            eprintln!("tbseg: saved {} at step {}", path.display(), outcome.steps);
        }
    } else {
        if outcome.skipped > 0 {
            eprintln!(
                "tbseg: skipped {} step(s) with a non-finite loss or gradient",
                outcome.skipped
            );
        }
        if outcome.stopped_early {
            println!(
                "OUTPUT: stopped early at step {}: no better validation in the last {} evaluations.",
                outcome.steps,
                job.validation.patience.unwrap_or(0)
            );
        }
        println!(
            "OUTPUT: Done training for {} epochs, {} steps.",
            job.config.num_epochs, outcome.steps
        );
    }
    Ok(TrainReport {
        steps: outcome.steps,
        interrupted: outcome.interrupted,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Runs the loop with validation every `job.validation.every` steps into
/// `<checkpoint_dir>/eval` and the best model kept in
/// `<checkpoint_dir>/best`, then prints the best validation.
fn train_validating(
    job: &TrainJob,
    model: &Model,
    examples: &Examples,
    validation_examples: &Examples,
    first_step: i64,
    log: &mut RunLog,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<trainer::TrainOutcome, TrainError> {
    let mut validator = Validator::new(
        log,
        validation_examples,
        job.config.kind,
        job.validation,
        job.checkpoint_dir.path(),
        job.checkpoint_dir.join(EVAL_DIR).path(),
        (job.earlier == EarlierRun::Resume).then_some(first_step),
    )?;
    let outcome = trainer::train(
        &job.config,
        model,
        examples,
        first_step,
        &mut validator,
        stop,
    );
    validator.close()?;
    let outcome = outcome?;
    if let Some(best) = validator.best() {
        println!(
            "OUTPUT: best validation {} = {:.3} at step {} (in {})",
            metric_name(job.config.kind.metric()),
            best.value,
            best.step,
            job.checkpoint_dir.join(BEST_DIR)
        );
    }
    Ok(outcome)
}
