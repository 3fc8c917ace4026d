//! Logging straight from candle tensors: scalars, histograms, images (one,
//! or a batch as a grid), Projector embeddings, and every variable of a
//! `VarMap` with its gradients, through [`CandleSummaries`], an extension
//! trait of [`SummaryWriter`].
//!
//! Tensors may live on any device and have any dtype candle can convert:
//! each call detaches the tensor, copies it to the CPU and converts it
//! there, so the caller's tensor and its gradient graph are left untouched.
//! Every candle failure (a dtype that cannot be converted, a device copy
//! that fails) comes back as a [`SummaryError::InvalidArgument`] naming the
//! tag; nothing here panics on a tensor's shape or contents.
//!
//! The methods carry a `_tensor` suffix (as in the tch integration):
//! [`SummaryWriter`]'s own `add_scalar`, `add_image`, ... take plain Rust
//! values, and an inherent method always wins over a trait method of the
//! same name.
//!
//! ```
//! use candle_core::{DType, Device, Tensor};
//! use candle_nn::{linear, loss, Module, Optimizer, VarBuilder, VarMap, SGD};
//! use tbseg::integrations::candle::{CandleSummaries, ChannelOrder};
//! use tbseg::reader::Logdir;
//! use tbseg::summary::SummaryWriter;
//!
//! # let dir = std::env::temp_dir().join(format!("tbseg-doc-candle-{}", std::process::id()));
//! let writer = SummaryWriter::new(&dir)?; // "runs/candle", say
//! let vars = VarMap::new();
//! let vb = VarBuilder::from_varmap(&vars, DType::F32, &Device::Cpu);
//! let net = linear(4, 1, vb.pp("fc"))?;
//! let mut opt = SGD::new(vars.all_vars(), 0.1)?;
//! let x = Tensor::randn(0f32, 1.0, (8, 4), &Device::Cpu)?;
//! let loss = loss::mse(&net.forward(&x)?, &Tensor::zeros((8, 1), DType::F32, &Device::Cpu)?)?;
//! let grads = loss.backward()?;
//! writer.add_var_map(&vars, 0)?; // weights/fc.weight, weights/fc.bias
//! writer.add_gradients(&vars, &grads, 0)?; // grads/fc.weight, grads/fc.bias
//! opt.step(&grads)?;
//! writer.add_scalar_tensor("loss", &loss, 0)?;
//! writer.add_histogram_tensor("inputs", &x, 0)?;
//! writer.add_image_tensor("input", &x.unsqueeze(0)?, ChannelOrder::Chw, 0)?;
//! writer.add_images_tensor("halves", &x.reshape((2, 1, 4, 4))?, ChannelOrder::Chw, 0)?;
//! writer.add_embedding_tensor("points", &x, &["a", "b", "c", "d", "e", "f", "g", "h"], 0)?;
//! writer.close()?;
//!
//! let logdir = Logdir::scan(&dir)?;
//! let run = &logdir.runs["."];
//! assert_eq!(run.scalars("loss").map(|points| points.len()), Some(1));
//! let count = |tag| -> Result<f64, Box<dyn std::error::Error>> {
//!     Ok(run.histograms(tag)?[0].value.count())
//! };
//! assert_eq!(count("weights/fc.weight")?, 4.0); // a 1x4 matrix
//! assert_eq!(count("grads/fc.bias")?, 1.0);
//! assert_eq!(count("inputs")?, 32.0);
//! let input = &run.images("input")?[0].value[0];
//! assert_eq!((input.height, input.width), (8, 4));
//! let points = &logdir.embeddings(".")?[0];
//! assert_eq!((points.points, points.dim), (8, 4));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::PoisonError;

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarMap;

use crate::summary::embedding::Embedding;
use crate::summary::{BatchLayout, ImageLayout, Step, SummaryError, SummaryWriter};

