//! A model's variables as a TensorFlow checkpoint: TF names and layouts plus
//! `global_step`, written and read with [`crate::checkpoint`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::checkpoint::{self, layout::GLOBAL_STEP, BundleReader, TensorData};

use super::model::Model;
use super::TrainError;

/// The checkpoint tensors of `model` after `global_step` updates.
pub fn checkpoint_tensors(
    model: &Model,
    global_step: u64,
) -> Result<BTreeMap<String, TensorData>, TrainError> {
    let mut tensors = BTreeMap::new();
    for variable in model.export_tf() {
        let data =
            TensorData::from_f32(variable.shape.clone(), &variable.values).map_err(|source| {
                TrainError::CheckpointTensor {
                    name: variable.name.clone(),
                    message: source.to_string(),
                }
            })?;
        tensors.insert(variable.name, data);
    }
    tensors.insert(
        GLOBAL_STEP.to_string(),
        TensorData::scalar_i64(global_step as i64),
    );
    Ok(tensors)
}

/// Loads every variable of `model` from the checkpoint at `prefix` and
/// returns its `global_step`. Every model variable must be present.
pub fn restore(model: &mut Model, prefix: &Path) -> Result<u64, TrainError> {
    let reader = BundleReader::open(prefix)?;
    for (name, _) in model.tf_variable_shapes() {
        let tensor = reader.get(&name).map_err(|err| match err {
            checkpoint::CheckpointError::Io { .. } => TrainError::Checkpoint(err),
            _ => TrainError::MissingVariable {
                prefix: prefix.to_path_buf(),
                name: name.clone(),
            },
        })?;
        let values = tensor
            .to_f32()
            .map_err(|source| TrainError::CheckpointTensor {
                name: name.clone(),
                message: source.to_string(),
            })?;
        model.import_tf(&name, tensor.shape(), &values)?;
    }
    let step = checkpoint::read_global_step(&reader)?;
    Ok(u64::try_from(step).unwrap_or(0))
}

/// The newest checkpoint in `dir`, or an error saying there is none.
pub fn latest(dir: &Path) -> Result<PathBuf, TrainError> {
    checkpoint::latest_checkpoint(dir)?.ok_or_else(|| TrainError::NoCheckpoint {
        dir: dir.to_path_buf(),
    })
}

/// The step in a checkpoint file name (`model.ckpt-1000` → 1000), which the
/// lab's evaluation used as the step of its summaries.
pub fn step_from_name(prefix: &Path) -> Option<u64> {
    let name = prefix.file_name()?.to_str()?;
    name.rsplit_once('-')?.1.parse().ok()
}
