//! The writer-and-checkpoint example of docs/library.md ("Checkpoints"), compiled
//! and run so that it stays true:
//!
//! ```text
//! cargo run --release --example quickstart -- runs/exp1
//! ```

use tbseg::checkpoint::{Saver, TensorData};
use tbseg::summary::SummaryWriter;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "runs/exp1".into());
    let writer = SummaryWriter::new(&dir)?; // one run = one directory
    let saver = Saver::new(&dir).max_to_keep(5); // TensorFlow V2 checkpoints
    for step in 0..1000 {
        let loss = 1.0 / (1.0 + step as f32);
        writer.add_scalar("loss", loss, step)?; // returns at once; a thread writes
    }
    let w = TensorData::from_f32([2, 2], &[1.0, 2.0, 3.0, 4.0])?;
    saver.save(
        1000,
        [
            ("dense/kernel", w),
            ("global_step", TensorData::scalar_i64(1000)),
        ],
    )?;
    writer.close()?; // flushes; I/O errors come back as Err
    println!("wrote {}", writer.path().display());
    Ok(())
}
