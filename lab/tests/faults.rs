//! Training runs that survive faults, tried on the `tbseg` binary: exact
//! resume, SIGTERM and SIGINT, kill -9 at pseudo-random moments, a full
//! disk, and a catalogue of bad input.
//!
//! The runs train the full-size `cnn` on a few synthetic slices with one
//! thread, so each takes seconds. `TBSEG_FAULTS_OUT`, when set, receives a
//! copy of the kill campaign's final folder for the TensorBoard and
//! TensorFlow checks of `scripts/conformance/faults.sh`.
#![cfg(feature = "trainer")]

#[path = "faults/catalogue.rs"]
mod catalogue;
#[path = "faults/common.rs"]
mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

use common::{curves, latest_weights, restores, Lab};

#[test]
fn one_plus_one_epochs_resumed_equal_two_epochs_bit_for_bit() {
    let lab = Lab::new(5);
    lab.train("whole", &["--num_epochs", "2"]).success();
    lab.train("split", &["--num_epochs", "1"]).success();
    let resumed = lab
        .train("split", &["--num_epochs", "2", "--resume"])
        .success();
    assert!(
        resumed.stderr.contains("resuming from"),
        "{}",
        resumed.stderr
    );

    let (whole_step, whole) = latest_weights(&lab.path("whole"));
    let (split_step, split) = latest_weights(&lab.path("split"));
    // 5 images × 2 epochs = 10 examples: step 0 and its summary batch,
    // then one per step.
    assert_eq!((whole_step, split_step), (9, 9));
    assert_eq!(whole.len(), 6);
    for (name, values) in &whole {
        assert!(split[name] == *values, "{name} differs after the resume");
    }
    // The resumed file opens with a purge at step 4, the first run's end
    // (two STARTs: TensorBoard's Python loader ignores a run's first).
    let (curves, purges) = curves(&lab.path("split"));
    assert_eq!(purges, [4, 4]);
    assert_eq!(curves["1cnn_cross_entropy_mean"], [0]);

    // A checkpoint past this run's end is "done": nothing trains, nothing
    // saves, global_step does not go back.
    let again = lab
        .train("split", &["--num_epochs", "1", "--resume"])
        .success();
    assert!(
        again.stderr.contains("nothing to train"),
        "{}",
        again.stderr
    );
    assert_eq!(latest_weights(&lab.path("split")).0, 9);
}

#[test]
fn a_folder_with_a_run_needs_resume_or_overwrite() {
    let lab = Lab::new(3);
    lab.train("run", &[]).success();
    let refused = lab.train("run", &[]).failure();
    assert!(
        refused.stderr.contains("--resume") && refused.stderr.contains("--overwrite"),
        "{}",
        refused.stderr
    );
    let events = |dir: &Path| {
        std::fs::read_dir(dir)
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                name.to_string_lossy().contains("tfevents")
            })
            .count()
    };
    assert_eq!(events(&lab.path("run")), 1, "the refused run wrote events");
    lab.train("run", &["--overwrite"]).success();
    assert_eq!(
        events(&lab.path("run")),
        1,
        "--overwrite kept the old events"
    );
    assert_eq!(latest_weights(&lab.path("run")).0, 2);
}

/// Starts a long run, waits for its first loss line, sends `signals`, and
/// returns the exit status and stderr.
fn signalled_run(lab: &Lab, dir: &str, signals: &[i32]) -> (Option<i32>, String) {
    let mut child = lab
        .train_command(dir, &["--num_epochs", "1000", "--summary_every", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    assert!(line.starts_with("OUTPUT: Step 0"), "{line}");
    for &signal in signals {
        // SAFETY: kill(2) on our own child.
        assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
    }
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn sigterm_and_sigint_save_a_checkpoint_and_exit_with_their_status() {
    let lab = Lab::new(4);
    let (code, stderr) = signalled_run(&lab, "term", &[libc::SIGTERM]);
    assert_eq!(code, Some(143), "{stderr}");
    assert!(stderr.contains("continue with --resume"), "{stderr}");
    let (step, _) = latest_weights(&lab.path("term"));
    assert!(step >= 1, "no checkpoint after the first step");
    let (curves, _) = curves(&lab.path("term"));
    assert!(curves["1cnn_cross_entropy_mean"].contains(&0));

    let (code, stderr) = signalled_run(&lab, "int", &[libc::SIGINT]);
    assert_eq!(code, Some(130), "{stderr}");
    // A second signal exits at once, with the same status.
    let (code, stderr) = signalled_run(&lab, "twice", &[libc::SIGINT, libc::SIGINT]);
    assert_eq!(code, Some(130), "{stderr}");
}

/// How the campaign picks the moment of each kill.
#[derive(Clone, Copy, Debug)]
enum Moment {
    /// A pseudo-random delay after the run opened its event file (so after
    /// restoring, in training or in a save).
    After(Duration),
    /// As soon as a checkpoint's temporary file appears (mid-save).
    DuringSave,
    /// As soon as the event file grows (right in or after a flush).
    DuringFlush,
}

/// The bytes of every event file in `dir`.
fn event_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains("tfevents"))
        .filter_map(|e| e.metadata().ok().map(|m| m.len()))
        .sum()
}

fn has_temp_file(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().contains("tempstate")))
}

