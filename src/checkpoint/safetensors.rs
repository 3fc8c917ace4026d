//! Export of a set of tensors to a `.safetensors` file, for PyTorch users
//! (`safetensors.torch.load_file`). Names are kept exactly as given, so a
//! checkpoint exported this way keeps TensorFlow's names and layouts; use
//! [`layout`](super::layout) first to get PyTorch's layouts.

use std::borrow::Borrow;
use std::path::Path;

use safetensors::tensor::{serialize, TensorView};
use safetensors::Dtype;

use super::error::{CheckpointError, Result};
use super::fsutil::write_atomic;
use super::tensor::{DType, TensorData};

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

/// Writes `tensors` to `path` as one safetensors file, crash-safely
/// ([`crate::atomic::write`]): `path` is either the old file or the
/// complete new one, synced. The file is assembled in memory first (one
/// more copy of the tensors' bytes), since the crate's own file writer
/// neither syncs nor takes a writer.
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
    let bytes = serialize(views, None).map_err(|source| CheckpointError::Safetensors {
        path: path.to_owned(),
        source,
    })?;
    write_atomic(path, &bytes)
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

        let bytes = std::fs::read(&path).unwrap();
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
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
