//! The server against a log directory that is being written: over the
//! gRPC API TensorBoard uses, every step of a growing run appears once and
//! in order, a run that appears later is served, and a run whose folder is
//! deleted disappears.

use tbseg::summary::SummaryWriter;
use tbseg_serve::loader::Loader;
use tbseg_serve::sampling::SamplesPerPlugin;

mod common;
use common::{eventually, runs, steps, Client};

/// Starts a server on `logdir`; returns a client.
async fn serve(logdir: &std::path::Path) -> Client {
    common::serve(Loader::new(logdir, SamplesPerPlugin::default())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn growing_run_is_served_once_per_step_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path().join("a")).unwrap();
    writer.add_scalar("loss", 0.0f32, 0).unwrap();
    writer.flush().unwrap();
    let mut client = serve(dir.path()).await;
    eventually("step 0", || {
        let mut c = client.clone();
        async move { steps(&mut c, "a", "loss").await == [0] }
    })
    .await;

    let mut seen_lengths = Vec::new();
    for step in 1..300i64 {
        writer.add_scalar("loss", step as f32, step).unwrap();
        if step % 7 == 0 {
            writer.flush().unwrap();
        }
        if step == 150 {
            // A new run appears while the first grows.
            let b = SummaryWriter::new(dir.path().join("b")).unwrap();
            b.add_scalar("acc", 0.5f32, 3).unwrap();
            b.close().unwrap();
        }
        if step % 10 == 0 {
            let served = steps(&mut client, "a", "loss").await;
            // Whatever has been read so far: a prefix, each step once.
            let expected: Vec<i64> = (0..served.len() as i64).collect();
            assert_eq!(served, expected, "after writing step {step}");
            seen_lengths.push(served.len());
        }
        if step % 100 == 0 {
            // Let the reload loop catch up with what was flushed, so the
            // served prefix is seen growing while the run is written
            // (however slow the machine).
            writer.flush().unwrap();
            eventually(&format!("step {step} while writing"), || {
                let mut c = client.clone();
                async move { steps(&mut c, "a", "loss").await.len() as i64 > step }
            })
            .await;
        }
    }
    writer.close().unwrap();
    eventually("all 300 steps", || {
        let mut c = client.clone();
        async move { steps(&mut c, "a", "loss").await == (0..300).collect::<Vec<_>>() }
    })
    .await;
    // The reload loop kept up: the served prefix grew while writing.
    assert!(
        seen_lengths.windows(2).any(|w| w[1] > w[0]),
        "{seen_lengths:?}"
    );
    eventually("run b", || {
        let mut c = client.clone();
        async move { steps(&mut c, "b", "acc").await == [3] }
    })
    .await;
    assert_eq!(runs(&mut client).await, ["a", "b"]);

    std::fs::remove_dir_all(dir.path().join("b")).unwrap();
    eventually("run b gone", || {
        let mut c = client.clone();
        async move { runs(&mut c).await == ["a"] }
    })
    .await;
}
