//! The lab's weight initialiser, and how `simple` and `cnn` create their
//! variables with it.

use tch::{nn, Device, Kind, Tensor};

use super::channels_last::to_channels_last;
use super::tf_layout::{Layout, Variables};

/// The lab's weight initialiser: `truncated_normal(stddev = 0.1)`.
pub const INIT_STDDEV: f64 = 0.1;

/// Samples `truncated_normal(stddev)` like TensorFlow: normal values, with
/// every value further than two standard deviations from 0 drawn again.
///
/// Each redraw takes a whole fresh tensor from the generator and keeps its
/// values at the positions still outside, so the values (and the
/// generator's state afterwards) are those of redrawing the whole tensor
/// and selecting with `where`; only the few positions redrawn are
/// examined again, which makes the `simple` network's 100 M weights a few
/// seconds faster to create.
pub fn truncated_normal(shape: &[i64], stddev: f64, device: Device) -> Tensor {
    tch::no_grad(|| {
        let limit = 2.0 * stddev;
        let values = Tensor::randn(shape, (Kind::Float, device)) * stddev;
        let mut flat = values.view(-1);
        let mut outside = flat.abs().gt(limit).nonzero().squeeze_dim(1);
        while outside.numel() > 0 {
            let fresh = Tensor::randn(shape, (Kind::Float, device));
            let redrawn = fresh.view(-1).index_select(0, &outside) * stddev;
            let _ = flat.index_copy_(0, &outside, &redrawn);
            outside = outside.masked_select(&redrawn.abs().gt(limit));
        }
        values
    })
}

/// Creates the lab's variable `tf_name` (`scope/name`, one of the names in
/// [`crate::variables`]) under `root` with torch shape `shape`, drawn from
/// the lab's initialiser, and registers it in `variables`.
///
/// With `channels_last`, a convolution kernel is stored channels-last
/// (see [`super::Model::runs_channels_last`]).
pub(crate) fn lab_variable(
    root: &nn::Path,
    variables: &mut Variables,
    tf_name: &str,
    shape: &[i64],
    layout: Layout,
    channels_last: bool,
) -> Tensor {
    let (scope, name) = tf_name
        .split_once('/')
        .expect("the lab's variable names are scope/name");
    let path = root.sub(scope);
    let mut init = truncated_normal(shape, INIT_STDDEV, path.device());
    if channels_last && layout == Layout::Conv {
        // Only a memory layout: should the copy fail, NCHW still works.
        if let Ok(copy) = to_channels_last(&init) {
            init = copy;
        }
    }
    let tensor = path.add(name, init, true);
    variables.push(tf_name, layout, &tensor);
    tensor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_normal_stays_within_two_sigma() {
        tch::manual_seed(1);
        let t = truncated_normal(&[200_000], 0.1, Device::Cpu);
        let max = f64::try_from(t.abs().max()).unwrap();
        let std = f64::try_from(t.std(true)).unwrap();
        assert!(max <= 0.2, "max {max}");
        // The std of a normal truncated at ±2σ is 0.8796σ.
        assert!((std - 0.08796).abs() < 0.001, "std {std}");
    }
}
