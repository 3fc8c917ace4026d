//! Channels-last memory for NCHW tensors: the layout the CPU's fast
//! convolution and pooling kernels want (see [`super::Model::runs_channels_last`]).

use tch::{TchError, Tensor};

/// `x` (`[N, C, H, W]`) with channels-last strides `[H·W·C, 1, W·C, C]`,
/// the values unchanged; `x` itself when it already has them.
///
/// Written with explicit strides because the usual route (`permute`,
/// `contiguous`, `permute` back) leaves a one-channel image as it is:
/// libtorch counts it as contiguous either way and would run the first
/// convolution in NCHW.
pub fn to_channels_last(x: &Tensor) -> Result<Tensor, TchError> {
    let size = x.size();
    let [_, channels, height, width] = size[..] else {
        return Ok(x.shallow_clone());
    };
    let strides = [height * width * channels, 1, width * channels, channels];
    if x.stride() == strides {
        return Ok(x.shallow_clone());
    }
    let mut out = Tensor::f_empty_strided(&size, strides, (x.kind(), x.device()))?;
    out.f_copy_(x)?;
    Ok(out)
}

/// Whether `x` is `[N, C, H, W]` with exactly channels-last strides.
pub fn is_channels_last(x: &Tensor) -> bool {
    match x.size()[..] {
        [_, channels, height, width] => {
            x.stride() == [height * width * channels, 1, width * channels, channels]
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind};

    use super::*;

    fn values(tensor: &Tensor) -> Vec<f32> {
        Vec::<f32>::try_from(tensor.flatten(0, -1)).expect("float tensor")
    }

    #[test]
    fn to_channels_last_sets_nhwc_strides_and_keeps_values() {
        for channels in [1, 3] {
            let x = Tensor::rand([2, channels, 5, 7], (Kind::Float, Device::Cpu));
            assert!(!is_channels_last(&x));
            let cl = to_channels_last(&x).unwrap();
            assert!(
                is_channels_last(&cl),
                "{channels} channel(s): {:?}",
                cl.stride()
            );
            assert_eq!(cl.stride(), [35 * channels, 1, 7 * channels, channels]);
            assert_eq!(values(&cl), values(&x));
            let again = to_channels_last(&cl).unwrap();
            assert_eq!(
                again.data_ptr(),
                cl.data_ptr(),
                "already channels-last: no copy"
            );
        }
    }
}
