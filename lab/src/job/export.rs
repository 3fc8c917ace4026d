//! A TensorFlow checkpoint (tbseg's or TensorFlow's) written as one
//! `.safetensors` file, for PyTorch users. Needs no libtorch.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use tbseg::checkpoint::layout::conv_tf_to_torch;
use tbseg::checkpoint::{
    export_safetensors, index_path, latest_checkpoint, BundleReader, DType, TensorData,
};

/// What [`export`] wrote.
#[derive(Clone, Debug)]
pub struct ExportReport {
    /// The checkpoint read.
    pub prefix: PathBuf,
    /// Tensors written.
    pub tensors: usize,
    /// Tensors of types safetensors cannot hold, as (name, dtype name).
    pub skipped: Vec<(String, String)>,
}

/// Reads `checkpoint` (a checkpoint folder, whose latest checkpoint is
/// used, or a checkpoint prefix) and writes its tensors to `out`, with
/// rank-4 kernels permuted to PyTorch's layout when `torch_layout`.
pub fn export(checkpoint: &Path, out: &Path, torch_layout: bool) -> anyhow::Result<ExportReport> {
    let prefix = if checkpoint.is_dir() {
        latest_checkpoint(checkpoint)?.with_context(|| {
            format!(
                "no checkpoint in {} (its `checkpoint` file names none)",
                checkpoint.display()
            )
        })?
    } else if index_path(checkpoint).exists() {
        checkpoint.to_path_buf()
    } else {
        bail!(
            "{} is neither a checkpoint directory nor a checkpoint prefix (no {})",
            checkpoint.display(),
            index_path(checkpoint).display()
        );
    };
    let reader = BundleReader::open(&prefix)?;
    let mut tensors = Vec::new();
    let mut skipped = Vec::new();
    for name in reader.names() {
        // The index lists the name, but an index with unsorted or repeated
        // keys can still fail the lookup: an error, not a panic.
        let Some(info) = reader.info(name) else {
            bail!(
                "{}: tensor {name:?} is listed but cannot be looked up (a corrupt index?)",
                prefix.display()
            );
        };
        if !info.is_supported() {
            skipped.push((name.to_owned(), info.dtype_name()));
            continue;
        }
        let tensor = reader.get(name)?;
        let tensor = if torch_layout {
            to_torch_layout(tensor).with_context(|| format!("permuting {name}"))?
        } else {
            tensor
        };
        tensors.push((name.to_owned(), tensor));
    }
    export_safetensors(out, tensors.iter().map(|(n, t)| (n.as_str(), t)))?;
    Ok(ExportReport {
        prefix,
        tensors: tensors.len(),
        skipped,
    })
}

fn to_torch_layout(tensor: TensorData) -> anyhow::Result<TensorData> {
    let &[kh, kw, a, b] = tensor.shape() else {
        return Ok(tensor);
    };
    if tensor.dtype() != DType::F32 {
        return Ok(tensor);
    }
    let shape = [kh, kw, a, b].map(|d| d as usize);
    let (data, shape) = conv_tf_to_torch(&tensor.to_f32()?, shape)?;
    Ok(TensorData::from_f32(shape.map(|d| d as u64), &data)?)
}
