//! `s3://` log directories against a real S3 server (s3s-fs over a
//! temporary folder, as the library's object-store tests start it): a
//! reload downloads only what is new (new segments, nothing twice), a
//! large object is read in bounded ranges rather than whole, and a run
//! deleted from the bucket disappears on the next reload.

#[allow(dead_code)] // The helpers other tests use.
#[path = "../../tests/common/s3_server.rs"]
mod s3_server;

use std::path::Path;
use std::time::Duration;

use s3_server::S3Server;
use tbseg::storage::remote::object_store::RetryConfig;
use tbseg::storage::remote::{stats, Remote};
use tbseg::summary::SummaryWriter;
use tbseg_serve::loader::{Loader, Logdir};
use tbseg_serve::sampling::SamplesPerPlugin;
use tbseg_serve::tail::OBJECT_CHUNK;

/// Registers the store of `s3://<bucket>` on the server at `endpoint`,
/// with no retries: a store that cannot answer fails at once rather than
/// after the client's back-off.
fn register_s3(bucket: &str, endpoint: &str) {
    let retry = RetryConfig {
        max_retries: 0,
        ..RetryConfig::default()
    };
    s3_server::register_s3(bucket, endpoint, retry);
}

/// Objects under `url`, with their sizes.
fn objects(url: &str) -> Vec<(String, u64)> {
    Remote::open(url).unwrap().list().unwrap()
}

/// The steps of `run`'s `tag` kept by the server.
fn steps(logdir: &Logdir, run: &str, tag: &str) -> Vec<i64> {
    let Some(run) = logdir.run(run) else {
        return Vec::new();
    };
    let run = run.read().unwrap();
    run.series[tag]
        .points
        .items()
        .iter()
        .map(|p| p.step)
        .collect()
}

fn run_names(logdir: &Logdir) -> Vec<String> {
    logdir.runs().into_iter().map(|(name, _)| name).collect()
}

/// Writes `steps` of `tag` as an event file in the local folder `dir`.
fn write_local(dir: &Path, tag: &str, steps: std::ops::Range<i64>) {
    let writer = SummaryWriter::new(dir).unwrap();
    for step in steps {
        writer.add_scalar(tag, step as f32, step).unwrap();
    }
    writer.close().unwrap();
}

#[test]
fn reloads_read_only_new_objects_in_bounded_ranges_and_drop_deleted_runs() {
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(dir.path(), &["tblogs"]);
    register_s3("tblogs", &server.endpoint);
    let root = "s3://tblogs/logs";

    // Run "a" streamed to the bucket as segments; run "big" one large
    // object put there through the server's folder.
    let a = SummaryWriter::builder(format!("{root}/a"))
        .flush_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    for step in 0..100 {
        a.add_scalar("loss", step as f32, step).unwrap();
    }
    a.flush().unwrap();
    write_local(&server.root.join("tblogs/logs/big"), "x", 0..150_000);
    let big_size: u64 = objects(&format!("{root}/big")).iter().map(|o| o.1).sum();
    assert!(big_size > 3 * OBJECT_CHUNK, "{big_size}");

    let mut loader = Loader::new(root, SamplesPerPlugin::default());
    let logdir = loader.logdir();
    let before = stats();
    loader.reload();
    let first = stats();
    assert_eq!(run_names(&logdir), ["a", "big"]);
    assert_eq!(steps(&logdir, "a", "loss"), (0..100).collect::<Vec<_>>());
    // Reservoir-sampled down to TensorBoard's 1000, the last step kept.
    let big = steps(&logdir, "big", "x");
    assert_eq!((big.len(), big.last()), (1000, Some(&149_999)));
    // Every byte downloaded once, the large object in ranges of at most
    // OBJECT_CHUNK bytes (one request each), never whole.
    let stored: u64 = objects(root).iter().map(|o| o.1).sum();
    assert_eq!(first.bytes_downloaded - before.bytes_downloaded, stored);
    assert!(
        first.requests - before.requests > big_size / OBJECT_CHUNK,
        "{} requests for {big_size} bytes",
        first.requests - before.requests
    );

    // Nothing new: nothing downloaded.
    loader.reload();
    assert_eq!(stats().bytes_downloaded, first.bytes_downloaded);

    // New segments of "a": only they are downloaded.
    let old: Vec<_> = objects(root);
    for step in 100..150 {
        a.add_scalar("loss", step as f32, step).unwrap();
    }
    a.close().unwrap();
    let new_bytes: u64 = objects(root)
        .into_iter()
        .filter(|o| !old.contains(o))
        .map(|o| o.1)
        .sum();
    assert!(new_bytes > 0);
    let before = stats();
    loader.reload();
    assert_eq!(
        stats().bytes_downloaded - before.bytes_downloaded,
        new_bytes
    );
    assert_eq!(steps(&logdir, "a", "loss"), (0..150).collect::<Vec<_>>());

    // Run "big" deleted from the bucket: gone on the next reload.
    for (key, _) in objects(&format!("{root}/big")) {
        Remote::open(&format!("{root}/big/{key}"))
            .unwrap()
            .delete()
            .unwrap();
    }
    loader.reload();
    assert_eq!(run_names(&logdir), ["a"]);
    assert_eq!(
        loader.problems().count(),
        0,
        "{:?}",
        loader.problems().collect::<Vec<_>>()
    );
}

/// Reloads `url` three times and checks that its one problem was reported
/// once, in one line naming `url` and saying `why`, though each attempt's
/// message differs (it carries the request's duration).
fn assert_reported_once(url: &str, why: &str) {
    let mut loader = Loader::new(url, SamplesPerPlugin::default());
    for _ in 0..3 {
        loader.reload();
    }
    assert!(loader.logdir().runs().is_empty());
    let problems: Vec<&str> = loader.problems().collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains(url), "{problems:?}");
    assert!(problems[0].contains(why), "{problems:?}");
    assert!(!problems[0].contains('\n'), "{problems:?}");
}

#[test]
fn a_missing_bucket_is_reported_once_naming_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(dir.path(), &["tblogs"]);
    register_s3("no-such-bucket", &server.endpoint);
    assert_reported_once("s3://no-such-bucket/logs", "NoSuchBucket");
}

#[test]
fn an_unreachable_store_is_reported_once_naming_the_url() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    register_s3("unreachable", &format!("http://127.0.0.1:{port}"));
    assert_reported_once("s3://unreachable/logs", "Connection refused");
}
