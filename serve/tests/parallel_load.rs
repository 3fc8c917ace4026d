//! Runs load in parallel, each on its own: a run whose event file cannot
//! be read yet (a named pipe nobody writes to, so opening it blocks) does
//! not keep another run from being listed and served, and is served itself
//! once its data comes.
#![cfg(unix)]

use std::io::Write;
use std::path::Path;

use tbseg::summary::SummaryWriter;
use tbseg_serve::loader::Loader;
use tbseg_serve::sampling::SamplesPerPlugin;

mod common;
use common::{eventually, runs, Client};

/// Starts a server on `logdir` reading two runs at once; returns a client.
async fn serve(logdir: &Path) -> Client {
    common::serve(Loader::new(logdir, SamplesPerPlugin::default()).with_parallel_runs(2)).await
}

/// The steps of `run`'s `loss` now served.
async fn steps(client: &mut Client, run: &str) -> Vec<i64> {
    common::steps(client, run, "loss").await
}

/// Writes `steps` steps of `loss` as run `run` under `logdir`.
fn write_run(logdir: &Path, run: &str, steps: i64) {
    let writer = SummaryWriter::new(logdir.join(run)).unwrap();
    for step in 0..steps {
        writer.add_scalar("loss", step as f32, step).unwrap();
    }
    writer.close().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_run_does_not_hold_up_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let logdir = dir.path().join("logs");
    // Run "a_blocked" sorts first, so a loader reading runs one after the
    // other would never get to "b_loaded".
    std::fs::create_dir_all(logdir.join("a_blocked")).unwrap();
    let pipe = logdir.join("a_blocked/events.out.tfevents.0.pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .unwrap();
    assert!(made.success());
    write_run(&logdir, "b_loaded", 50);

    let mut client = serve(&logdir).await;
    eventually("b_loaded served while a_blocked is being read", || {
        let mut c = client.clone();
        async move { steps(&mut c, "b_loaded").await == (0..50).collect::<Vec<_>>() }
    })
    .await;
    // The blocked run has no event yet, so it is not listed.
    assert_eq!(runs(&mut client).await, ["b_loaded"]);

    // Its data comes: the bytes of a real event file, through the pipe.
    let source = dir.path().join("source");
    write_run(&source, "a", 7);
    let file = std::fs::read_dir(source.join("a"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let bytes = std::fs::read(file).unwrap();
    std::thread::spawn(move || {
        let mut writer = std::fs::OpenOptions::new().write(true).open(pipe).unwrap();
        writer.write_all(&bytes).unwrap();
    })
    .join()
    .unwrap();
    eventually("a_blocked served once written", || {
        let mut c = client.clone();
        async move { steps(&mut c, "a_blocked").await == (0..7).collect::<Vec<_>>() }
    })
    .await;
    assert_eq!(runs(&mut client).await, ["a_blocked", "b_loaded"]);
}
