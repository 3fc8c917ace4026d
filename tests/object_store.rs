//! Logs and checkpoints on object storage, against a real S3 server
//! (s3s-fs, started per test on 127.0.0.1) and against in-memory stores
//! registered for `gs://` and `az://` URLs (those services are not
//! reachable here).

#[path = "common/error_chain.rs"]
mod error_chain;
use error_chain::error_chain;
#[path = "common/s3_server.rs"]
mod s3_server;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use s3_server::{S3Server, ACCESS_KEY, SECRET_KEY};
use tbseg::checkpoint::{latest_checkpoint, BundleReader, Saver, TensorData};
use tbseg::reader::{FileStatus, Logdir};
use tbseg::storage::remote::object_store::memory::InMemory;
use tbseg::storage::remote::object_store::{BackoffConfig, RetryConfig};
use tbseg::storage::remote::{register, stats, Remote};
use tbseg::summary::embedding::Embedding;
use tbseg::summary::SummaryWriter;

/// The tests measure the process-wide request counters and set
/// environment variables, so they run one at a time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Registers the store of `s3://<bucket>` on the server at `endpoint`, with
/// retries bounded by `retry`.
fn register_s3(bucket: &str, endpoint: &str, retry: Duration) {
    let retry = RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(200),
            base: 2.0,
        },
        max_retries: 5,
        retry_timeout: retry,
    };
    s3_server::register_s3(bucket, endpoint, retry);
}

/// Objects under `url`, with their sizes.
fn objects(url: &str) -> Vec<(String, u64)> {
    Remote::open(url).unwrap().list().unwrap()
}

#[test]
fn events_stream_to_s3_as_segments_readable_while_the_run_goes_on() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(dir.path(), &["logs"]);
    register_s3("logs", &server.endpoint, Duration::from_secs(5));
    let url = "s3://logs/runs/exp1";
    let before = stats();
    let writer = SummaryWriter::builder(url)
        .flush_interval(Duration::from_millis(50))
        .build()
        .unwrap();
    assert!(writer
        .path()
        .to_str()
        .unwrap()
        .starts_with("s3://logs/runs/exp1/events.out.tfevents."));
    // The first segment (file_version) is there before build returns.
    assert_eq!(objects(url).len(), 1);
    for step in 0..500 {
        writer
            .add_scalar("loss", 1.0 / (1 + step) as f32, step)
            .unwrap();
    }
    // Visible without flush or close, within a few flush intervals.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let logdir = Logdir::scan(url).unwrap();
        if logdir
            .runs
            .get(".")
            .and_then(|r| r.scalars("loss"))
            .map(|points| points.len())
            == Some(500)
        {
            break;
        }
        assert!(Instant::now() < deadline, "events never became visible");
        std::thread::sleep(Duration::from_millis(20));
    }
    for step in 500..1000 {
        writer
            .add_scalar("loss", 1.0 / (1 + step) as f32, step)
            .unwrap();
        if step % 100 == 0 {
            writer.flush().unwrap();
        }
    }
    writer.close().unwrap();
    let listed = objects(url);
    assert!(listed.len() >= 3, "{listed:?}");
    let logdir = Logdir::scan(url).unwrap();
    let run = &logdir.runs["."];
    let loss = run.scalars("loss").unwrap();
    assert_eq!(loss.len(), 1000);
    assert!(loss
        .iter()
        .enumerate()
        .all(|(i, &(step, _))| step == i as i64));
    // Every segment is a whole file on its own: no torn record anywhere.
    assert_eq!(run.files.len(), listed.len());
    assert!(run
        .files
        .iter()
        .all(|f| matches!(f.status, FileStatus::Complete)));
    // Bytes uploaded are the bytes of the objects: nothing went up twice.
    let uploaded = stats().bytes_uploaded - before.bytes_uploaded;
    let stored: u64 = listed.iter().map(|(_, size)| size).sum();
    assert_eq!(uploaded, stored);
    // The server really holds them (its folder).
    let on_disk = std::fs::read_dir(server.root.join("logs/runs/exp1"))
        .unwrap()
        .count();
    assert_eq!(on_disk, listed.len());
}

#[test]
fn two_writers_in_one_second_never_share_a_name() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(dir.path(), &["names"]);
    register_s3("names", &server.endpoint, Duration::from_secs(5));
    let a = SummaryWriter::new("s3://names/run").unwrap();
    let b = SummaryWriter::new("s3://names/run").unwrap();
    assert_ne!(a.path(), b.path());
    a.add_scalar("x", 1.0, 1).unwrap();
    b.add_scalar("x", 2.0, 1).unwrap();
    a.close().unwrap();
    b.close().unwrap();
    let logdir = Logdir::scan("s3://names/run").unwrap();
    assert_eq!(logdir.runs["."].files.len(), 4);
    assert_eq!(logdir.runs["."].scalars("x").unwrap().len(), 2);
}

