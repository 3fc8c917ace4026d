//! Prediction: a checkpoint applied to new images.
//!
//! Input is either a lab-schema TFRecord file (every record is predicted;
//! its label is drawn in the overlay) or one 256x256 PNG. PNG intensities:
//! a 16-bit grayscale PNG holds raw scanner values (like the DICOM stored
//! values the lab's TFRecords hold) and is divided by 1024 exactly like the
//! lab's reader; an 8-bit PNG is a display image and is mapped to 0..1
//! (value / 255), i.e. treated as spanning raw values 0..1024. Colour PNGs
//! are converted to grayscale first.
//!
//! Output per image `NNNN` (record index from 0000): `NNNN_mask.png`
//! (8-bit, 0 background, 255 LV) and `NNNN_overlay.png`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::data;
use crate::png_file;
use crate::train::eval::predict as predict_masks;
use crate::train::validate::CheckpointChoice;
use crate::train::{weights, DeviceChoice, Model, ModelKind, TrainError};

use super::data_files::read_images;
use super::location::Location;
use super::runtime::{announce, start};

/// A prediction job.
#[derive(Clone, Debug)]
pub struct PredictJob {
    /// Which network the checkpoint holds.
    pub kind: ModelKind,
    /// Folder with the checkpoints.
    pub checkpoint_dir: Location,
    /// Which checkpoint to load.
    pub checkpoint: CheckpointChoice,
    /// A lab TFRecord file or a 256x256 grayscale PNG.
    pub input: Location,
    /// Folder for the masks and overlays (created if needed).
    pub out: PathBuf,
    /// Where libtorch runs; started once the inputs and the checkpoint
    /// have been found.
    pub device: DeviceChoice,
    /// CPU threads for libtorch (`None`: one per core).
    pub threads: Option<usize>,
}

/// What a prediction job wrote.
#[derive(Clone, Debug)]
pub struct PredictReport {
    /// Images predicted (two PNGs each).
    pub images: usize,
}

/// Reads a PNG as the network's input (see the module docs for scaling).
pub fn read_png(path: &Path) -> anyhow::Result<Vec<f32>> {
    let image = png_file::read_gray(path)?;
    let size = data::SIZE as u32;
    if image.width != size || image.height != size {
        bail!(
            "{}: image is {}x{}, the network needs {size}x{size}",
            path.display(),
            image.width,
            image.height
        );
    }
    Ok(image.values)
}

/// Predicts every input image and writes its mask and overlay.
pub fn predict(job: &PredictJob) -> anyhow::Result<PredictReport> {
    let input = job.input.path();
    let is_png = input
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("png"));
    let inputs: Vec<(Vec<f32>, Option<Vec<u8>>)> = if is_png {
        vec![(read_png(input)?, None)]
    } else {
        read_images(&job.input)
            .with_context(|| format!("reading {}", job.input))?
            .into_iter()
            .map(|example| (example.image, Some(example.label)))
            .collect()
    };
    let prefix = job.checkpoint.resolve(job.checkpoint_dir.path())?;
    let device = start(job.device, job.threads)?;
    let mut model = Model::new(job.kind, device);
    weights::restore(&mut model, &prefix)
        .with_context(|| format!("restoring {}", prefix.display()))?;
    announce(device);
    std::fs::create_dir_all(&job.out).with_context(|| format!("creating {}", job.out.display()))?;
    let side = data::SIZE;
    for (index, (image, label)) in inputs.iter().enumerate() {
        if image.len() != data::PIXELS {
            bail!(
                "{}: image {index} has {} values, expected {}",
                job.input,
                image.len(),
                data::PIXELS
            );
        }
        let tensor = tch::Tensor::f_from_slice(image)
            .and_then(|t| t.f_reshape([1, 1, side as i64, side as i64]))
            .and_then(|t| t.f_to_device(device))
            .map_err(TrainError::from)?;
        let predictions = predict_masks(&model, &tensor)?;
        let mask = &predictions.masks[0];
        let mask_png: Vec<u8> = mask.iter().map(|&m| if m != 0 { 255 } else { 0 }).collect();
        let mask_path = job.out.join(format!("{index:04}_mask.png"));
        png_file::write(&mask_path, side, side, 1, &mask_png)?;
        let truth = label.clone().unwrap_or_else(|| vec![0; data::PIXELS]);
        let overlay = crate::overlay::overlay(image, side, side, &truth, mask)?;
        let overlay_path = job.out.join(format!("{index:04}_overlay.png"));
        png_file::write(&overlay_path, side, side, 3, overlay.pixels())?;
    }
    Ok(PredictReport {
        images: inputs.len(),
    })
}
