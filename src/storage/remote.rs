//! Object stores through the `object_store` crate (feature
//! `object-store`): `s3://`, `gs://`, `az://` and `memory://` URLs.
//!
//! # Credentials and endpoints
//!
//! Each store is configured from its provider's usual environment
//! variables, read once per bucket when first used:
//!
//! - `s3://bucket/prefix`: the `AWS_*` variables of
//!   `AmazonS3Builder::from_env` (`AWS_ACCESS_KEY_ID`,
//!   `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` or
//!   `AWS_DEFAULT_REGION`, `AWS_ENDPOINT` for an S3-compatible server,
//!   `AWS_ALLOW_HTTP=true` for one without TLS, ...). When no `AWS_ENDPOINT`
//!   is set, `S3_ENDPOINT` (the variable TensorBoard reads) is used, so one
//!   variable can point both the writer and TensorBoard at the same server;
//!   an `http://` endpoint given that way also allows plain HTTP.
//! - `gs://bucket/prefix`: the `GOOGLE_*` variables
//!   (`GOOGLE_SERVICE_ACCOUNT`, `GOOGLE_APPLICATION_CREDENTIALS`, ...).
//! - `az://container/prefix` (and `abfs://`, `abfss://`, `adl://`,
//!   `azure://`): the `AZURE_*` variables (`AZURE_STORAGE_ACCOUNT_NAME`,
//!   `AZURE_STORAGE_ACCOUNT_KEY`, ...).
//! - `memory://name/prefix`: an in-memory store shared by the whole process,
//!   for tests.
//!
//! [`register`] replaces the store of a bucket with one the program
//! configured itself (other credentials, a wrapper that counts requests).
//!
//! Nothing tbseg prints or returns contains a credential: errors name the
//! URL and what failed, and the stores' own errors carry the request's
//! address, not its signature.
//!
//! # Retries
//!
//! Transient failures (connection errors, timeouts, 5xx answers, throttling)
//! are retried by `object_store` with exponential backoff (0.1 s doubling up
//! to 15 s, with jitter), up to 10 times and for at most
//! `TBSEG_STORE_RETRY_SECS` seconds (60 by default) per request. What still
//! fails after that is returned as an error.
//!
//! # The runtime
//!
//! `object_store` is asynchronous; tbseg's API is not. Requests run on a
//! small tokio runtime (two threads named `tbseg-store`) that tbseg starts
//! on first use and keeps for the life of the process; the calling thread
//! waits for the answer. So these functions can be called from any thread,
//! including from inside another async runtime (they block that thread,
//! like any file I/O).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use futures_util::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

pub use object_store;

/// The environment variable bounding how long one request is retried, in
/// seconds.
pub const RETRY_SECS_VAR: &str = "TBSEG_STORE_RETRY_SECS";

/// Default for [`RETRY_SECS_VAR`].
pub const DEFAULT_RETRY_SECS: u64 = 60;

/// Uploads larger than this go up in parts of this size (multipart
/// upload), so a large checkpoint never sits in memory whole.
pub const PART_BYTES: usize = 16 << 20;

/// One location in an object store: the store of a bucket and a key in it.
#[derive(Clone)]
pub struct Remote {
    store: Arc<dyn ObjectStore>,
    /// `scheme://bucket`, as given.
    root: String,
    /// The key, without leading or trailing `/` (empty for the bucket).
    key: String,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The store's own Debug may show its configuration; the URL is
        // all that is needed to tell locations apart.
        f.debug_tuple("Remote").field(&self.url()).finish()
    }
}

/// Requests tbseg sent to object stores, and bytes moved, since the
/// process started (see [`stats`]). Retries inside `object_store` are not
/// counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Requests: one per put, get, head, delete or listing page, one per
    /// part of a multipart upload plus its start and completion.
    pub requests: u64,
    /// Bytes uploaded by requests that succeeded (a failed attempt that
    /// tbseg sends again counts once, when it goes through).
    pub bytes_uploaded: u64,
    /// Bytes downloaded.
    pub bytes_downloaded: u64,
}

