//! TensorFlow V2 checkpoints ("tensor bundles") in pure Rust.
//!
//! A checkpoint at prefix `dir/model.ckpt-1000` is two files:
//! `model.ckpt-1000.data-00000-of-00001` (the tensors' little-endian bytes,
//! concatenated) and `model.ckpt-1000.index` (a LevelDB-style table saying
//! where each tensor is, with dtype, shape and CRC). A text file
//! `dir/checkpoint` names the newest checkpoint and the retained ones.
//! `tf.train.load_checkpoint`, `tf.train.list_variables` and
//! `tf.train.latest_checkpoint` read what [`Saver`] writes.
//!
//! - [`Saver`] saves numbered checkpoints crash-safely and keeps the newest
//!   few; [`latest_checkpoint`] finds the newest complete one.
//! - [`BundleWriter`] / [`BundleReader`] write and read one checkpoint;
//!   [`TensorData`] is a dense tensor (dtype, shape, bytes), and
//!   [`BundleReader::get_strings`] reads string tensors such as the object
//!   graph of TensorFlow 2's `tf.train.Checkpoint`.
//! - [`table`] is the SSTable format of the `.index` file, [`state`] the
//!   `checkpoint` file, [`layout`] the PyTorch ⇄ TensorFlow weight layouts;
//!   with the `safetensors` feature, `export_safetensors` is the export for
//!   PyTorch users.
//!
//! ```
//! use std::collections::BTreeMap;
//! use tbseg::checkpoint::{latest_checkpoint, BundleReader, Saver, TensorData};
//!
//! let dir = tempfile::tempdir()?;
//! let mut tensors = BTreeMap::new();
//! tensors.insert("Conv1/kernel".to_string(), TensorData::from_f32([1, 1, 1, 2], &[0.5, -0.5])?);
//! tensors.insert("global_step".to_string(), TensorData::scalar_i64(100));
//! let saver = Saver::new(dir.path()).max_to_keep(5);
//! saver.save(100, &tensors)?;
//!
//! let prefix = latest_checkpoint(dir.path())?.expect("just saved");
//! let reader = BundleReader::open(&prefix)?;
//! assert_eq!(reader.get("Conv1/kernel")?.to_f32()?, [0.5, -0.5]);
//! assert_eq!(reader.get("global_step")?.to_scalar_i64()?, 100);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Borrow;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

mod bundle;
mod error;
mod fsutil;
pub mod layout;
#[cfg(feature = "safetensors")]
mod safetensors;
pub mod state;
pub mod table;
mod tensor;

pub use bundle::{data_path, index_path, BundleReader, BundleWriter, TensorInfo};
pub use error::{CheckpointError, Result};
#[cfg(feature = "safetensors")]
pub use safetensors::{export_safetensors, safetensors_dtype};
use state::StateLock;
pub use state::{CheckpointState, STATE_FILE_NAME, STATE_LOCK_FILE_NAME};
pub use tensor::{DType, TensorData, TensorError};

/// Saves numbered checkpoints into one directory, like TensorFlow's
/// `Saver` / `CheckpointManager`.
///
/// Every [`save`](Self::save) is crash-safe: the bundle is written under
/// temporary names, synced and renamed into place, and only then does the
/// `checkpoint` state file (replaced atomically) name it. Whenever the
/// process dies, the checkpoint the state file names is complete. Old
/// checkpoints beyond [`max_to_keep`](Self::max_to_keep) are deleted after
/// the new one is in place, and so are the temporary files an earlier,
/// killed save left behind (see [`STALE_TEMP_AGE`]).
#[derive(Debug, Clone)]
pub struct Saver {
    dir: PathBuf,
    prefix: String,
    max_to_keep: usize,
}

