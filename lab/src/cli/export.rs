//! `tbseg export`: a TensorFlow checkpoint as a `.safetensors` file, for
//! PyTorch users. Needs no libtorch.

use std::path::PathBuf;

use anyhow::{bail, Context};

use tbseg::checkpoint::layout::conv_tf_to_torch;
use tbseg::checkpoint::{
    export_safetensors, index_path, latest_checkpoint, BundleReader, DType, TensorData,
};

/// Export a TensorFlow checkpoint (tbseg's or TensorFlow's) to safetensors.
///
/// Names are kept. By default the layouts are TensorFlow's too; with
/// `--torch-layout` every rank-4 kernel is permuted to PyTorch's order
/// (`Conv2d` weights `[out, in, kh, kw]`, `ConvTranspose2d` weights
/// `[in, out, kh, kw]`, the same permutation of TensorFlow's
/// `[kh, kw, in, out]` and `[kh, kw, out, in]`). Matrices stay `[in, out]`
/// as the lab's `matmul` uses them. Tensors of types safetensors cannot hold
/// (strings, such as TensorFlow's object graph) are skipped and listed.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A checkpoint directory (its latest checkpoint is used) or a checkpoint
    /// prefix such as `logs/cnn-dice/model.ckpt-6950`.
    #[arg(long)]
    checkpoint: PathBuf,
    /// The `.safetensors` file to write.
    #[arg(long)]
    out: PathBuf,
    /// Permute rank-4 kernels to PyTorch's layout.
    #[arg(long = "torch-layout", visible_alias = "torch_layout")]
    torch_layout: bool,
}

/// Reads the checkpoint and writes the safetensors file.
pub fn run(args: Args) -> anyhow::Result<()> {
    let prefix = if args.checkpoint.is_dir() {
        latest_checkpoint(&args.checkpoint)?.with_context(|| {
            format!(
                "no checkpoint in {} (its `checkpoint` file names none)",
                args.checkpoint.display()
            )
        })?
    } else if index_path(&args.checkpoint).exists() {
        args.checkpoint.clone()
    } else {
        bail!(
            "{} is neither a checkpoint directory nor a checkpoint prefix (no {})",
            args.checkpoint.display(),
            index_path(&args.checkpoint).display()
        );
    };
    let reader = BundleReader::open(&prefix)?;
    let mut tensors = Vec::new();
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
            eprintln!(
                "skipped {name}: {} has no safetensors type",
                info.dtype_name()
            );
            continue;
        }
        let tensor = reader.get(name)?;
        let tensor = if args.torch_layout {
            to_torch_layout(tensor).with_context(|| format!("permuting {name}"))?
        } else {
            tensor
        };
        tensors.push((name.to_owned(), tensor));
    }
    export_safetensors(&args.out, tensors.iter().map(|(n, t)| (n.as_str(), t)))?;
    println!(
        "wrote {} tensors of {} to {}",
        tensors.len(),
        prefix.display(),
        args.out.display()
    );
    Ok(())
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
