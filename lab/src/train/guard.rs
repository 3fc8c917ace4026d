//! The divergence guard: whether a step's loss and gradients are finite,
//! found with one small reduction per gradient and a single read to the
//! host per step.
//!
//! The check rests on IEEE arithmetic: a sum that takes in a NaN or an
//! infinity is itself NaN or infinite (`inf + finite = inf`,
//! `inf + -inf = NaN`, `NaN + x = NaN`), so a finite sum proves every
//! element finite. The converse does not hold: finite values whose sum
//! exceeds `f32::MAX` (about 3.4e38) overflow to infinity. Such a sum is
//! never taken at its word: the gradients whose sums came out non-finite
//! are checked element by element, the way the guard always did, so a
//! step is refused exactly when a loss or gradient value is NaN or
//! infinite, never for a large finite gradient. That slow path costs what
//! the old guard cost, and only on a step that is almost surely diverging.
//!
//! Per step this is one `sum` per gradient (it reads each value once and
//! allocates a scalar), one `stack` of those scalars with the loss, and one
//! copy of that short vector to the host, which is also the loss the loop
//! reports: on a GPU the step waits for the device once, not once per
//! gradient plus once for the loss.

use tch::{Kind, Tensor};

use super::model::Model;
use super::trainer::NonFinite;
use super::TrainError;

/// A step's loss as the host sees it, and what of the step was not
/// finite, if anything.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verdict {
    /// The training loss (the value the loop reports).
    pub loss: f64,
    /// `None` when the loss and every gradient are finite.
    pub nonfinite: Option<NonFinite>,
}

/// Checks `loss` and every gradient of `model` (undefined gradients, of
/// variables the loss does not reach, count as finite) after the backward
/// pass, reading to the host once.
pub fn check_step(loss: &Tensor, model: &Model) -> Result<Verdict, TrainError> {
    let gradients: Vec<Tensor> = model
        .var_store()
        .trainable_variables()
        .iter()
        .map(Tensor::grad)
        .filter(Tensor::defined)
        .collect();
    let mut probes = Vec::with_capacity(gradients.len() + 1);
    probes.push(loss.f_detach()?.f_to_kind(Kind::Float)?);
    for gradient in &gradients {
        probes.push(gradient.f_sum(Kind::Float)?);
    }
    let values = Vec::<f64>::try_from(&Tensor::f_stack(&probes, 0)?)?;
    let loss = values[0];
    let nonfinite = if !loss.is_finite() {
        Some(NonFinite::Loss)
    } else if any_nonfinite(&gradients, &values[1..])? {
        Some(NonFinite::Gradient)
    } else {
        None
    };
    Ok(Verdict { loss, nonfinite })
}

/// Whether a gradient holds NaN or infinity, given the sum of each: only
/// the gradients whose sum is not finite are looked at element by element
/// (see the module doc for why a non-finite sum alone does not decide).
fn any_nonfinite(gradients: &[Tensor], sums: &[f64]) -> Result<bool, TrainError> {
    for (gradient, sum) in gradients.iter().zip(sums) {
        if !sum.is_finite() && !all_finite(gradient)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether every value of `tensor` is finite, element by element.
pub fn all_finite(tensor: &Tensor) -> Result<bool, TrainError> {
    Ok(bool::try_from(tensor.f_isfinite()?.f_all()?)?)
}

/// Whether every weight of `model` is finite (checked before every
/// checkpoint, so a checkpoint is only ever a good one).
pub fn weights_finite(model: &Model) -> Result<bool, TrainError> {
    for variable in model.var_store().trainable_variables() {
        if !all_finite(&variable)? {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::model::{Architecture, ModelKind, SimpleConfig};
    use tch::Device;

    fn tensor(values: &[f32]) -> Tensor {
        Tensor::from_slice(values)
    }

    #[test]
    fn finite_gradients_pass_and_each_kind_of_nonfinite_value_is_caught() {
        let finite = [tensor(&[1.0, -2.0]), tensor(&[0.5])];
        let sums = [-1.0, 0.5];
        assert!(!any_nonfinite(&finite, &sums).unwrap());
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let gradients = [tensor(&[1.0, bad]), tensor(&[0.5])];
            let sum = gradients[0].sum(Kind::Float).double_value(&[]);
            assert!(!sum.is_finite(), "{bad}: the sum must expose it");
            assert!(any_nonfinite(&gradients, &[sum, 0.5]).unwrap(), "{bad}");
        }
        // +inf and -inf in one tensor sum to NaN: still caught.
        let both = [tensor(&[f32::INFINITY, f32::NEG_INFINITY])];
        let sum = both[0].sum(Kind::Float).double_value(&[]);
        assert!(sum.is_nan());
        assert!(any_nonfinite(&both, &[sum]).unwrap());
    }

    #[test]
    fn large_finite_gradients_whose_sum_overflows_are_not_refused() {
        let large = [tensor(&[3.0e38, 3.0e38])];
        let sum = large[0].sum(Kind::Float).double_value(&[]);
        assert_eq!(sum, f64::INFINITY, "the f32 sum overflows");
        assert!(!any_nonfinite(&large, &[sum]).unwrap());
    }

    /// A fresh one-layer model after the backward pass of `loss_of` its
    /// first weight, and that loss.
    fn stepped(loss_of: impl Fn(&Tensor) -> Tensor) -> (Model, Tensor) {
        let tiny = SimpleConfig {
            image_size: 2,
            hidden: 2,
        };
        let model =
            Model::with_architecture(ModelKind::Simple, Architecture::Simple(tiny), Device::Cpu);
        let loss = loss_of(&model.var_store().trainable_variables()[0]);
        loss.backward();
        (model, loss)
    }

    #[test]
    fn check_step_reads_the_loss_and_names_what_is_not_finite() {
        let (model, loss) = stepped(|w| (w * 2.0).sum(Kind::Float));
        let verdict = check_step(&loss, &model).unwrap();
        assert_eq!(verdict.loss, loss.double_value(&[]));
        assert_eq!(verdict.nonfinite, None);

        // A finite loss (0) whose gradient is NaN: sqrt's derivative at 0
        // is infinite, and 0 · inf is NaN.
        let (model, loss) = stepped(|w| (w * 0.0).sqrt().sum(Kind::Float) * 0.0);
        let verdict = check_step(&loss, &model).unwrap();
        assert_eq!(verdict.loss, 0.0);
        assert_eq!(verdict.nonfinite, Some(NonFinite::Gradient));

        let (model, loss) = stepped(|w| (w * f64::INFINITY).sum(Kind::Float));
        let verdict = check_step(&loss, &model).unwrap();
        assert!(!verdict.loss.is_finite());
        assert_eq!(verdict.nonfinite, Some(NonFinite::Loss));
    }
}
