//! `tbseg export`: a TensorFlow checkpoint as a `.safetensors` file, for
//! PyTorch users ([`crate::job::export`]). Needs no libtorch.

use std::path::PathBuf;

use crate::job::export::export;

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
    let report = export(&args.checkpoint, &args.out, args.torch_layout)?;
    for (name, dtype) in &report.skipped {
        eprintln!("skipped {name}: {dtype} has no safetensors type");
    }
    println!(
        "wrote {} tensors of {} to {}",
        report.tensors,
        report.prefix.display(),
        args.out.display()
    );
    Ok(())
}
