//! The lab's TensorFlow variables: the one place that names them and gives
//! their shapes (lab.md §10). The models, their checkpoint export and
//! import, and `tbseg export` all read this table.

use tbseg::checkpoint::{DType, GLOBAL_STEP};

/// A variable of the lab's TensorFlow graphs: name, TensorFlow shape, dtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TfVariable {
    /// The checkpoint key.
    pub name: &'static str,
    /// The shape in TensorFlow's layout.
    pub shape: &'static [u64],
    /// The element type.
    pub dtype: DType,
}

/// `Conv1/kernel`: 5×5, 1 → 100, HWIO.
pub const CONV1_KERNEL: &str = "Conv1/kernel";
/// `Conv2/kernel`: 5×5, 100 → 200, HWIO.
pub const CONV2_KERNEL: &str = "Conv2/kernel";
/// `Conv3/kernel`: 3×3, 200 → 300, HWIO.
pub const CONV3_KERNEL: &str = "Conv3/kernel";
/// `conv4/kernel` (lower case in the lab's code): 3×3, 300 → 300, HWIO.
pub const CONV4_KERNEL: &str = "conv4/kernel";
/// `score_classes/kernel`: 1×1, 300 → 2, HWIO.
pub const SCORE_CLASSES_KERNEL: &str = "score_classes/kernel";
/// `upscore/kernel`: 31×31 transposed convolution, `[kh, kw, out, in]`.
pub const UPSCORE_KERNEL: &str = "upscore/kernel";
/// `Hidden1/W_fc`: the simple model's `[65536, 512]` matmul weight.
pub const HIDDEN1_W_FC: &str = "Hidden1/W_fc";
/// `Final/W_fc2`: the simple model's `[512, 131072]` matmul weight.
pub const FINAL_W_FC2: &str = "Final/W_fc2";

const fn variable(name: &'static str, shape: &'static [u64]) -> TfVariable {
    TfVariable {
        name,
        shape,
        dtype: DType::F32,
    }
}

/// The `global_step` variable.
pub const GLOBAL_STEP_VARIABLE: TfVariable = TfVariable {
    name: GLOBAL_STEP,
    shape: &[],
    dtype: DType::I64,
};

/// The variables of the `cnn` and `cnnDice` models (no biases), then
/// `global_step`.
pub const CNN_VARIABLES: &[TfVariable] = &[
    variable(CONV1_KERNEL, &[5, 5, 1, 100]),
    variable(CONV2_KERNEL, &[5, 5, 100, 200]),
    variable(CONV3_KERNEL, &[3, 3, 200, 300]),
    variable(CONV4_KERNEL, &[3, 3, 300, 300]),
    variable(SCORE_CLASSES_KERNEL, &[1, 1, 300, 2]),
    variable(UPSCORE_KERNEL, &[31, 31, 2, 2]),
    GLOBAL_STEP_VARIABLE,
];

/// The variables of the `simple` model, then `global_step`.
pub const SIMPLE_VARIABLES: &[TfVariable] = &[
    variable(HIDDEN1_W_FC, &[65536, 512]),
    variable(FINAL_W_FC2, &[512, 131072]),
    GLOBAL_STEP_VARIABLE,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_names_and_shapes() {
        let names: Vec<_> = CNN_VARIABLES.iter().map(|v| v.name).collect();
        assert_eq!(
            names,
            [
                "Conv1/kernel",
                "Conv2/kernel",
                "Conv3/kernel",
                "conv4/kernel",
                "score_classes/kernel",
                "upscore/kernel",
                "global_step"
            ]
        );
        let params: u64 = SIMPLE_VARIABLES
            .iter()
            .map(|v| v.shape.iter().product::<u64>())
            .sum();
        assert_eq!(params, 65536 * 512 + 512 * 131072 + 1);
    }
}
