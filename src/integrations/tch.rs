//! Logging straight from tch (libtorch) tensors: scalars, histograms,
//! images, image batches as a grid, and every variable of a `VarStore` with
//! its gradient, through [`TchSummaries`], an extension trait of
//! [`SummaryWriter`].
//!
//! Tensors may live on any device and have any numeric kind: each call
//! detaches the tensor, copies it to the CPU and converts it there, so the
//! caller's tensor and autograd graph are left untouched. Every libtorch
//! failure (a kind that cannot be converted, a device copy that fails)
//! comes back as a [`SummaryError::InvalidArgument`] naming the tag; the
//! `f_` forms of tch are used throughout, so nothing here panics on a
//! tensor's shape or contents.
//!
//! ```no_run
//! use tbseg::integrations::tch::TchSummaries;
//! use tbseg::summary::SummaryWriter;
//! use tch::{nn, nn::Module, nn::OptimizerConfig, Device, Kind, Tensor};
//!
//! let writer = SummaryWriter::new("runs/tch")?;
//! let vs = nn::VarStore::new(Device::Cpu);
//! let net = nn::linear(vs.root() / "fc", 4, 1, Default::default());
//! let mut opt = nn::Sgd::default().build(&vs, 0.1)?;
//! let x = Tensor::randn([8, 4], (Kind::Float, Device::Cpu));
//! let loss = net.forward(&x).square().mean(Kind::Float);
//! opt.zero_grad();
//! loss.backward();
//! writer.add_var_store(&vs, 0)?; // weights/fc.weight, grads/fc.weight, ...
//! opt.step();
//! writer.add_scalar_tensor("loss", &loss, 0)?;
//! writer.add_image_tensor("input", &x.reshape([1, 8, 4]).sigmoid(), 0)?;
//! writer.close()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use crate::summary::{png, Step, SummaryError, SummaryWriter};

/// Pixels between the images of a grid (and around it), as in
/// `torchvision.utils.make_grid`, which tensorboardX's `add_images` uses.
pub const GRID_PADDING: usize = 2;

