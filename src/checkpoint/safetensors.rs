//! Export of a set of tensors to a `.safetensors` file, for PyTorch users
//! (`safetensors.torch.load_file`). Names are kept exactly as given, so a
//! checkpoint exported this way keeps TensorFlow's names and layouts; use
//! [`layout`](super::layout) first to get PyTorch's layouts.

use std::borrow::Borrow;
use std::fs;
use std::path::Path;

use safetensors::tensor::{serialize_to_file, TensorView};
use safetensors::Dtype;

use super::bundle::{DType, TensorData};
use super::error::{CheckpointError, Result};
use super::fsutil::{parent_dir, rename, sync_dir, temp_path_for};

/// safetensors' name for a tbseg dtype.
pub fn safetensors_dtype(dtype: DType) -> Dtype {
    match dtype {
        DType::F32 => Dtype::F32,
        DType::F64 => Dtype::F64,
        DType::I32 => Dtype::I32,
        DType::I64 => Dtype::I64,
        DType::U8 => Dtype::U8,
        DType::Bool => Dtype::BOOL,
    }
}

/// Writes `tensors` to `path` as one safetensors file. The file is written
/// under a temporary name and renamed into place, so `path` is either the
/// old file or the complete new one.
pub fn export_safetensors<I, K, T>(path: impl AsRef<Path>, tensors: I) -> Result<()>
where
    I: IntoIterator<Item = (K, T)>,
    K: AsRef<str>,
    T: Borrow<TensorData>,
{
    let path = path.as_ref();
    let tensors: Vec<(String, T)> = tensors
        .into_iter()
        .map(|(name, tensor)| (name.as_ref().to_owned(), tensor))
        .collect();
    let mut views = Vec::with_capacity(tensors.len());
    for (name, tensor) in &tensors {
        let tensor: &TensorData = tensor.borrow();
        let shape = tensor.shape().iter().map(|&dim| dim as usize).collect();
        let view = TensorView::new(safetensors_dtype(tensor.dtype()), shape, tensor.bytes())
            .map_err(|source| CheckpointError::Safetensors {
                path: path.to_owned(),
                source,
            })?;
        views.push((name.clone(), view));
    }
    let temp = temp_path_for(path);
    if let Err(source) = serialize_to_file(views, None, &temp) {
        let _ = fs::remove_file(&temp);
        return Err(CheckpointError::Safetensors {
            path: path.to_owned(),
            source,
        });
    }
    // The crate writes but does not fsync: sync before the rename, so the
    // final name never points at data still in the page cache only.
    if let Err(err) = fs::File::open(&temp).and_then(|file| file.sync_all()) {
        let _ = fs::remove_file(&temp);
        return Err(CheckpointError::io("syncing", &temp)(err));
    }
    if let Err(err) = rename(&temp, path) {
        let _ = fs::remove_file(&temp);
        return Err(err);
    }
    sync_dir(parent_dir(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use safetensors::SafeTensors;

    #[test]
    fn round_trip_through_the_crate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        let tensors = [
            (
                "Conv1/kernel",
                TensorData::from_f32([1, 1, 1, 3], &[0.5, -1.0, 2.0]).unwrap(),
            ),
            ("global_step", TensorData::scalar_i64(42)),
            ("mask", TensorData::from_bool([2], &[true, false]).unwrap()),
            ("bytes", TensorData::from_u8([2], &[7, 8]).unwrap()),
            ("d", TensorData::from_f64([1], &[0.25]).unwrap()),
            ("i", TensorData::from_i32([2], &[-3, 3]).unwrap()),
        ];
        export_safetensors(&path, tensors.iter().map(|(name, tensor)| (*name, tensor))).unwrap();

        let bytes = fs::read(&path).unwrap();
        let file = SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(file.len(), tensors.len());
        for (name, tensor) in &tensors {
            let view = file.tensor(name).unwrap();
            assert_eq!(view.dtype(), safetensors_dtype(tensor.dtype()), "{name}");
            let shape: Vec<u64> = view.shape().iter().map(|&d| d as u64).collect();
            assert_eq!(shape, tensor.shape(), "{name}");
            assert_eq!(view.data(), tensor.bytes(), "{name}");
        }
        // No temporary file is left beside it.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
