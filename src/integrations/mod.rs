//! Logging from the frameworks people train with in Rust, each behind its
//! own feature:
//!
//! - `tch` (feature `tch`, needs libtorch): scalars, histograms and
//!   images straight from `tch::Tensor`s, and every variable of a
//!   `VarStore` with its gradient in one call.
//! - `candle` (feature `candle`): scalars, histograms, images, image
//!   grids and Projector embeddings straight from `candle_core::Tensor`s
//!   of any dtype on any device, and the weights and gradients of a
//!   `candle_nn::VarMap`.
//! - `burn` (feature `burn`): a metric logger for burn-train's `Learner`,
//!   writing its train and valid metrics as two TensorBoard runs.

#[cfg(feature = "burn")]
pub mod burn;
#[cfg(feature = "candle")]
pub mod candle;
#[cfg(feature = "tch")]
pub mod tch;
