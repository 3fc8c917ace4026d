//! A small hyperparameter sweep logged with the calls PyTorch users know:
//! `add_scalars` (several curves in one chart), one-call `add_hparams`
//! (hyperparameters and final metrics) and `f64` scalars.
//!
//! ```text
//! cargo run --release --example torch_style -- LOGDIR
//! tensorboard --logdir LOGDIR
//! ```
//!
//! Two runs, `lr_0.1` and `lr_0.01`, each of 20 steps (0..=19) of a toy
//! decay `loss = 1 / (1 + lr * step)`:
//! - `loss` with `add_scalars`: curves `train` (= `loss`) and `eval`
//!   (`1.25 * loss`), in the sub-runs `<run>/loss_train` and
//!   `<run>/loss_eval`;
//! - `precise`: `1e300 * (step + 1)` as a `Double` (a DT_DOUBLE scalar),
//!   beyond what a 32-bit float holds; TensorBoard's Python loader shows
//!   it, its default Rust loader skips DT_DOUBLE scalars;
//! - at step 19, `add_hparams` with `lr` and `optimizer = "adam"`, and the
//!   metrics `hparam/loss` (the last `loss`) and `hparam/eval_loss` (the
//!   last eval loss, an `f64`, stored as f32), in the run itself.
//!
//! scripts/conformance/check_torch_style.py checks what TensorBoard's
//! server shows for it.

use tbseg::summary::{Double, SummaryWriter};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let logdir = std::env::args().nth(1).ok_or("usage: torch_style LOGDIR")?;
    for lr in [0.1f32, 0.01] {
        let writer = SummaryWriter::new(format!("{logdir}/lr_{lr}"))?;
        let mut last = (0.0, 0.0);
        for step in 0..20u32 {
            let loss = 1.0 / (1.0 + lr * step as f32);
            let eval = 1.25 * loss;
            writer.add_scalars("loss", &[("train", loss), ("eval", eval)], step)?;
            writer.add_scalar("precise", Double(1e300 * f64::from(step + 1)), step)?;
            last = (loss, f64::from(eval));
        }
        writer.add_hparams(
            &[("lr", lr.into()), ("optimizer", "adam".into())],
            [
                ("hparam/loss", f64::from(last.0)),
                ("hparam/eval_loss", last.1),
            ],
            19,
        )?;
        writer.close()?;
        println!("{}", writer.path().display());
    }
    Ok(())
}