static REQUESTS: AtomicU64 = AtomicU64::new(0);
static BYTES_UP: AtomicU64 = AtomicU64::new(0);
static BYTES_DOWN: AtomicU64 = AtomicU64::new(0);

/// What tbseg sent to object stores so far, in this process.
pub fn stats() -> StoreStats {
    StoreStats {
        requests: REQUESTS.load(Ordering::Relaxed),
        bytes_uploaded: BYTES_UP.load(Ordering::Relaxed),
        bytes_downloaded: BYTES_DOWN.load(Ordering::Relaxed),
    }
}

fn count(requests: u64, up: u64, down: u64) {
    REQUESTS.fetch_add(requests, Ordering::Relaxed);
    BYTES_UP.fetch_add(up, Ordering::Relaxed);
    BYTES_DOWN.fetch_add(down, Ordering::Relaxed);
}

/// Stores by `scheme://bucket`, built once and shared (each holds a
/// connection pool).
fn stores() -> &'static Mutex<HashMap<String, Arc<dyn ObjectStore>>> {
    static STORES: OnceLock<Mutex<HashMap<String, Arc<dyn ObjectStore>>>> = OnceLock::new();
    STORES.get_or_init(Default::default)
}

/// Makes every later use of URLs under `root` (`scheme://bucket`, e.g.
/// `s3://my-bucket`) go to `store`, instead of a store built from the
/// environment. Locations opened before keep their store.
///
/// ```
/// use std::sync::Arc;
/// use tbseg::storage::remote::{object_store::memory::InMemory, register};
/// register("gs://test-bucket", Arc::new(InMemory::new()));
/// tbseg::storage::write("gs://test-bucket/hello.txt", b"hi")?;
/// assert_eq!(tbseg::storage::read("gs://test-bucket/hello.txt")?, b"hi");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn register(root: &str, store: Arc<dyn ObjectStore>) {
    let root = root.trim_end_matches('/').to_owned();
    stores()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(root, store);
}

/// Splits `scheme://bucket/key/parts` into (`scheme`, `scheme://bucket`,
/// `key/parts`).
fn split_url(url: &str) -> io::Result<(&str, &str, &str)> {
    let invalid = |why: &str| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{url}: not an object-store URL ({why})"),
        )
    };
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| invalid("expected scheme://bucket/path"))?;
    if super::scheme(url).is_none() {
        return Err(invalid("unknown scheme"));
    }
    let bucket_len = rest.find('/').unwrap_or(rest.len());
    if bucket_len == 0 {
        return Err(invalid("no bucket"));
    }
    let root = &url[..scheme.len() + 3 + bucket_len];
    let key = rest[bucket_len..].trim_matches('/');
    Ok((scheme, root, key))
}

fn retry_config() -> object_store::RetryConfig {
    let secs = std::env::var(RETRY_SECS_VAR)
        .ok()
        .and_then(|value| value.trim().parse::<f64>().ok())
        .filter(|secs| secs.is_finite() && *secs >= 0.0)
        .unwrap_or(DEFAULT_RETRY_SECS as f64);
    object_store::RetryConfig {
        backoff: Default::default(),
        max_retries: 10,
        retry_timeout: Duration::from_secs_f64(secs),
    }
}

/// Builds the store of `root` from the environment.
fn build_store(scheme: &str, root: &str) -> object_store::Result<Arc<dyn ObjectStore>> {
    use object_store::aws::AmazonS3Builder;
    use object_store::azure::MicrosoftAzureBuilder;
    use object_store::gcp::GoogleCloudStorageBuilder;
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    Ok(match scheme.to_ascii_lowercase().as_str() {
        "s3" | "s3a" => {
            let mut builder = AmazonS3Builder::from_env()
                .with_url(root)
                .with_retry(retry_config());
            if env("AWS_ENDPOINT").is_none() && env("AWS_ENDPOINT_URL").is_none() {
                if let Some(endpoint) = env("S3_ENDPOINT") {
                    if endpoint.starts_with("http://") && env("AWS_ALLOW_HTTP").is_none() {
                        builder = builder.with_allow_http(true);
                    }
                    builder = builder.with_endpoint(endpoint);
                }
            }
            Arc::new(builder.build()?)
        }
        "gs" => Arc::new(
            GoogleCloudStorageBuilder::from_env()
                .with_url(root)
                .with_retry(retry_config())
                .build()?,
        ),
        "memory" => Arc::new(object_store::memory::InMemory::new()),
        _ => Arc::new(
            MicrosoftAzureBuilder::from_env()
                .with_url(root)
                .with_retry(retry_config())
                .build()?,
        ),
    })
}