/// Where an image tensor keeps its channels: first (`[C, H, W]`, PyTorch's
/// and candle's convolution order) or last (`[H, W, C]`, the order of image
/// files and TensorFlow). For a batch, a leading `N` comes before either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelOrder {
    /// `[C, H, W]` (a batch: `[N, C, H, W]`).
    Chw,
    /// `[H, W, C]` (a batch: `[N, H, W, C]`).
    Hwc,
}

/// Logging of candle tensors through a [`SummaryWriter`]: scalars,
/// histograms, images, embeddings and whole `VarMap`s.
///
/// Implemented for [`SummaryWriter`]; bring it into scope with
/// `use tbseg::integrations::candle::CandleSummaries`.
pub trait CandleSummaries {
    /// Logs a one-element tensor (0-d, or any shape holding one value) of
    /// any dtype as a scalar: an `F64` or integer tensor as an `f64`, the
    /// narrower floats as an `f32`. More or fewer elements are an
    /// [`SummaryError::InvalidArgument`].
    fn add_scalar_tensor(
        &self,
        tag: &str,
        value: &Tensor,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError>;

    /// Logs a histogram of every element of `values` (any shape, dtype and
    /// device), with the buckets of [`SummaryWriter::add_histogram`].
    fn add_histogram_tensor(
        &self,
        tag: &str,
        values: &Tensor,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError>;

    /// Logs one image from a rank-3 tensor in `order` with 1 (grey),
    /// 2 (grey and alpha), 3 (RGB) or 4 (RGBA) channels, or from a rank-2
    /// `[H, W]` grey tensor (whatever `order`). Floating-point values are
    /// read as intensities in [0, 1] (scaled by 255, rounded, clamped; NaN
    /// is 0), as [`SummaryWriter::add_image`] reads `f64` pixels; integer
    /// values as 0–255 (clamped).
    fn add_image_tensor(
        &self,
        tag: &str,
        image: &Tensor,
        order: ChannelOrder,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError>;

    /// Logs a rank-4 batch of same-size images in `order` (`[N, C, H, W]`
    /// or `[N, H, W, C]`) as one grid image, laid out as
    /// [`SummaryWriter::add_images`] lays it out (torchvision's
    /// `make_grid`). Values are read as in
    /// [`CandleSummaries::add_image_tensor`].
    fn add_images_tensor(
        &self,
        tag: &str,
        batch: &Tensor,
        order: ChannelOrder,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError>;

    /// Logs a `[N, D]` tensor (N points of D dimensions, any dtype) as an
    /// embedding for TensorBoard's Projector, with one label per point
    /// (`labels` is empty for none), as [`SummaryWriter::add_embedding`]
    /// writes it. For several metadata columns or a sprite, build an
    /// [`Embedding`] from `matrix.flatten_all()?.to_vec1::<f32>()?`.
    fn add_embedding_tensor<S: AsRef<str>>(
        &self,
        tag: &str,
        matrix: &Tensor,
        labels: &[S],
        step: impl Into<Step>,
    ) -> Result<(), SummaryError>;

    /// Logs every variable of `vars` as a histogram tagged
    /// `weights/<name>`. Names are the `VarMap`'s own (`fc1.weight`, as
    /// `VarBuilder::pp` builds them); variables are logged in name order.
    fn add_var_map(&self, vars: &VarMap, step: impl Into<Step>) -> Result<(), SummaryError>;

    /// Logs the gradient of every variable of `vars` that `grads` holds
    /// (what `loss.backward()` returned) as a histogram tagged
    /// `grads/<name>`, in name order. Variables without a gradient are
    /// skipped.
    fn add_gradients(
        &self,
        vars: &VarMap,
        grads: &GradStore,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError>;
}

impl CandleSummaries for SummaryWriter {
    fn add_scalar_tensor(
        &self,
        tag: &str,
        value: &Tensor,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        if value.elem_count() != 1 {
            return Err(invalid(
                tag,
                format!(
                    "a tensor of shape {:?} holds {} values, expected exactly 1",
                    value.dims(),
                    value.elem_count()
                ),
            ));
        }
        let [v] = to_f64_vec(tag, value)?[..] else {
            unreachable!("one element was checked above")
        };
        let dtype = value.dtype();
        if dtype.is_float() && dtype != DType::F64 {
            // Exact: the value came from a float of at most 32 bits.
            self.add_scalar(tag, v as f32, step)
        } else {
            self.add_scalar(tag, v, step)
        }
    }

    fn add_histogram_tensor(
        &self,
        tag: &str,
        values: &Tensor,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        self.add_histogram(tag, &to_f64_vec(tag, values)?, step)
            .map(drop)
    }

    fn add_image_tensor(
        &self,
        tag: &str,
        image: &Tensor,
        order: ChannelOrder,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        let (hwc, (h, w, c)) = match (image.dims(), order) {
            (&[h, w], _) => (image.clone(), (h, w, 1)),
            (&[c, h, w], ChannelOrder::Chw) => {
                let hwc = image
                    .permute((1, 2, 0))
                    .map_err(|e| candle_failed(tag, e))?;
                (hwc, (h, w, c))
            }
            (&[h, w, c], ChannelOrder::Hwc) => (image.clone(), (h, w, c)),
            (other, _) => {
                return Err(invalid(
                    tag,
                    format!(
                        "shape {other:?}, expected {} or [H, W]",
                        order.image_shape()
                    ),
                ))
            }
        };
        check_image(tag, h, w, c)?;
        let pixels = to_pixels(tag, &hwc)?;
        self.add_image(tag, &pixels, ImageLayout::Hwc(h, w, c), step)
    }

    fn add_images_tensor(
        &self,
        tag: &str,
        batch: &Tensor,
        order: ChannelOrder,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        let (n, h, w, c) = match (batch.dims(), order) {
            (&[n, c, h, w], ChannelOrder::Chw) | (&[n, h, w, c], ChannelOrder::Hwc) => (n, h, w, c),
            (other, _) => {
                return Err(invalid(
                    tag,
                    format!(
                        "shape {other:?}, expected [N, {}]",
                        &order.image_shape()[1..]
                    ),
                ))
            }
        };
        if n == 0 {
            return Err(invalid(tag, "an empty batch (N = 0)".into()));
        }
        check_image(tag, h, w, c)?;
        let pixels = to_pixels(tag, batch)?;
        let layout = match order {
            ChannelOrder::Chw => BatchLayout::Nchw(n, c, h, w),
            ChannelOrder::Hwc => BatchLayout::Nhwc(n, h, w, c),
        };
        self.add_images(tag, &pixels, layout, step)
    }

    fn add_embedding_tensor<S: AsRef<str>>(
        &self,
        tag: &str,
        matrix: &Tensor,
        labels: &[S],
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        let &[n, dim] = matrix.dims() else {
            return Err(invalid(
                tag,
                format!("shape {:?}, expected [N, D]", matrix.dims()),
            ));
        };
        if !labels.is_empty() && labels.len() != n {
            return Err(invalid(
                tag,
                format!(
                    "{} labels for {n} points, expected one per point or none",
                    labels.len()
                ),
            ));
        }
        let values = to_f32_vec(tag, matrix)?;
        let mut embedding = Embedding::new(&values, dim);
        if !labels.is_empty() {
            embedding = embedding.labels(labels);
        }
        self.add_embedding(tag, &embedding, step)
    }

    fn add_var_map(&self, vars: &VarMap, step: impl Into<Step>) -> Result<(), SummaryError> {
        let step = step.into();
        for (name, variable) in sorted_variables(vars) {
            self.add_histogram_tensor(&format!("weights/{name}"), &variable, step)?;
        }
        Ok(())
    }

    fn add_gradients(
        &self,
        vars: &VarMap,
        grads: &GradStore,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        let step = step.into();
        for (name, variable) in sorted_variables(vars) {
            if let Some(grad) = grads.get(&variable) {
                self.add_histogram_tensor(&format!("grads/{name}"), grad, step)?;
            }
        }
        Ok(())
    }
}

impl ChannelOrder {
    /// The shape of one image in this order, for error messages.
    fn image_shape(self) -> &'static str {
        match self {
            ChannelOrder::Chw => "[C, H, W]",
            ChannelOrder::Hwc => "[H, W, C]",
        }
    }
}

/// The variables of `vars` with their names, in name order. The `VarMap`'s
/// lock is held only while the list is copied (the tensors are shared, not
/// copied), so logging never blocks a training step on another thread.
fn sorted_variables(vars: &VarMap) -> Vec<(String, Tensor)> {
    let data = vars.data().lock().unwrap_or_else(PoisonError::into_inner);
    let mut variables: Vec<(String, Tensor)> = data
        .iter()
        .map(|(name, var)| (name.clone(), var.as_tensor().clone()))
        .collect();
    drop(data);
    variables.sort_by(|a, b| a.0.cmp(&b.0));
    variables
}

/// Checks an image's size before any pixel is converted: 1 to 4 channels
/// and a non-empty picture within PNG's limit of 2^31 - 1 pixels a side.
fn check_image(tag: &str, h: usize, w: usize, c: usize) -> Result<(), SummaryError> {
    const PNG_MAX_SIDE: usize = i32::MAX as usize;
    if !(1..=4).contains(&c) {
        return Err(invalid(tag, format!("{c} channels, expected 1, 2, 3 or 4")));
    }
    if h == 0 || w == 0 || h > PNG_MAX_SIDE || w > PNG_MAX_SIDE {
        return Err(invalid(
            tag,
            format!(
                "an image of {h}x{w} pixels (height x width), expected 1 to {PNG_MAX_SIDE} a side"
            ),
        ));
    }
    Ok(())
}

/// All elements of `tensor` (in its logical order) as 8-bit intensities:
/// floats in [0, 1] scaled as [`crate::summary::PixelValue`] scales `f64`,
/// integers clamped to 0–255.
fn to_pixels(tag: &str, tensor: &Tensor) -> Result<Vec<u8>, SummaryError> {
    let dtype = tensor.dtype();
    if dtype == DType::U8 {
        return flat_cpu(tag, tensor, DType::U8)?
            .to_vec1::<u8>()
            .map_err(|e| candle_failed(tag, e));
    }
    let values = to_f64_vec(tag, tensor)?;
    Ok(if dtype.is_float() {
        // `as` saturates and maps NaN to 0.
        values.iter().map(|v| (v * 255.0).round() as u8).collect()
    } else {
        // Integers are exact in f64 up to 2^53, far beyond 255.
        values.iter().map(|&v| v.clamp(0.0, 255.0) as u8).collect()
    })
}

/// All elements of `tensor`, detached, on the CPU, as f64.
fn to_f64_vec(tag: &str, tensor: &Tensor) -> Result<Vec<f64>, SummaryError> {
    flat_cpu(tag, tensor, DType::F64)?
        .to_vec1::<f64>()
        .map_err(|e| candle_failed(tag, e))
}

/// All elements of `tensor`, detached, on the CPU, as f32.
fn to_f32_vec(tag: &str, tensor: &Tensor) -> Result<Vec<f32>, SummaryError> {
    flat_cpu(tag, tensor, DType::F32)?
        .to_vec1::<f32>()
        .map_err(|e| candle_failed(tag, e))
}

/// `tensor` detached, copied to the CPU, converted to `dtype` there and
/// flattened to rank 1 in its logical (row-major) order. The copy comes
/// first so that a dtype a device lacks a kernel for still converts.
fn flat_cpu(tag: &str, tensor: &Tensor, dtype: DType) -> Result<Tensor, SummaryError> {
    tensor
        .detach()
        .to_device(&Device::Cpu)
        .and_then(|t| t.to_dtype(dtype))
        .and_then(|t| t.flatten_all())
        .map_err(|e| candle_failed(tag, e))
}

fn invalid(tag: &str, reason: String) -> SummaryError {
    SummaryError::InvalidArgument {
        tag: tag.to_owned(),
        what: "tensor",
        reason,
    }
}

fn candle_failed(tag: &str, error: candle_core::Error) -> SummaryError {
    invalid(tag, format!("candle: {error}"))
}
