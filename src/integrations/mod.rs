//! Logging from the frameworks people train with in Rust, each behind its
//! own feature:
//!
//! - `tch` (feature `tch`, needs libtorch): scalars, histograms and
//!   images straight from `tch::Tensor`s, and every variable of a
//!   `VarStore` with its gradient in one call.
//! - `burn` (feature `burn`): a metric logger for burn-train's `Learner`,
//!   writing its train and valid metrics as two TensorBoard runs.

#[cfg(feature = "burn")]
pub mod burn;
#[cfg(feature = "tch")]
pub mod tch;
