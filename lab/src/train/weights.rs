//! A model's variables as a TensorFlow checkpoint: TF names and layouts plus
//! `global_step`, written and read with [`tbseg::checkpoint`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tbseg::checkpoint::{self, BundleReader, TensorData, GLOBAL_STEP};

use super::model::Model;
use super::TrainError;

/// The checkpoint tensors of `model` after `global_step` updates.
pub fn checkpoint_tensors(
    model: &Model,
    global_step: i64,
) -> Result<BTreeMap<String, TensorData>, TrainError> {
    let mut tensors = BTreeMap::new();
    for variable in model.export_tf()? {
        let data =
            TensorData::from_f32(variable.shape.clone(), &variable.values).map_err(|source| {
                TrainError::CheckpointTensor {
                    name: variable.name.clone(),
                    message: source.to_string(),
                }
            })?;
        tensors.insert(variable.name, data);
    }
    tensors.insert(GLOBAL_STEP.to_string(), TensorData::scalar_i64(global_step));
    Ok(tensors)
}

/// Loads every variable of `model` from the checkpoint at `prefix` and
/// returns its `global_step`. Every model variable must be present.
///
/// The error says what is wrong: a variable the checkpoint lacks (wrong
/// `--model`), one of the wrong shape or dtype, or the library's own
/// report of a truncated, corrupt or mis-checksummed file, naming the file
/// and the tensor.
pub fn restore(model: &mut Model, prefix: &Path) -> Result<i64, TrainError> {
    let reader = BundleReader::open(prefix)?;
    for (name, expected) in model.tf_variable_shapes() {
        let tensor = reader.get(&name).map_err(|err| match err {
            checkpoint::CheckpointError::NotFound { .. } => TrainError::MissingVariable {
                prefix: prefix.to_path_buf(),
                name: name.clone(),
            },
            other => TrainError::Checkpoint(other),
        })?;
        if tensor.shape() != expected.as_slice() {
            return Err(TrainError::VariableShape {
                name,
                expected,
                found: tensor.shape().to_vec(),
            });
        }
        let values = tensor
            .to_f32()
            .map_err(|source| TrainError::CheckpointTensor {
                name: name.clone(),
                message: source.to_string(),
            })?;
        model.import_tf(&name, tensor.shape(), &values)?;
    }
    let step = checkpoint::read_global_step(&reader)?;
    if step < 0 {
        return Err(TrainError::CheckpointTensor {
            name: GLOBAL_STEP.to_string(),
            message: format!("{step} in {} (must be at least 0)", prefix.display()),
        });
    }
    Ok(step)
}

/// The newest checkpoint in `dir`, or an error saying there is none.
pub fn latest(dir: &Path) -> Result<PathBuf, TrainError> {
    checkpoint::latest_checkpoint(dir)?.ok_or_else(|| TrainError::NoCheckpoint {
        dir: dir.to_path_buf(),
    })
}

/// The step in a checkpoint file name (`model.ckpt-1000` → 1000), which the
/// lab's evaluation used as the step of its summaries.
pub fn step_from_name(prefix: &Path) -> Option<i64> {
    let name = prefix.file_name()?.to_str()?;
    name.rsplit_once('-')?.1.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::model::{Architecture, CnnConfig, ModelKind};
    use tbseg::checkpoint::Saver;
    use tch::{Device, Kind, Tensor};

    fn tiny(seed: i64) -> Model {
        tch::manual_seed(seed);
        let config = CnnConfig {
            image_size: 32,
            channels: [3, 4, 5, 6],
        };
        Model::with_architecture(ModelKind::CnnDice, Architecture::Cnn(config), Device::Cpu)
    }

    #[test]
    fn saved_checkpoint_restores_identical_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let source = tiny(1);
        let tensors = checkpoint_tensors(&source, 1001).unwrap();
        assert_eq!(tensors["upscore/kernel"].shape(), [31, 31, 2, 2]);
        let prefix = Saver::new(dir.path()).save(1000, &tensors).unwrap();
        assert_eq!(latest(dir.path()).unwrap(), prefix);
        assert_eq!(step_from_name(&prefix), Some(1000));

        let mut target = tiny(2);
        let x = Tensor::rand([1, 1, 32, 32], (Kind::Float, Device::Cpu));
        assert!(!tch::no_grad(|| source
            .forward(&x)
            .unwrap()
            .equal(&target.forward(&x).unwrap())));
        assert_eq!(restore(&mut target, &prefix).unwrap(), 1001);
        assert!(tch::no_grad(|| source
            .forward(&x)
            .unwrap()
            .equal(&target.forward(&x).unwrap())));
    }

    #[test]
    fn restoring_into_the_wrong_model_names_the_missing_variable() {
        let dir = tempfile::tempdir().unwrap();
        let tensors = checkpoint_tensors(&tiny(1), 5).unwrap();
        let prefix = Saver::new(dir.path()).save(5, &tensors).unwrap();
        let config = crate::train::model::SimpleConfig {
            image_size: 4,
            hidden: 2,
        };
        let mut simple =
            Model::with_architecture(ModelKind::Simple, Architecture::Simple(config), Device::Cpu);
        let err = restore(&mut simple, &prefix).unwrap_err().to_string();
        assert!(err.contains("Hidden1/W_fc"), "{err}");
        assert!(matches!(
            latest(&dir.path().join("none")),
            Err(TrainError::NoCheckpoint { .. })
        ));
    }

    #[test]
    fn restore_reports_the_real_cause() {
        let dir = tempfile::tempdir().unwrap();
        let tensors = checkpoint_tensors(&tiny(1), 7).unwrap();
        let prefix = Saver::new(dir.path()).save(7, &tensors).unwrap();
        let data = dir.path().join("model.ckpt-7.data-00000-of-00001");
        let good = std::fs::read(&data).unwrap();

        // One flipped byte: the checksum of the tensor it belongs to.
        let mut flipped = good.clone();
        flipped[good.len() - 1] ^= 0x55;
        std::fs::write(&data, &flipped).unwrap();
        let err = restore(&mut tiny(2), &prefix).unwrap_err().to_string();
        assert!(
            err.contains("checksum") && err.contains("model.ckpt-7"),
            "{err}"
        );
        assert!(!err.contains("wrong --model"), "{err}");

        // A truncated data file: the tensor that runs past its end.
        std::fs::write(&data, &good[..good.len() / 2]).unwrap();
        let err = restore(&mut tiny(2), &prefix).unwrap_err().to_string();
        assert!(err.contains("past the end"), "{err}");

        // Another model's shapes under the same names.
        std::fs::write(&data, &good).unwrap();
        tch::manual_seed(3);
        let config = CnnConfig {
            image_size: 32,
            channels: [3, 4, 5, 7],
        };
        let mut wider =
            Model::with_architecture(ModelKind::CnnDice, Architecture::Cnn(config), Device::Cpu);
        let err = restore(&mut wider, &prefix).unwrap_err().to_string();
        assert!(err.contains("has shape"), "{err}");
        assert_eq!(restore(&mut tiny(2), &prefix).unwrap(), 7);
    }
}
