//! `tbseg export`: a checkpoint written by tbseg comes out as a safetensors
//! file with the same names and values, optionally in PyTorch's layout.

use std::process::Command;

use safetensors::SafeTensors;
use tbseg::checkpoint::{Saver, TensorData};

fn tbseg() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tbseg"))
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn exports_the_latest_checkpoint_in_both_layouts() {
    let dir = tempfile::tempdir().unwrap();
    // TensorFlow's conv layout [kh, kw, in, out] = [1, 2, 1, 3].
    let kernel: Vec<f32> = (0..6).map(|v| v as f32).collect();
    let saver = Saver::new(dir.path());
    saver
        .save(
            7,
            [
                (
                    "Conv1/kernel",
                    TensorData::from_f32([1, 2, 1, 3], &kernel).unwrap(),
                ),
                ("global_step", TensorData::scalar_i64(7)),
            ],
        )
        .unwrap();

    let tf_out = dir.path().join("tf.safetensors");
    let status = tbseg()
        .args(["export", "--checkpoint"])
        .arg(dir.path())
        .arg("--out")
        .arg(&tf_out)
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::read(&tf_out).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let conv = file.tensor("Conv1/kernel").unwrap();
    assert_eq!(conv.shape(), &[1, 2, 1, 3]);
    assert_eq!(f32s(conv.data()), kernel);
    let step = file.tensor("global_step").unwrap();
    assert_eq!(step.data(), &7i64.to_le_bytes());

    let torch_out = dir.path().join("torch.safetensors");
    let status = tbseg()
        .args(["export", "--torch-layout", "--checkpoint"])
        .arg(dir.path().join("model.ckpt-7"))
        .arg("--out")
        .arg(&torch_out)
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::read(&torch_out).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let conv = file.tensor("Conv1/kernel").unwrap();
    // PyTorch [out, in, kh, kw] = [3, 1, 1, 2]: element (o, 0, 0, w) is
    // TensorFlow's (0, w, 0, o) = w * 3 + o.
    assert_eq!(conv.shape(), &[3, 1, 1, 2]);
    assert_eq!(f32s(conv.data()), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
}

#[test]
fn a_directory_without_checkpoints_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = tbseg()
        .args(["export", "--checkpoint"])
        .arg(dir.path())
        .args(["--out", "never.safetensors"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("no checkpoint in"), "{stderr}");
    assert!(!std::path::Path::new("never.safetensors").exists());
}
