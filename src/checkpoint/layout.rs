//! Moving weights between PyTorch's and TensorFlow's memory layouts, on raw
//! row-major data (no tch).
//!
//! | weight | PyTorch | TensorFlow |
//! |---|---|---|
//! | convolution | `[out, in, kh, kw]` | `[kh, kw, in, out]` (HWIO) |
//! | transposed convolution | `[in, out, kh, kw]` | `[kh, kw, out, in]` |
//! | `nn::Linear` | `[out, in]` | `[in, out]` (`x @ W`) |
//!
//! Both transposed-convolution layouts index the same kernel tap the same
//! way, so the conversion is a pure permutation with no spatial flip. The
//! lab's `simple` model keeps its weights as `[in, out]` matmul matrices;
//! a trainer that stores them the same way needs no conversion at all.

use thiserror::Error;

/// Why a permutation could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// The data length is not the product of the shape.
    #[error("shape {shape:?} has {expected} elements, but the data has {got}")]
    LengthMismatch {
        /// The shape given.
        shape: Vec<usize>,
        /// Its number of elements.
        expected: usize,
        /// The data length.
        got: usize,
    },
    /// `perm` is not a permutation of `0..rank`.
    #[error("{perm:?} is not a permutation of the {rank} axes")]
    BadPermutation {
        /// The permutation given.
        perm: Vec<usize>,
        /// The rank of the shape.
        rank: usize,
    },
}

/// Reorders the axes of a row-major array: output axis `i` is input axis
/// `perm[i]` (NumPy's `transpose(perm)`). Returns the data and its shape.
pub fn permute<T: Copy>(
    data: &[T],
    shape: &[usize],
    perm: &[usize],
) -> Result<(Vec<T>, Vec<usize>), LayoutError> {
    let rank = shape.len();
    let mut seen = vec![false; rank];
    let valid = perm.len() == rank
        && perm
            .iter()
            .all(|&axis| axis < rank && !std::mem::replace(&mut seen[axis], true));
    if !valid {
        return Err(LayoutError::BadPermutation {
            perm: perm.to_vec(),
            rank,
        });
    }
    let expected: usize = shape.iter().product();
    if expected != data.len() {
        return Err(LayoutError::LengthMismatch {
            shape: shape.to_vec(),
            expected,
            got: data.len(),
        });
    }
    let out_shape: Vec<usize> = perm.iter().map(|&axis| shape[axis]).collect();
    if expected == 0 {
        return Ok((Vec::new(), out_shape));
    }
    // Input strides, then the stride in the input of each output axis.
    let mut in_strides = vec![1usize; rank];
    for axis in (0..rank.saturating_sub(1)).rev() {
        in_strides[axis] = in_strides[axis + 1] * shape[axis + 1];
    }
    let strides: Vec<usize> = perm.iter().map(|&axis| in_strides[axis]).collect();
    let mut out = Vec::with_capacity(expected);
    let mut index = vec![0usize; rank];
    let mut source = 0usize;
    for _ in 0..expected {
        out.push(data[source]);
        // Odometer increment over the output shape, innermost axis fastest.
        for axis in (0..rank).rev() {
            index[axis] += 1;
            source += strides[axis];
            if index[axis] < out_shape[axis] {
                break;
            }
            source -= strides[axis] * out_shape[axis];
            index[axis] = 0;
        }
    }
    Ok((out, out_shape))
}

/// Transposes a `[rows, cols]` matrix into `[cols, rows]`.
pub fn transpose_2d<T: Copy>(data: &[T], rows: usize, cols: usize) -> Result<Vec<T>, LayoutError> {
    permute(data, &[rows, cols], &[1, 0]).map(|(data, _)| data)
}

/// Convolution weight, PyTorch `[out, in, kh, kw]` → TensorFlow
/// `[kh, kw, in, out]`. `shape` is the PyTorch shape.
pub fn conv_torch_to_tf<T: Copy>(
    data: &[T],
    shape: [usize; 4],
) -> Result<(Vec<T>, [usize; 4]), LayoutError> {
    permute4(data, shape, [2, 3, 1, 0])
}

/// Convolution weight, TensorFlow `[kh, kw, in, out]` → PyTorch
/// `[out, in, kh, kw]`. `shape` is the TensorFlow shape.
pub fn conv_tf_to_torch<T: Copy>(
    data: &[T],
    shape: [usize; 4],
) -> Result<(Vec<T>, [usize; 4]), LayoutError> {
    permute4(data, shape, [3, 2, 0, 1])
}

/// Transposed-convolution weight, PyTorch `[in, out, kh, kw]` → TensorFlow
/// `[kh, kw, out, in]` (no flip). `shape` is the PyTorch shape.
pub fn conv_transpose_torch_to_tf<T: Copy>(
    data: &[T],
    shape: [usize; 4],
) -> Result<(Vec<T>, [usize; 4]), LayoutError> {
    permute4(data, shape, [2, 3, 1, 0])
}