/// Runs until `moment`, then SIGKILLs the run; false when it finished first.
fn kill_at(lab: &Lab, dir: &str, args: &[&str], moment: Moment) -> bool {
    let mut child = lab
        .train_command(dir, args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let path = lab.path(dir);
    let started = Instant::now();
    // The event files' growth: the first is the new file's header, graph
    // and hparams; a kill at a later one lands in a summary's flush.
    let mut size = event_bytes(&path);
    let mut growths = 0;
    let mut opened = None;
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        let bytes = event_bytes(&path);
        if bytes != size {
            growths += 1;
            size = bytes;
            opened.get_or_insert_with(Instant::now);
        }
        let now = match moment {
            Moment::After(delay) => opened.is_some_and(|at| at.elapsed() >= delay),
            Moment::DuringSave => has_temp_file(&path),
            Moment::DuringFlush => growths >= 2,
        };
        if now || started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            child.wait().unwrap();
            return true;
        }
        std::thread::sleep(Duration::from_millis(match moment {
            Moment::After(_) => 5,
            _ => 1,
        }));
    }
}

#[test]
fn kill_9_at_random_moments_then_resume_loses_nothing_and_shows_nothing_twice() {
    let lab = Lab::new(6);
    // 6 images × 40 epochs with a summary (and its extra batch) every 2
    // steps: 160 steps, a checkpoint every 3, images and histograms every 4.
    // Long enough that a busy machine still lands 10 kills before the
    // resumed runs reach the end.
    let args = [
        "--num_epochs",
        "40",
        "--summary_every",
        "2",
        "--checkpoint_every",
        "3",
        "--image_every",
        "4",
        "--histogram_every",
        "4",
        "--resume",
    ];
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    let mut moments = vec![Moment::DuringSave, Moment::DuringFlush];
    moments.extend((0..8).map(|_| Moment::After(Duration::from_millis(rng.random_range(0..1500)))));
    moments.extend([Moment::DuringSave, Moment::DuringFlush]);
    let mut kills = 0;
    for moment in moments {
        if kill_at(&lab, "campaign", &args, moment) {
            kills += 1;
            // Whatever the kill interrupted, the latest checkpoint restores.
            if lab.path("campaign").join("checkpoint").exists() {
                let (step, _) = latest_weights(&lab.path("campaign"));
                assert!(
                    restores(&lab.path("campaign")),
                    "after the kill at {moment:?}"
                );
                assert!(step >= 1);
            }
        }
    }
    assert!(
        kills >= 10,
        "only {kills} kills landed before the run ended"
    );
    let done = lab.train("campaign", &args).success();
    assert!(
        done.stdout
            .contains("Done training for 40 epochs, 160 steps."),
        "{}",
        done.stdout
    );
    assert!(restores(&lab.path("campaign")));
    assert_eq!(latest_weights(&lab.path("campaign")).0, 160);
    // Nothing half-written under a final name: every index restores.
    for entry in std::fs::read_dir(lab.path("campaign")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(prefix) = name.strip_suffix(".index") {
            let prefix = lab.path("campaign").join(prefix);
            assert!(common::restores_prefix(&prefix), "{name} is incomplete");
        }
    }

    // Every complete event reads back (a torn tail at most per file), and
    // after the purges each curve has each summary step exactly once.
    let (curves, purges) = curves(&lab.path("campaign"));
    assert!(!purges.is_empty());
    let expected: Vec<i64> = (0..160).step_by(2).collect();
    assert_eq!(curves["1cnn_cross_entropy_mean"], expected);
    assert_eq!(curves["1learning_rate"], expected);
    let histogram_steps: Vec<i64> = (0..160).step_by(4).collect();
    assert_eq!(curves["nonfinite_weights"], histogram_steps);
    if let Some(out) = std::env::var_os("TBSEG_FAULTS_OUT") {
        common::copy_dir(&lab.path("campaign"), Path::new(&out));
    }
}

#[test]
fn a_full_disk_stops_the_run_clearly_and_keeps_the_last_checkpoint() {
    let lab = Lab::new(4);
    let logs = lab.path("tmpfs");
    std::fs::create_dir_all(&logs).unwrap();
    // Two 7.4 MB checkpoints and the events fit in 20 MB, a third does not.
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=20m", "tbseg-full-disk"])
        .arg(&logs)
        .output();
    if !mounted.as_ref().is_ok_and(|out| out.status.success()) {
        eprintln!("skipped: cannot mount a tmpfs here (needs root): {mounted:?}");
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&logs);
    let full = lab
        .train("tmpfs", &["--num_epochs", "3", "--checkpoint_every", "1"])
        .failure();
    let lines: Vec<&str> = full
        .stderr
        .lines()
        .filter(|l| l.contains("error"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", full.stderr);
    assert!(
        lines[0].contains("No space left on device"),
        "{}",
        full.stderr
    );
    assert_eq!(lines[0].matches("os error 28").count(), 1, "{}", lines[0]);
    assert!(!full.stderr.contains("panicked"), "{}", full.stderr);
    // The last good checkpoint restores, and every file under a final
    // checkpoint name belongs to a complete checkpoint.
    assert!(restores(&logs));
    for entry in std::fs::read_dir(&logs).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(prefix) = name.strip_suffix(".index") {
            assert!(
                common::restores_prefix(&logs.join(prefix)),
                "{name} is incomplete"
            );
        }
    }
}

#[test]
fn bad_input_catalogue() {
    catalogue::run();
}