/// The runtime the requests run on.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tbseg-store")
            .enable_all()
            .build()
            .expect("tbseg cannot start its object-store runtime (no threads?)")
    })
}

/// Runs `future` on the store runtime and waits for its output.
fn block_on<F>(future: F) -> io::Result<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (reply, answer) = std::sync::mpsc::sync_channel(1);
    runtime().spawn(async move {
        let _ = reply.send(future.await);
    });
    answer
        .recv()
        .map_err(|_| io::Error::other("an object-store request panicked"))
}

/// An `object_store` error as an `io::Error` of the matching kind, with
/// the URL and the operation in front.
fn io_error(url: &str, action: &str, error: object_store::Error) -> io::Error {
    let kind = match &error {
        object_store::Error::NotFound { .. } => io::ErrorKind::NotFound,
        object_store::Error::AlreadyExists { .. } => io::ErrorKind::AlreadyExists,
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => io::ErrorKind::PermissionDenied,
        object_store::Error::NotSupported { .. } | object_store::Error::NotImplemented { .. } => {
            io::ErrorKind::Unsupported
        }
        _ => io::ErrorKind::Other,
    };
    io::Error::new(
        kind,
        StoreError {
            message: format!("{action} {url}"),
            source: error,
        },
    )
}

/// An object-store failure: what was being done where, and the store's
/// error as the source.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct StoreError {
    message: String,
    #[source]
    source: object_store::Error,
}

