//! A data set held as two tensors, ready for batching.

use tch::{Device, Kind, Tensor};

use super::TrainError;

/// Images `[N, 1, S, S]` (float, already scaled like the lab's reader) and
/// labels `[N, S, S]` (0/1 bytes; batches hand them out as the int64 class
/// ids the loss takes, which held for the whole set would be 8× the size),
/// on the training device.
pub struct Examples {
    images: Tensor,
    labels: Tensor,
    size: i64,
}

impl Examples {
    /// Stacks `(image, label)` pairs of `size`x`size` pixels (row-major,
    /// image values as the network sees them, labels 0/1) onto `device`.
    /// `what` names the source (a file path) in errors.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a [f32], &'a [u8])>,
        size: i64,
        device: Device,
        what: &str,
    ) -> Result<Examples, TrainError> {
        let pixels = (size * size) as usize;
        let mut images = Vec::new();
        let mut labels = Vec::new();
        for (index, (image, label)) in pairs.into_iter().enumerate() {
            if image.len() != pixels || label.len() != pixels {
                return Err(TrainError::ImageSize {
                    what: what.to_string(),
                    index,
                    expected: pixels,
                    image: image.len(),
                    label: label.len(),
                });
            }
            images.extend_from_slice(image);
            labels.extend(label.iter().map(|&l| u8::from(l != 0)));
        }
        let count = (images.len() / pixels.max(1)) as i64;
        if count == 0 {
            return Err(TrainError::NoExamples {
                what: what.to_string(),
            });
        }
        Ok(Examples {
            images: Tensor::f_from_slice(&images)?
                .f_reshape([count, 1, size, size])?
                .f_to_device(device)?,
            labels: Tensor::f_from_slice(&labels)?
                .f_reshape([count, size, size])?
                .f_to_device(device)?,
            size,
        })
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.images.size()[0] as usize
    }

    /// Always false: construction rejects empty sets.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Side of the square images.
    pub fn size(&self) -> i64 {
        self.size
    }

    /// The images and labels (int64 class ids) of the examples at
    /// `indices`, or libtorch's error (out of memory for a huge batch).
    pub fn batch(&self, indices: &[usize]) -> Result<(Tensor, Tensor), TrainError> {
        let index: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
        let index = Tensor::f_from_slice(&index)?.f_to_device(self.images.device())?;
        Ok((
            self.images.f_index_select(0, &index)?,
            self.labels
                .f_index_select(0, &index)?
                .f_to_kind(Kind::Int64)?,
        ))
    }

    /// Examples `start..start + count` (clamped to the set), labels as
    /// int64 class ids.
    pub fn range(&self, start: usize, count: usize) -> Result<(Tensor, Tensor), TrainError> {
        let count = count.min(self.len().saturating_sub(start)) as i64;
        Ok((
            self.images.f_narrow(0, start as i64, count)?,
            self.labels
                .f_narrow(0, start as i64, count)?
                .f_to_kind(Kind::Int64)?,
        ))
    }

    /// The image of example `index` as row-major floats (for image summaries).
    pub fn image_values(&self, index: usize) -> Result<Vec<f32>, TrainError> {
        let image = self
            .images
            .f_get(index as i64)?
            .f_to_device(Device::Cpu)?
            .f_flatten(0, -1)?;
        Ok(Vec::<f32>::try_from(image)?)
    }

    /// The label of example `index` as 0/1 bytes.
    pub fn label_values(&self, index: usize) -> Result<Vec<u8>, TrainError> {
        let label = self.labels.f_get(index as i64)?.f_to_device(Device::Cpu)?;
        Ok(Vec::<u8>::try_from(label.f_flatten(0, -1)?)?)
    }
}