fn tensors(step: i64) -> BTreeMap<String, TensorData> {
    let mut tensors = BTreeMap::new();
    let values: Vec<f32> = (0..1000).map(|i| i as f32 * 0.5 + step as f32).collect();
    tensors.insert(
        "conv/kernel".to_owned(),
        TensorData::from_f32([10, 100], &values).unwrap(),
    );
    tensors.insert("global_step".to_owned(), TensorData::scalar_i64(step));
    tensors
}

#[test]
fn saver_round_trip_and_retention_on_s3() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(dir.path(), &["ckpt"]);
    register_s3("ckpt", &server.endpoint, Duration::from_secs(5));
    let url = "s3://ckpt/run1";
    assert_eq!(latest_checkpoint(url).unwrap(), None);
    let saver = Saver::new(url).max_to_keep(2);
    for step in [10, 20, 30] {
        let prefix = saver.save(step, &tensors(step)).unwrap();
        assert_eq!(prefix, PathBuf::from(format!("{url}/model.ckpt-{step}")));
    }
    let latest = latest_checkpoint(url).unwrap().unwrap();
    assert_eq!(latest, Path::new("s3://ckpt/run1/model.ckpt-30"));
    let reader = BundleReader::open(&latest).unwrap();
    assert_eq!(
        reader.get("global_step").unwrap().to_scalar_i64().unwrap(),
        30
    );
    assert_eq!(
        reader.get("conv/kernel").unwrap().to_f32().unwrap()[3],
        31.5
    );
    let names: Vec<String> = objects(url).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "checkpoint",
            "model.ckpt-20.data-00000-of-00001",
            "model.ckpt-20.index",
            "model.ckpt-30.data-00000-of-00001",
            "model.ckpt-30.index",
        ]
    );
    let state = tbseg::storage::read(format!("{url}/checkpoint")).unwrap();
    let state = String::from_utf8(state).unwrap();
    assert!(
        state.starts_with("model_checkpoint_path: \"model.ckpt-30\"\n"),
        "{state}"
    );
    // Re-saving a step replaces it; the state still names it last.
    saver.save(30, &tensors(31)).unwrap();
    let reader = BundleReader::open(latest_checkpoint(url).unwrap().unwrap()).unwrap();
    assert_eq!(
        reader.get("global_step").unwrap().to_scalar_i64().unwrap(),
        31
    );
    // The local staging files are gone.
    let staged = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(&format!("tbseg-upload-{}-", std::process::id()))
        })
        .count();
    assert_eq!(staged, 0);
}