/// Transposed-convolution weight, TensorFlow `[kh, kw, out, in]` → PyTorch
/// `[in, out, kh, kw]`. `shape` is the TensorFlow shape.
pub fn conv_transpose_tf_to_torch<T: Copy>(
    data: &[T],
    shape: [usize; 4],
) -> Result<(Vec<T>, [usize; 4]), LayoutError> {
    permute4(data, shape, [3, 2, 0, 1])
}

/// `nn::Linear` weight, PyTorch `[out, in]` → TensorFlow matmul `[in, out]`
/// (and back, with the shapes swapped: the operation is its own inverse).
/// `shape` is the source shape.
pub fn linear_torch_to_tf<T: Copy>(
    data: &[T],
    shape: [usize; 2],
) -> Result<(Vec<T>, [usize; 2]), LayoutError> {
    transpose_2d(data, shape[0], shape[1]).map(|data| (data, [shape[1], shape[0]]))
}

fn permute4<T: Copy>(
    data: &[T],
    shape: [usize; 4],
    perm: [usize; 4],
) -> Result<(Vec<T>, [usize; 4]), LayoutError> {
    let (data, out) = permute(data, &shape, &perm)?;
    Ok((data, [out[0], out[1], out[2], out[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_by_hand() {
        // [[1, 2, 3], [4, 5, 6]] → [[1, 4], [2, 5], [3, 6]]
        assert_eq!(
            transpose_2d(&[1, 2, 3, 4, 5, 6], 2, 3).unwrap(),
            [1, 4, 2, 5, 3, 6]
        );
        let (w, shape) = linear_torch_to_tf(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [3, 2]).unwrap();
        assert_eq!(shape, [2, 3]);
        assert_eq!(w, [1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);
    }

    #[test]
    fn permute_3d_by_hand() {
        // a[i][j][k] = 100 i + 10 j + k with shape [2, 3, 2]; perm [2, 0, 1]
        // gives b[k][i][j] = a[i][j][k], shape [2, 2, 3].
        let a: Vec<u32> = (0..2)
            .flat_map(|i| (0..3).flat_map(move |j| (0..2).map(move |k| 100 * i + 10 * j + k)))
            .collect();
        let (b, shape) = permute(&a, &[2, 3, 2], &[2, 0, 1]).unwrap();
        assert_eq!(shape, [2, 2, 3]);
        assert_eq!(b, [0, 10, 20, 100, 110, 120, 1, 11, 21, 101, 111, 121]);
    }

    #[test]
    fn conv_weight_by_hand() {
        // torch w[o][i][y][x] = 1000 o + 100 i + 10 y + x, shape [2, 1, 2, 2].
        let torch: Vec<u32> = (0..2)
            .flat_map(|o| (0..2).flat_map(move |y| (0..2).map(move |x| 1000 * o + 10 * y + x)))
            .collect();
        let (tf, shape) = conv_torch_to_tf(&torch, [2, 1, 2, 2]).unwrap();
        assert_eq!(shape, [2, 2, 1, 2]);
        // tf[y][x][i][o]: o fastest.
        assert_eq!(tf, [0, 1000, 1, 1001, 10, 1010, 11, 1011]);
        assert_eq!(conv_tf_to_torch(&tf, shape).unwrap(), (torch, [2, 1, 2, 2]));
    }

    #[test]
    fn conv_transpose_weight_by_hand() {
        // torch w[i][o][y][x] = 1000 i + 100 o + 10 y + x, shape [1, 2, 1, 2].
        let torch = [0u32, 1, 100, 101];
        let (tf, shape) = conv_transpose_torch_to_tf(&torch, [1, 2, 1, 2]).unwrap();
        assert_eq!(shape, [1, 2, 2, 1]);
        // tf[y][x][o][i]: the same taps, no spatial flip.
        assert_eq!(tf, [0, 100, 1, 101]);
        assert_eq!(
            conv_transpose_tf_to_torch(&tf, shape).unwrap(),
            (torch.to_vec(), [1, 2, 1, 2])
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            permute(&[1, 2, 3], &[2, 2], &[1, 0])
                .unwrap_err()
                .to_string(),
            "shape [2, 2] has 4 elements, but the data has 3"
        );
        assert!(matches!(
            permute(&[1], &[1, 1], &[0, 0]),
            Err(LayoutError::BadPermutation { .. })
        ));
        assert!(matches!(
            permute(&[1], &[1], &[1]),
            Err(LayoutError::BadPermutation { .. })
        ));
        assert_eq!(
            permute::<u8>(&[], &[0, 3], &[1, 0]).unwrap(),
            (vec![], vec![3, 0])
        );
        assert_eq!(permute(&[7], &[], &[]).unwrap(), (vec![7], vec![]));
    }
}