impl Remote {
    /// Opens the location `url` (`scheme://bucket/key`), building the
    /// bucket's store from the environment the first time (see the module
    /// docs). Sends no request.
    pub fn open(url: &str) -> io::Result<Remote> {
        let (scheme, root, key) = split_url(url)?;
        let mut stores = stores().lock().unwrap_or_else(PoisonError::into_inner);
        let store = match stores.get(root) {
            Some(store) => Arc::clone(store),
            None => {
                let store = build_store(scheme, root).map_err(|e| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        StoreError {
                            message: format!("cannot configure the object store for {root}"),
                            source: e,
                        },
                    )
                })?;
                stores.insert(root.to_owned(), Arc::clone(&store));
                store
            }
        };
        Ok(Remote {
            store,
            root: root.to_owned(),
            key: key.to_owned(),
        })
    }

    /// The location's URL.
    pub fn url(&self) -> String {
        if self.key.is_empty() {
            self.root.clone()
        } else {
            format!("{}/{}", self.root, self.key)
        }
    }

    /// The key inside the bucket.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The location `name` below this one (`name` may contain `/`).
    pub fn child(&self, name: &str) -> Remote {
        let name = name.trim_matches('/');
        let key = if self.key.is_empty() {
            name.to_owned()
        } else {
            format!("{}/{name}", self.key)
        };
        Remote {
            store: Arc::clone(&self.store),
            root: self.root.clone(),
            key,
        }
    }

    fn path(&self) -> ObjectPath {
        ObjectPath::from(self.key.as_str())
    }

    fn run<T: Send + 'static>(
        &self,
        action: &str,
        future: impl Future<Output = object_store::Result<T>> + Send + 'static,
    ) -> io::Result<T> {
        block_on(future)?.map_err(|e| io_error(&self.url(), action, e))
    }

    /// Uploads `bytes` as this object, replacing any object there. Objects
    /// appear whole: a reader sees the old object or the new one.
    pub fn put(&self, bytes: &[u8]) -> io::Result<()> {
        let (store, path) = (Arc::clone(&self.store), self.path());
        // A copy: the caller keeps its bytes for a later attempt if this
        // one fails.
        let payload = PutPayload::from(bytes.to_vec());
        let result = self.run("uploading", async move {
            store.put(&path, payload).await.map(drop)
        });
        count(
            1,
            if result.is_ok() {
                bytes.len() as u64
            } else {
                0
            },
            0,
        );
        result
    }

    /// Uploads the local file `local` as this object: in one request up to
    /// [`PART_BYTES`], as a multipart upload of such parts beyond (aborted
    /// on error, so no half object appears).
    pub fn put_file(&self, local: &Path) -> io::Result<()> {
        use std::io::Read;
        let mut file = std::fs::File::open(local)?;
        let len = file.metadata()?.len();
        if len <= PART_BYTES as u64 {
            let mut bytes = Vec::with_capacity(len as usize);
            file.read_to_end(&mut bytes)?;
            return self.put(&bytes);
        }
        let (store, path) = (Arc::clone(&self.store), self.path());
        let local_error = |e: io::Error| object_store::Error::Generic {
            store: "local file",
            source: Box::new(e),
        };
        self.run("uploading", async move {
            count(1, 0, 0);
            let mut upload = store.put_multipart(&path).await?;
            let mut sent = Ok(());
            loop {
                // Reading blocks this runtime thread for one part's worth
                // of disk time; the other thread keeps serving requests.
                let mut part = Vec::with_capacity(PART_BYTES);
                if let Err(e) = (&mut file).take(PART_BYTES as u64).read_to_end(&mut part) {
                    sent = Err(local_error(e));
                    break;
                }
                if part.is_empty() {
                    break;
                }
                let len = part.len() as u64;
                if let Err(e) = upload.put_part(PutPayload::from(part)).await {
                    count(1, 0, 0);
                    sent = Err(e);
                    break;
                }
                count(1, len, 0);
            }
            if sent.is_ok() {
                count(1, 0, 0);
                sent = upload.complete().await.map(drop);
            }
            if sent.is_err() {
                // No half object may appear, nor parts linger (and cost).
                let _ = upload.abort().await;
            }
            sent
        })
    }

    /// Downloads the whole object.
    pub fn get(&self) -> io::Result<Vec<u8>> {
        let (store, path) = (Arc::clone(&self.store), self.path());
        let bytes = self.run("downloading", async move {
            store.get(&path).await?.bytes().await
        })?;
        count(1, 0, bytes.len() as u64);
        Ok(bytes.to_vec())
    }

    /// Downloads the bytes `range` of the object.
    pub fn get_range(&self, range: Range<u64>) -> io::Result<Vec<u8>> {
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let (store, path) = (Arc::clone(&self.store), self.path());
        let bytes = self.run(
            "downloading",
            async move { store.get_range(&path, range).await },
        )?;
        count(1, 0, bytes.len() as u64);
        Ok(bytes.to_vec())
    }

    /// The object's size, or `None` if there is no such object.
    pub fn size(&self) -> io::Result<Option<u64>> {
        let (store, path) = (Arc::clone(&self.store), self.path());
        count(1, 0, 0);
        match block_on(async move { store.head(&path).await })? {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(io_error(&self.url(), "looking up", e)),
        }
    }

    /// Every object under this location taken as a folder (keys starting
    /// with `key/`), as (key relative to this location, size), sorted by
    /// key.
    pub fn list(&self) -> io::Result<Vec<(String, u64)>> {
        let (store, prefix) = (Arc::clone(&self.store), self.path());
        let prefix_len = if self.key.is_empty() {
            0
        } else {
            self.key.len() + 1
        };
        let metas: Vec<object_store::ObjectMeta> = self.run("listing", async move {
            store.list(Some(&prefix)).try_collect().await
        })?;
        // One request per page of 1000 keys, as S3 and GCS answer.
        count(1 + metas.len() as u64 / 1000, 0, 0);
        let mut found: Vec<(String, u64)> = metas
            .into_iter()
            .filter_map(|meta| {
                let key = meta.location.as_ref();
                Some((key.get(prefix_len..)?.to_owned(), meta.size))
            })
            .filter(|(name, _)| !name.is_empty())
            .collect();
        found.sort();
        Ok(found)
    }

    /// Deletes the object; a missing object is not an error.
    pub fn delete(&self) -> io::Result<()> {
        let (store, path) = (Arc::clone(&self.store), self.path());
        count(1, 0, 0);
        match block_on(async move { store.delete(&path).await })? {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(io_error(&self.url(), "deleting", e)),
        }
    }
}