impl Saver {
    /// A saver writing into `dir` (created on the first save).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Saver {
            dir: dir.into(),
            prefix: "model.ckpt".into(),
            max_to_keep: 5,
        }
    }

    /// The file name prefix; checkpoints are `<prefix>-<step>.*`. By
    /// default, `model.ckpt`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How many checkpoints to keep, the newest ones; 0 keeps all. By
    /// default, 5 (TensorFlow's default).
    pub fn max_to_keep(mut self, max_to_keep: usize) -> Self {
        self.max_to_keep = max_to_keep;
        self
    }

    /// The checkpoint directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The prefix path the checkpoint of `step` gets.
    pub fn checkpoint_prefix(&self, step: i64) -> PathBuf {
        self.dir.join(self.checkpoint_name(step))
    }

    /// Whether `name` (a file name in [`dir`](Self::dir)) is one this
    /// saver writes: a checkpoint's `.index` or `.data-*` file
    /// (`<prefix>-<step>.*`), the [`STATE_FILE_NAME`] state file, its
    /// [`STATE_LOCK_FILE_NAME`], or a temporary one of these that a killed
    /// save left behind. For callers that tell a run's files from others in
    /// the same folder without re-deriving the naming scheme.
    pub fn owns_file_name(&self, name: &str) -> bool {
        let checkpoint = name
            .strip_prefix(self.prefix.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some();
        let state = name
            .strip_prefix(STATE_FILE_NAME)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(crate::atomic::TEMP_MARKER));
        checkpoint || state || name == STATE_LOCK_FILE_NAME
    }

    fn checkpoint_name(&self, step: i64) -> String {
        format!("{}-{step}", self.prefix)
    }

    /// Writes `tensors` as the checkpoint of `step` and returns its prefix
    /// path (`dir/model.ckpt-<step>`).
    ///
    /// The state file already in the directory is read first, so a resumed
    /// run keeps counting old checkpoints towards `max_to_keep`. Saving a
    /// step that already has a checkpoint replaces it; the state file stops
    /// naming it while it is rewritten.
    pub fn save<I, K, T>(&self, step: i64, tensors: I) -> Result<PathBuf>
    where
        I: IntoIterator<Item = (K, T)>,
        K: AsRef<str>,
        T: Borrow<TensorData>,
    {
        let name = self.checkpoint_name(step);
        let prefix = self.dir.join(&name);
        let is_this = |path: &str| names_checkpoint(&self.dir, path, &prefix);
        // On an object store there is no directory to create and no lock:
        // one saver per checkpoint folder (see the README).
        let remote = crate::storage::is_remote(&self.dir);
        let lock = || -> Result<Option<StateLock>> {
            if remote {
                Ok(None)
            } else {
                StateLock::acquire(&self.dir).map(Some)
            }
        };
        if !remote {
            fs::create_dir_all(&self.dir)
                .map_err(CheckpointError::io("creating directory", &self.dir))?;
        }
        {
            // Re-saving a step: the state file must stop naming the old
            // files before they are overwritten.
            let _lock = lock()?;
            let mut kept = self.retained()?;
            if kept.iter().any(|(path, _)| is_this(path)) && index_exists(&prefix)? {
                kept.retain(|(path, _)| !is_this(path));
                self.write_state(&kept)?;
            }
        }

        // On an object store: staged locally, then data and index uploaded,
        // in that order (see `BundleWriter`).
        let mut writer = BundleWriter::create(&prefix)?;
        for (tensor_name, tensor) in tensors {
            writer.add(tensor_name.as_ref(), tensor.borrow())?;
        }
        writer.finish()?;

        // Read the state file again under the lock: another saver in this
        // directory may have added its checkpoint meanwhile, and its entry
        // must survive this write.
        let removed = {
            let _lock = lock()?;
            let mut kept = self.retained()?;
            kept.retain(|(path, _)| !is_this(path));
            kept.push((name, Some(unix_time_now())));
            let excess = match self.max_to_keep {
                0 => 0,
                max => kept.len().saturating_sub(max),
            };
            let removed: Vec<_> = kept.drain(..excess).collect();
            self.write_state(&kept)?;
            removed
        };
        for (path, _) in removed {
            delete_checkpoint_files(&self.dir.join(path));
        }
        if !remote {
            self.delete_stale_temp_files();
        }
        Ok(prefix)
    }

    /// Deletes this saver's temporary files (`<prefix>-<step>.*.tempstate*`
    /// and `checkpoint.tempstate*`) untouched for [`STALE_TEMP_AGE`]: what a
    /// save killed midway left behind. A save in progress keeps writing to
    /// its files, so the age spares a second process saving into the same
    /// directory. Failures are ignored, as for old checkpoints.
    fn delete_stale_temp_files(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let ours = format!("{}-", self.prefix);
        let state_temp = format!("{STATE_FILE_NAME}.tempstate");
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                continue;
            };
            let is_temp = (name.starts_with(&ours) && name.contains(".tempstate"))
                || name.starts_with(&state_temp);
            let stale = || {
                let modified = entry.metadata().and_then(|m| m.modified()).ok()?;
                let age = SystemTime::now().duration_since(modified).ok()?;
                Some(age >= STALE_TEMP_AGE)
            };
            if is_temp && stale() == Some(true) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// The checkpoints the state file lists, oldest first, with their
    /// timestamps when the file has one for each.
    fn retained(&self) -> Result<Vec<(String, Option<f64>)>> {
        let Some(state) = CheckpointState::read(&self.dir)? else {
            return Ok(Vec::new());
        };
        let timestamps = &state.all_model_checkpoint_timestamps;
        let has_timestamps = timestamps.len() == state.all_model_checkpoint_paths.len();
        Ok(state
            .all_model_checkpoint_paths
            .iter()
            .enumerate()
            .map(|(i, path)| (path.clone(), has_timestamps.then(|| timestamps[i])))
            .collect())
    }

    /// Writes the state file naming `kept` (the newest last), or removes it
    /// when nothing is kept.
    fn write_state(&self, kept: &[(String, Option<f64>)]) -> Result<()> {
        let Some((newest, _)) = kept.last() else {
            let path = self.dir.join(STATE_FILE_NAME);
            return match crate::storage::remove_file(&path) {
                Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                    Err(CheckpointError::io("removing", path)(err))
                }
                _ => Ok(()),
            };
        };
        let timestamps: Option<Vec<f64>> = kept.iter().map(|(_, time)| *time).collect();
        CheckpointState {
            model_checkpoint_path: newest.clone(),
            all_model_checkpoint_paths: kept.iter().map(|(path, _)| path.clone()).collect(),
            all_model_checkpoint_timestamps: timestamps.unwrap_or_default(),
            last_preserved_timestamp: None,
        }
        .write(&self.dir)
    }
}

