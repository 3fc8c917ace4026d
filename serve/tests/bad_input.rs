//! Bad input is reported in one line naming what is wrong, and the server
//! keeps serving.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Starts `tbseg-serve` with `args`; returns its first stdout line, its
/// first stderr line, and the process (still running).
fn start(args: &[&str]) -> (String, String, std::process::Child) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tbseg-serve"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut out)
        .unwrap();
    let mut err = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut err)
        .unwrap();
    (out, err, child)
}

#[test]
fn missing_logdir_is_reported_once_by_path_and_the_server_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-logdir");
    let missing = missing.to_str().unwrap();
    let (out, err, mut child) = start(&["--logdir", missing, "--port", "0"]);
    assert!(out.starts_with("tbseg-serve: serving"), "{out}");
    assert!(
        err.starts_with("tbseg-serve: cannot read") && err.contains(missing),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1);
    assert!(child.try_wait().unwrap().is_none(), "the server exited");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn bad_flags_are_named() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_tbseg-serve"))
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success());
        String::from_utf8(out.stderr).unwrap()
    };
    let err = run(&["--logdir", ".", "--samples_per_plugin", "scalars"]);
    assert!(err.contains("--samples_per_plugin: `scalars`"), "{err}");
    let err = run(&["--logdir", ".", "--host", "nowhere"]);
    assert!(err.contains("--host nowhere"), "{err}");
    let err = run(&["--logdir", ".", "--reload_interval=-1"]);
    assert!(err.contains("--reload_interval"), "{err}");
}

#[test]
fn damaged_event_file_is_reported_by_path_and_other_runs_are_served() {
    use tbseg_serve::loader::Loader;
    use tbseg_serve::sampling::SamplesPerPlugin;

    let dir = tempfile::tempdir().unwrap();
    let writer = tbseg::summary::SummaryWriter::new(dir.path().join("good")).unwrap();
    writer.add_scalar("loss", 0.5f32, 1).unwrap();
    writer.close().unwrap();
    std::fs::create_dir(dir.path().join("bad")).unwrap();
    let bad = dir.path().join("bad/events.out.tfevents.0.bad");
    // A record header whose length checksum does not match: nothing after
    // it can be found.
    std::fs::write(&bad, [0xffu8; 16]).unwrap();

    let mut loader = Loader::new(dir.path(), SamplesPerPlugin::default());
    loader.reload();
    loader.reload();
    let problems: Vec<&str> = loader.problems().collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("tbseg-serve: run bad: cannot read")
            && problems[0].contains(bad.to_str().unwrap()),
        "{problems:?}"
    );
    let logdir = loader.logdir();
    let good = logdir.run("good").unwrap();
    assert_eq!(good.read().unwrap().series["loss"].points.items().len(), 1);
}