/// Downloads the object at `url`.
pub fn read(url: &str) -> io::Result<Vec<u8>> {
    Remote::open(url)?.get()
}

/// Uploads `contents` as the object at `url`.
pub fn write(url: &str, contents: &[u8]) -> io::Result<()> {
    Remote::open(url)?.put(contents)
}

/// Whether `url` is an object, or a prefix with objects under it.
pub fn exists(url: &str) -> io::Result<bool> {
    let remote = Remote::open(url)?;
    if remote.size()?.is_some() {
        return Ok(true);
    }
    Ok(!remote.list()?.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_bucket_and_key() {
        assert_eq!(
            split_url("s3://bucket/a/b/").unwrap(),
            ("s3", "s3://bucket", "a/b")
        );
        assert_eq!(split_url("gs://bucket").unwrap(), ("gs", "gs://bucket", ""));
        assert!(split_url("s3:///key").is_err());
        assert!(split_url("ftp://b/k").is_err());
    }

    #[test]
    fn memory_store_round_trip_list_and_delete() {
        let dir = Remote::open("memory://remote-unit/run").unwrap();
        dir.child("b/two").put(b"22").unwrap();
        dir.child("a").put(b"1").unwrap();
        Remote::open("memory://remote-unit/runner")
            .unwrap()
            .put(b"not under run/")
            .unwrap();
        assert_eq!(
            dir.list().unwrap(),
            [("a".to_owned(), 1), ("b/two".to_owned(), 2)]
        );
        assert_eq!(dir.child("b/two").get_range(1..2).unwrap(), b"2");
        assert_eq!(dir.child("a").size().unwrap(), Some(1));
        dir.child("a").delete().unwrap();
        dir.child("a").delete().unwrap();
        assert_eq!(dir.child("a").size().unwrap(), None);
        let err = dir.child("a").get().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(
            err.to_string().contains("memory://remote-unit/run/a"),
            "{err}"
        );
    }

    #[test]
    fn large_files_go_up_in_parts() {
        let dir = std::env::temp_dir().join(format!("tbseg-parts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let local = dir.join("big");
        let bytes: Vec<u8> = (0..PART_BYTES * 2 + 100).map(|i| (i % 251) as u8).collect();
        std::fs::write(&local, &bytes).unwrap();
        let remote = Remote::open("memory://remote-unit/big").unwrap();
        remote.put_file(&local).unwrap();
        assert_eq!(remote.get().unwrap(), bytes);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn gcs_and_azure_urls_configure_their_stores() {
        // object_store's own parsing of the URL and the environment; no
        // request is sent (these services are not reachable here).
        let gcs = Remote::open("gs://tbseg-config-test/runs/exp1").unwrap();
        assert_eq!(gcs.url(), "gs://tbseg-config-test/runs/exp1");
        assert!(
            gcs.store.to_string().contains("tbseg-config-test"),
            "{}",
            gcs.store
        );
        std::env::set_var("AZURE_STORAGE_ACCOUNT_NAME", "tbsegaccount");
        let azure = Remote::open("az://container/runs").unwrap();
        assert_eq!(azure.key(), "runs");
        assert!(
            azure.store.to_string().contains("container"),
            "{}",
            azure.store
        );
    }
}