/// Logging of tch tensors through a [`SummaryWriter`]: scalars,
/// histograms, images and whole `VarStore`s.
///
/// Implemented for [`SummaryWriter`]; bring it into scope with
/// `use tbseg::integrations::tch::TchSummaries`.
pub trait TchSummaries {
    /// Logs a one-element tensor (0-d, or any shape holding one value) of
    /// any numeric kind as a scalar. More or fewer elements are an
    /// [`SummaryError::InvalidArgument`].
    ///
    /// Every method takes its step as `impl Into<`[`Step`]`>`, as the
    /// writer's own `add_*` methods do: any integer (a `usize` from
    /// `enumerate()`, an `i64`), or a [`Step`] with a wall time.
    fn add_scalar_tensor(
        &self,
        tag: &str,
        value: &Tensor,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError>;

    /// Logs a histogram of every element of `values` (any shape, numeric
    /// kind and device), with the buckets of
    /// [`SummaryWriter::add_histogram`].
    fn add_histogram_tensor(
        &self,
        tag: &str,
        values: &Tensor,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError>;

    /// Logs every variable of `vars` as a histogram tagged
    /// `weights/<name>`, and, for each variable that has a gradient (after
    /// `backward`, before `zero_grad`), that gradient as `grads/<name>`.
    /// Names are the `VarStore`'s own (`conv1.weight`); variables are
    /// logged in name order.
    fn add_var_store(&self, vars: &VarStore, step: impl Into<Step>) -> Result<(), SummaryError>;

    /// Logs one image from a `[C, H, W]` tensor with 1 (grey), 3 (RGB) or
    /// 4 (RGBA) channels, or a `[H, W]` grey tensor. Floating-point values
    /// are read as intensities in [0, 1] (scaled by 255, rounded half to
    /// even, clamped; NaN is 0);
    /// integer values as 0–255 (clamped).
    fn add_image_tensor(
        &self,
        tag: &str,
        image: &Tensor,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError>;

    /// Logs a `[N, C, H, W]` batch as one image: a grid of
    /// `ceil(sqrt(N))` columns with [`GRID_PADDING`] black pixels between
    /// and around the images, as `torchvision.utils.make_grid` lays it out.
    /// Values are read as in [`TchSummaries::add_image_tensor`].
    fn add_images_tensor(
        &self,
        tag: &str,
        batch: &Tensor,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError>;
}

impl TchSummaries for SummaryWriter {
    fn add_scalar_tensor(
        &self,
        tag: &str,
        value: &Tensor,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        let values = to_f64_vec(tag, value)?;
        match values.as_slice() {
            [v] => self.add_scalar(tag, *v as f32, step),
            _ => Err(invalid(
                tag,
                format!(
                    "a tensor of shape {:?} holds {} values, expected exactly 1",
                    value.size(),
                    values.len()
                ),
            )),
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

    fn add_var_store(&self, vars: &VarStore, step: impl Into<Step>) -> Result<(), SummaryError> {
        let step = step.into();
        let mut variables: Vec<(String, Tensor)> = vars.variables().into_iter().collect();
        variables.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, variable) in &variables {
            self.add_histogram_tensor(&format!("weights/{name}"), variable, step)?;
            let tag = format!("grads/{name}");
            let grad = variable.f_grad().map_err(|e| tch_failed(&tag, e))?;
            if grad.defined() {
                self.add_histogram_tensor(&tag, &grad, step)?;
            }
        }
        Ok(())
    }

    fn add_image_tensor(
        &self,
        tag: &str,
        image: &Tensor,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        let chw = match image.size().as_slice() {
            [h, w] => image
                .f_reshape([1, *h, *w])
                .map_err(|e| tch_failed(tag, e))?,
            [_, _, _] => image.shallow_clone(),
            other => {
                return Err(invalid(
                    tag,
                    format!("shape {other:?}, expected [C, H, W] or [H, W]"),
                ))
            }
        };
        let pixels = Pixels::from_chw(tag, &chw)?;
        let png = png::encode(pixels.height, pixels.width, pixels.channels, &pixels.hwc)?;
        self.add_png(tag, pixels.height, pixels.width, png, step)
    }

    fn add_images_tensor(
        &self,
        tag: &str,
        batch: &Tensor,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        let n = match batch.size().as_slice() {
            [n, _, _, _] if *n > 0 => *n,
            other => {
                return Err(invalid(
                    tag,
                    format!("shape {other:?}, expected [N, C, H, W] with N > 0"),
                ))
            }
        };
        let mut images = Vec::with_capacity(n as usize);
        for index in 0..n {
            let chw = batch.f_get(index).map_err(|e| tch_failed(tag, e))?;
            images.push(Pixels::from_chw(tag, &chw)?);
        }
        let grid = Pixels::grid(tag, &images)?;
        let png = png::encode(grid.height, grid.width, grid.channels, &grid.hwc)?;
        self.add_png(tag, grid.height, grid.width, png, step)
    }
}

/// An 8-bit image in row-major HWC order, ready for PNG encoding.
struct Pixels {
    height: usize,
    width: usize,
    channels: usize,
    hwc: Vec<u8>,
}

impl Pixels {
    /// Converts a `[C, H, W]` tensor (C = 1, 3 or 4) on any device.
    fn from_chw(tag: &str, chw: &Tensor) -> Result<Self, SummaryError> {
        let [c, h, w] = chw.size()[..] else {
            return Err(invalid(
                tag,
                format!("shape {:?}, expected [C, H, W]", chw.size()),
            ));
        };
        if !matches!(c, 1 | 3 | 4) || h <= 0 || w <= 0 {
            return Err(invalid(
                tag,
                format!("shape [{c}, {h}, {w}], expected 1, 3 or 4 channels and a non-empty image"),
            ));
        }
        let failed = |e| tch_failed(tag, e);
        let cpu = chw
            .f_detach()
            .map_err(failed)?
            .f_to_device(Device::Cpu)
            .map_err(failed)?;
        let scaled = if cpu.f_is_floating_point().map_err(failed)? {
            cpu.f_to_kind(Kind::Float)
                .and_then(|t| t.f_mul_scalar(255.0))
                .and_then(|t| t.f_round())
                .map_err(failed)?
        } else {
            cpu.f_to_kind(Kind::Float).map_err(failed)?
        };
        let bytes = scaled
            .f_nan_to_num(0.0, 255.0, 0.0)
            .and_then(|t| t.f_clamp(0.0, 255.0))
            .and_then(|t| t.f_to_kind(Kind::Uint8))
            .and_then(|t| t.f_permute([1, 2, 0]))
            .and_then(|t| t.f_contiguous())
            .and_then(|t| t.f_flatten(0, -1))
            .map_err(failed)?;
        let hwc = Vec::<u8>::try_from(&bytes).map_err(failed)?;
        // Positive (checked above) sizes of a tensor that exists.
        Ok(Pixels {
            height: h as usize,
            width: w as usize,
            channels: c as usize,
            hwc,
        })
    }

    /// Lays `images` (at least one) out in `ceil(sqrt(n))` columns with
    /// [`GRID_PADDING`] between and around them; every cell has the size
    /// and channel count of the largest image (grey ones are repeated
    /// into RGB when others are colour, missing alpha is opaque). A grid
    /// too large for memory is an [`SummaryError::InvalidArgument`].
    fn grid(tag: &str, images: &[Pixels]) -> Result<Pixels, SummaryError> {
        let columns = (images.len() as f64).sqrt().ceil().max(1.0) as usize;
        let rows = images.len().div_ceil(columns);
        let cell_w = images.iter().map(|p| p.width).max().unwrap_or(1);
        let cell_h = images.iter().map(|p| p.height).max().unwrap_or(1);
        let channels = images.iter().map(|p| p.channels).max().unwrap_or(1);
        let side = |cells: usize, cell: usize| {
            cell.checked_add(GRID_PADDING)?
                .checked_mul(cells)?
                .checked_add(GRID_PADDING)
        };
        let size = side(columns, cell_w).zip(side(rows, cell_h));
        let bytes = size.and_then(|(w, h)| w.checked_mul(h)?.checked_mul(channels));
        let (Some((width, height)), Some(bytes)) = (size, bytes) else {
            return Err(invalid(
                tag,
                format!("a grid of {rows}x{columns} images of {cell_h}x{cell_w} is too large"),
            ));
        };
        let mut hwc = vec![0u8; bytes];
        if channels == 4 {
            // The padding is opaque black, as in a 3-channel grid.
            hwc.chunks_exact_mut(4).for_each(|px| px[3] = 255);
        }
        for (index, image) in images.iter().enumerate() {
            let x0 = GRID_PADDING + (index % columns) * (cell_w + GRID_PADDING);
            let y0 = GRID_PADDING + (index / columns) * (cell_h + GRID_PADDING);
            let c = image.channels;
            for y in 0..image.height {
                for x in 0..image.width {
                    let src = &image.hwc[(y * image.width + x) * c..][..c];
                    let dst = ((y0 + y) * width + x0 + x) * channels;
                    let out = &mut hwc[dst..dst + channels];
                    match (c, channels) {
                        (1, _) => out
                            .iter_mut()
                            .take(3.min(channels))
                            .for_each(|v| *v = src[0]),
                        _ => out[..c].copy_from_slice(src),
                    }
                }
            }
        }
        Ok(Pixels {
            height,
            width,
            channels,
            hwc,
        })
    }
}

/// All elements of `tensor`, detached, on the CPU, as f64.
fn to_f64_vec(tag: &str, tensor: &Tensor) -> Result<Vec<f64>, SummaryError> {
    let failed = |e| tch_failed(tag, e);
    let flat = tensor
        .f_detach()
        .and_then(|t| t.f_to_device(Device::Cpu))
        .and_then(|t| t.f_to_kind(Kind::Double))
        .and_then(|t| t.f_flatten(0, -1))
        .map_err(failed)?;
    Vec::<f64>::try_from(&flat).map_err(failed)
}

fn invalid(tag: &str, reason: String) -> SummaryError {
    SummaryError::InvalidArgument {
        tag: tag.to_owned(),
        what: "tensor",
        reason,
    }
}

fn tch_failed(tag: &str, error: tch::TchError) -> SummaryError {
    invalid(tag, format!("libtorch: {error}"))
}