/// Whether `listed`, a path from the state file, names the checkpoint
/// `prefix`. TensorFlow writes absolute paths when it was given an absolute
/// directory, tbseg relative ones (as TensorFlow does for a relative
/// directory); both must match the same checkpoint, so the directories are
/// compared after resolving them, not as text.
fn names_checkpoint(dir: &Path, listed: &str, prefix: &Path) -> bool {
    let listed = dir.join(listed);
    if listed == prefix {
        return true;
    }
    if listed.file_name() != prefix.file_name() {
        return false;
    }
    let resolve = |path: &Path| fs::canonicalize(fsutil::parent_dir(path)).ok();
    matches!((resolve(&listed), resolve(prefix)), (Some(a), Some(b)) if a == b)
}

/// How long a temporary file must have been left untouched before a
/// [`Saver`] treats it as the remains of a killed save and deletes it.
pub const STALE_TEMP_AGE: Duration = Duration::from_secs(10 * 60);

fn unix_time_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs_f64())
        .unwrap_or(0.0)
}

/// Deletes a checkpoint's index, then its data files. The index goes first
/// so that an interrupted deletion never leaves an index without data.
/// Failures are ignored: the new checkpoint is already safe, and a file
/// left behind only costs disk space.
fn delete_checkpoint_files(prefix: &Path) {
    if crate::storage::is_remote(prefix) {
        // No listing (the folder may hold thousands of event segments):
        // the index says how many data shards there are.
        let shards = BundleReader::open(prefix).map_or(1, |reader| reader.num_shards());
        let _ = crate::storage::remove_file(index_path(prefix));
        for shard in 0..shards {
            let _ = crate::storage::remove_file(data_path(prefix, shard, shards));
        }
        return;
    }
    let _ = fs::remove_file(index_path(prefix));
    let Some(base) = prefix.file_name().and_then(|name| name.to_str()) else {
        return;
    };
    let data_start = format!("{base}.data-");
    let dir = fsutil::parent_dir(prefix);
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        if let Some(shard) = file_name.strip_prefix(&data_start) {
            // Exactly `NNNNN-of-NNNNN`, so `model.ckpt-1` never matches the
            // files of `model.ckpt-10`.
            let is_shard = shard.len() == 14
                && shard.is_char_boundary(5)
                && &shard[5..9] == "-of-"
                && shard[..5]
                    .bytes()
                    .chain(shard[9..].bytes())
                    .all(|b| b.is_ascii_digit());
            if is_shard {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// The newest complete checkpoint in `dir`, as TensorFlow's
/// `tf.train.latest_checkpoint` finds it: the state file's
/// `model_checkpoint_path` (joined to `dir` if relative), provided its
/// `.index` exists. `Ok(None)` when there is no state file or no such
/// index; an error when the state file exists but cannot be read.
pub fn latest_checkpoint(dir: impl AsRef<Path>) -> Result<Option<PathBuf>> {
    let dir = dir.as_ref();
    let Some(state) = CheckpointState::read(dir)? else {
        return Ok(None);
    };
    if state.model_checkpoint_path.is_empty() {
        return Ok(None);
    }
    let prefix = state.model_checkpoint_prefix(dir);
    Ok(index_exists(&prefix)?.then_some(prefix))
}

/// Whether the checkpoint at `prefix` has its index (file or object).
fn index_exists(prefix: &Path) -> Result<bool> {
    let index = index_path(prefix);
    crate::storage::is_file(&index).map_err(CheckpointError::io("looking up", index))
}

/// The name TensorFlow gives the training step counter in a checkpoint:
/// an `int64` scalar.
pub const GLOBAL_STEP: &str = "global_step";

/// Reads the `global_step` scalar (an `int64`, the trainer's convention)
/// from a checkpoint.
pub fn read_global_step(reader: &BundleReader) -> Result<i64> {
    let tensor = reader.get(GLOBAL_STEP)?;
    tensor
        .to_scalar_i64()
        .map_err(|source| CheckpointError::Tensor {
            name: GLOBAL_STEP.to_owned(),
            source,
        })
}
