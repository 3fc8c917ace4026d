//! TensorFlow's `SAME` padding on libtorch.
//!
//! TensorFlow puts the extra pixel after (bottom/right) when the total
//! padding is odd; libtorch's symmetric `padding` would shift the sampling
//! grid by one pixel, so the odd cases pad explicitly.

use tch::{TchError, Tensor};

/// Padding (before, after) that TensorFlow's `SAME` adds to one spatial
/// dimension of size `input` for a `kernel`-wide window with `stride`:
/// the output has `ceil(input / stride)` elements and the odd pixel goes
/// after.
pub fn same_padding(input: i64, kernel: i64, stride: i64) -> (i64, i64) {
    let output = (input + stride - 1) / stride;
    let total = ((output - 1) * stride + kernel - input).max(0);
    (total / 2, total - total / 2)
}

/// 2-D convolution with TensorFlow's `SAME` padding on an NCHW input and a
/// torch-layout `[out, in, kh, kw]` kernel, no bias.
pub fn conv2d_same(input: &Tensor, kernel: &Tensor, stride: i64) -> Result<Tensor, TchError> {
    let (height, width) = spatial(input);
    let (kh, kw) = spatial(kernel);
    let (top, bottom) = same_padding(height, kh, stride);
    let (left, right) = same_padding(width, kw, stride);
    let no_bias: Option<&Tensor> = None;
    if top == bottom && left == right {
        // Symmetric: let the convolution pad, which avoids a copy.
        return input.f_conv2d(kernel, no_bias, [stride, stride], [top, left], [1, 1], 1);
    }
    input
        .f_constant_pad_nd([left, right, top, bottom])?
        .f_conv2d(kernel, no_bias, [stride, stride], [0, 0], [1, 1], 1)
}

/// Max pooling with TensorFlow's `SAME` padding (padded cells never win).
pub fn max_pool_same(input: &Tensor, size: i64) -> Result<Tensor, TchError> {
    let (height, width) = spatial(input);
    let (top, bottom) = same_padding(height, size, size);
    let (left, right) = same_padding(width, size, size);
    let padded = if top + bottom + left + right == 0 {
        input.shallow_clone()
    } else {
        input.f_pad([left, right, top, bottom], "constant", f64::NEG_INFINITY)?
    };
    padded.f_max_pool2d([size, size], [size, size], [0, 0], [1, 1], false)
}

/// `tf.nn.conv2d_transpose(..., padding="SAME")` on NCHW with a torch-layout
/// `[in, out, kh, kw]` kernel: output side = input side · stride.
///
/// TensorFlow keeps the window of the full transposed output that starts at
/// the `SAME` padding-before of the matching forward convolution. libtorch's
/// `padding = before` trims that much from both ends; when the total is odd
/// one extra row/column is left at the end and is cropped here.
pub fn conv_transpose2d_same(
    input: &Tensor,
    kernel: &Tensor,
    stride: i64,
) -> Result<Tensor, TchError> {
    let (height, width) = spatial(input);
    let (kh, kw) = spatial(kernel);
    let (out_h, out_w) = (height * stride, width * stride);
    let (top, _) = same_padding(out_h, kh, stride);
    let (left, _) = same_padding(out_w, kw, stride);
    let no_bias: Option<&Tensor> = None;
    // NCHW even when the layers before ran channels-last: on the CPU,
    // libtorch's channels-last transposed convolution computes its weight
    // gradient several times slower, and the input here is tiny
    // (`[N, 2, H/16, W/16]` in the lab), so the copy costs nothing.
    let full = input.f_contiguous()?.f_conv_transpose2d(
        kernel,
        no_bias,
        [stride, stride],
        [top, left],
        [0, 0],
        1,
        [1, 1],
    )?;
    full.f_narrow(2, 0, out_h)?.f_narrow(3, 0, out_w)
}

/// The last two dimensions (height, width) of an image or kernel.
fn spatial(tensor: &Tensor) -> (i64, i64) {
    let size = tensor.size();
    (size[size.len() - 2], size[size.len() - 1])
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind};

    use super::*;

    fn values(tensor: &Tensor) -> Vec<f32> {
        Vec::<f32>::try_from(tensor.flatten(0, -1)).expect("float tensor")
    }

    #[test]
    fn same_padding_puts_the_odd_pixel_after() {
        assert_eq!(same_padding(256, 5, 2), (1, 2));
        assert_eq!(same_padding(64, 5, 2), (1, 2));
        assert_eq!(same_padding(16, 3, 1), (1, 1));
        assert_eq!(same_padding(128, 2, 2), (0, 0));
        assert_eq!(same_padding(256, 31, 16), (7, 8));
        assert_eq!(same_padding(5, 2, 2), (0, 1));
    }

    // Expected values from TensorFlow 2.21 (the conformance venv):
    //   x = np.arange(36, dtype=np.float32).reshape(1, 6, 6, 1)
    //   tf.nn.conv2d(x, np.ones((5, 5, 1, 1), np.float32), strides=2, padding="SAME")
    // Symmetric padding 2 would give 63 in the first cell instead of 168.
    #[test]
    fn conv2d_same_matches_tensorflow() {
        let x = Tensor::arange(36, (Kind::Float, Device::Cpu)).reshape([1, 1, 6, 6]);
        let kernel = Tensor::ones([1, 1, 5, 5], (Kind::Float, Device::Cpu));
        let y = conv2d_same(&x, &kernel, 2).unwrap();
        assert_eq!(y.size(), [1, 1, 3, 3]);
        assert_eq!(
            values(&y),
            [168.0, 240.0, 156.0, 390.0, 525.0, 330.0, 306.0, 405.0, 252.0]
        );
    }

    // From TensorFlow 2.21:
    //   x = np.array([1, 2, 3, 4], np.float32).reshape(1, 2, 2, 1)
    //   k = np.arange(25, dtype=np.float32).reshape(5, 5, 1, 1)
    //   tf.nn.conv2d_transpose(x, k, output_shape=[1, 4, 4, 1], strides=2, padding="SAME")
    // The forward view pads (1, 2), so the odd row/column must be cropped
    // from the end, not split.
    #[test]
    fn conv_transpose2d_same_matches_tensorflow() {
        let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).reshape([1, 1, 2, 2]);
        let kernel = Tensor::arange(25, (Kind::Float, Device::Cpu)).reshape([1, 1, 5, 5]);
        let y = conv_transpose2d_same(&x, &kernel, 2).unwrap();
        assert_eq!(y.size(), [1, 1, 4, 4]);
        #[rustfmt::skip]
        let expected = [
            6.0, 17.0, 20.0, 23.0,
            14.0, 38.0, 48.0, 58.0,
            34.0, 88.0, 98.0, 108.0,
            54.0, 138.0, 148.0, 158.0,
        ];
        assert_eq!(values(&y), expected);
    }

    // From TensorFlow 2.21:
    //   tf.nn.max_pool2d(-np.arange(25, dtype=np.float32).reshape(1, 5, 5, 1), 2, 2, "SAME")
    // The padded last row/column must never win even though all inputs are <= 0.
    #[test]
    fn max_pool_same_ignores_padding() {
        let x = -Tensor::arange(25, (Kind::Float, Device::Cpu)).reshape([1, 1, 5, 5]);
        let y = max_pool_same(&x, 2).unwrap();
        assert_eq!(
            values(&y),
            [0.0, -2.0, -4.0, -10.0, -12.0, -14.0, -20.0, -22.0, -24.0]
        );
    }
}