#[test]
fn a_truncated_data_object_is_reported_not_misread() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(dir.path(), &["torn"]);
    register_s3("torn", &server.endpoint, Duration::from_secs(5));
    let prefix = Saver::new("s3://torn/c").save(1, &tensors(1)).unwrap();
    let data = Remote::open("s3://torn/c/model.ckpt-1.data-00000-of-00001").unwrap();
    let bytes = data.get().unwrap();
    data.put(&bytes[..100]).unwrap();
    let err = BundleReader::open(&prefix)
        .unwrap()
        .get("conv/kernel")
        .unwrap_err();
    assert!(
        err.to_string().contains("model.ckpt-1.data-00000-of-00001"),
        "{err}"
    );
    assert!(
        matches!(
            err,
            tbseg::checkpoint::CheckpointError::DataTruncated { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn an_unreachable_store_is_a_clear_error_that_shows_no_secret() {
    let _serial = serial();
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    register_s3(
        "nowhere",
        &format!("http://127.0.0.1:{port}"),
        Duration::from_millis(300),
    );
    let started = Instant::now();
    let err = SummaryWriter::new("s3://nowhere/run").unwrap_err();
    let text = error_chain(&err);
    assert!(
        text.contains("s3://nowhere/run/events.out.tfevents."),
        "{text}"
    );
    assert!(!text.contains(SECRET_KEY), "{text}");
    assert!(!format!("{err:?}").contains(SECRET_KEY));
    assert!(started.elapsed() < Duration::from_secs(30));

    let err = Saver::new("s3://nowhere/ckpt")
        .save(1, &tensors(1))
        .unwrap_err();
    let text = error_chain(&err);
    assert!(text.contains("s3://nowhere/ckpt/checkpoint"), "{text}");
    assert!(!text.contains(SECRET_KEY), "{text}");
    let err = Logdir::scan("s3://nowhere/run").unwrap_err();
    assert!(
        error_chain(&err).contains("s3://nowhere/run"),
        "{}",
        error_chain(&err)
    );

    // Wrong credentials, from the environment: refused, and the secret
    // given stays out of the message.
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(dir.path(), &["envbucket"]);
    let wrong_secret = "wrong-SECRET-value-1234";
    std::env::set_var("AWS_ENDPOINT", &server.endpoint);
    std::env::set_var("AWS_ALLOW_HTTP", "true");
    std::env::set_var("AWS_ACCESS_KEY_ID", ACCESS_KEY);
    std::env::set_var("AWS_SECRET_ACCESS_KEY", wrong_secret);
    std::env::set_var("AWS_REGION", "us-east-1");
    std::env::set_var("TBSEG_STORE_RETRY_SECS", "1");
    let refused = SummaryWriter::new("s3://envbucket/run");
    for var in [
        "AWS_ENDPOINT",
        "AWS_ALLOW_HTTP",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "TBSEG_STORE_RETRY_SECS",
    ] {
        std::env::remove_var(var);
    }
    let err = refused.unwrap_err();
    let text = error_chain(&err);
    assert!(text.contains("s3://envbucket/run"), "{text}");
    assert!(
        !text.contains(wrong_secret) && !format!("{err:?}").contains(wrong_secret),
        "{text}"
    );
    assert_eq!(
        err.io_kind(),
        Some(std::io::ErrorKind::PermissionDenied),
        "{text}"
    );
}

#[test]
fn a_store_that_fails_mid_run_reports_it_and_keeps_what_was_uploaded() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let mut server = S3Server::start(dir.path(), &["flaky"]);
    register_s3("flaky", &server.endpoint, Duration::from_millis(500));
    let writer = SummaryWriter::builder("s3://flaky/run")
        .flush_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    for step in 0..100 {
        writer.add_scalar("loss", step as f32, step).unwrap();
    }
    writer.flush().unwrap();
    server.stop();
    for step in 100..200 {
        // Queued in memory: the caller is not held up by the dead store.
        writer.add_scalar("loss", step as f32, step).unwrap();
    }
    let err = writer.flush().unwrap_err();
    assert!(err.is_fatal());
    assert!(
        error_chain(&err).contains("s3://flaky/run/events.out.tfevents."),
        "{}",
        error_chain(&err)
    );
    // Reported again on the next call and at close.
    assert!(writer.add_scalar("loss", 0.0, 300).is_err());
    assert!(writer.close().is_err());
    // What was flushed before the failure is still on the store.
    let _server = S3Server::start_on(dir.path(), &[], server.port());
    let logdir = Logdir::scan("s3://flaky/run").unwrap();
    assert_eq!(logdir.runs["."].scalars("loss").unwrap().len(), 100);
}

#[test]
fn gcs_and_azure_urls_work_through_registered_in_memory_stores() {
    // Its uploads count in the same process-wide stats the streaming
    // test compares.
    let _serial = serial();
    for root in ["gs://tbseg-test-gcs", "az://tbseg-test-container"] {
        register(root, Arc::new(InMemory::new()));
        let run = format!("{root}/runs/a");
        let writer = SummaryWriter::new(&run).unwrap();
        writer.add_scalar("acc", 0.5, 7).unwrap();
        writer.add_text("notes", "hello", 7).unwrap();
        writer.close().unwrap();
        let logdir = Logdir::scan(format!("{root}/runs")).unwrap();
        assert_eq!(logdir.runs["a"].scalars("acc").unwrap(), [(7, 0.5)]);

        let ckpt = format!("{root}/ckpt");
        Saver::new(&ckpt).save(5, &tensors(5)).unwrap();
        let latest = latest_checkpoint(&ckpt).unwrap().unwrap();
        let reader = BundleReader::open(latest).unwrap();
        assert_eq!(
            reader.get("global_step").unwrap().to_scalar_i64().unwrap(),
            5
        );
    }
}

#[test]
fn embeddings_go_to_the_store_and_keep_earlier_ones() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(dir.path(), &["proj"]);
    register_s3("proj", &server.endpoint, Duration::from_secs(5));
    let writer = SummaryWriter::new("s3://proj/runs/emb").unwrap();
    let points = [0.1f32, 0.9, 0.8, 0.2, 0.5, 0.5];
    let words = Embedding::new(&points, 2).labels(&["cat", "dog", "cow"]);
    writer.add_embedding("words", &words, 0).unwrap();
    writer.add_embedding("words", &words, 10).unwrap();
    writer.close().unwrap();

    // The server's folder holds what TensorBoard's Projector reads: the
    // config naming both steps, and each step's tensor and labels.
    let run = server.root.join("proj/runs/emb");
    let config = std::fs::read_to_string(run.join("projector_config.pbtxt")).unwrap();
    for step in ["00000", "00010"] {
        assert!(
            config.contains(&format!("tensor_path: \"{step}/words/tensors.tsv\"")),
            "{config}"
        );
        let tsv = std::fs::read_to_string(run.join(step).join("words/tensors.tsv")).unwrap();
        assert_eq!(tsv.lines().count(), 3, "{tsv}");
        let labels = std::fs::read_to_string(run.join(step).join("words/metadata.tsv")).unwrap();
        assert_eq!(labels.lines().collect::<Vec<_>>(), ["cat", "dog", "cow"]);
    }
}
