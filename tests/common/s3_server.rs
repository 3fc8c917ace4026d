//! A real S3 server for the tests: the `s3s-fs` binary that
//! `scripts/setup-s3.sh` installs into the cache, started on 127.0.0.1 on a
//! free port over a temporary folder, and killed when the guard is dropped
//! (also when the test fails).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The access key the test servers accept.
pub const ACCESS_KEY: &str = "tbseg-test-access";
/// The secret key the test servers accept; no error may ever show it.
pub const SECRET_KEY: &str = "tbseg-test-SECRET-must-not-leak";

/// Registers the store of `s3://<bucket>` on the test server at
/// `endpoint`, signed with this module's keys, retrying as `retry` says.
pub fn register_s3(
    bucket: &str,
    endpoint: &str,
    retry: tbseg::storage::remote::object_store::RetryConfig,
) {
    let store = tbseg::storage::remote::object_store::aws::AmazonS3Builder::new()
        .with_endpoint(endpoint)
        .with_allow_http(true)
        .with_bucket_name(bucket)
        .with_region("us-east-1")
        .with_access_key_id(ACCESS_KEY)
        .with_secret_access_key(SECRET_KEY)
        .with_retry(retry)
        .build()
        .unwrap();
    tbseg::storage::remote::register(&format!("s3://{bucket}"), std::sync::Arc::new(store));
}

/// A running s3s-fs process.
pub struct S3Server {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// The folder the server keeps its buckets in (one folder per bucket).
    pub root: PathBuf,
    port: u16,
}

/// The s3s-fs binary: `$TBSEG_S3S_FS`, else the cache's.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("TBSEG_S3S_FS") {
        return PathBuf::from(path);
    }
    let cache = std::env::var_os("TBSEG_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|c| PathBuf::from(c).join("tbseg")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/tbseg")))
        .expect("HOME is set");
    cache.join("s3s-fs/bin/s3s-fs")
}

impl S3Server {
    /// Starts a server over `root` with the given buckets (created as
    /// folders) on a free port.
    pub fn start(root: &Path, buckets: &[&str]) -> S3Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        Self::start_on(root, buckets, port)
    }

    /// Starts a server over `root` on `port` (to restart one).
    pub fn start_on(root: &Path, buckets: &[&str], port: u16) -> S3Server {
        let bin = binary();
        assert!(
            bin.is_file(),
            "{} is missing: run scripts/setup-s3.sh (it installs the S3 test server)",
            bin.display()
        );
        for bucket in buckets {
            std::fs::create_dir_all(root.join(bucket)).unwrap();
        }
        let child = Command::new(&bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("s3s-fs starts");
        let mut server = S3Server {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            root: root.to_owned(),
            port,
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("s3s-fs exited at start: {status}");
            }
            assert!(Instant::now() < deadline, "s3s-fs did not listen on {addr}");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server now (its data stays in `root`).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}
