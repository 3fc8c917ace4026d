//! A network's variables under their TensorFlow names, and the conversion
//! between libtorch's layouts and TensorFlow's, in which the lab's
//! checkpoints store them.

use tch::{Device, Kind, TchError, Tensor};

use crate::train::TrainError;

/// How a variable's libtorch layout maps onto TensorFlow's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// A matrix stored `[in, out]` in both (used with `matmul`).
    Matrix,
    /// A bias vector, the same in both.
    Vector,
    /// Convolution kernel: torch `[out, in, kh, kw]`, TF `[kh, kw, in, out]`.
    Conv,
    /// Transposed-convolution kernel: torch `[in, out, kh, kw]`, TF
    /// `[kh, kw, out, in]`.
    ConvTranspose,
}

impl Layout {
    /// The permutation taking the torch layout to the TF layout. Both 4-D
    /// cases happen to be the same permutation.
    fn to_tf(self) -> Option<[i64; 4]> {
        match self {
            Layout::Matrix | Layout::Vector => None,
            Layout::Conv | Layout::ConvTranspose => Some([2, 3, 1, 0]),
        }
    }

    /// The inverse of [`Layout::to_tf`].
    fn to_torch(self) -> Option<[i64; 4]> {
        match self {
            Layout::Matrix | Layout::Vector => None,
            Layout::Conv | Layout::ConvTranspose => Some([3, 2, 0, 1]),
        }
    }
}

/// One variable in TensorFlow's name, layout and shape, as stored in the
/// lab's checkpoints.
#[derive(Clone, Debug, PartialEq)]
pub struct TfVariable {
    /// TensorFlow variable name, e.g. `Conv1/kernel` or `Hidden1/W_fc`.
    pub name: String,
    /// Shape in TensorFlow's layout.
    pub shape: Vec<u64>,
    /// Row-major values in TensorFlow's layout.
    pub values: Vec<f32>,
}

/// A trainable tensor with its TensorFlow name (e.g. `Conv1/kernel`).
struct Variable {
    tf_name: String,
    layout: Layout,
    tensor: Tensor,
}

impl Variable {
    fn tf_shape(&self) -> Vec<i64> {
        let size = self.tensor.size();
        match self.layout.to_tf() {
            None => size,
            Some(perm) => perm.iter().map(|&axis| size[axis as usize]).collect(),
        }
    }
}

/// A network's variables in the order it created them, each with its
/// TensorFlow name and layout. The tensors share storage with the
/// network's layers, so an import is what the next `forward` computes with.
#[derive(Default)]
pub(crate) struct Variables {
    list: Vec<Variable>,
}

impl Variables {
    /// Registers `tensor` as the TensorFlow variable `tf_name`.
    pub(crate) fn push(&mut self, tf_name: impl Into<String>, layout: Layout, tensor: &Tensor) {
        self.list.push(Variable {
            tf_name: tf_name.into(),
            layout,
            tensor: tensor.shallow_clone(),
        });
    }

    /// Number of trainable scalars.
    pub(crate) fn parameter_count(&self) -> i64 {
        self.list.iter().map(|v| v.tensor.numel() as i64).sum()
    }

    /// Names and TensorFlow shapes, in order.
    pub(crate) fn tf_shapes(&self) -> Vec<(String, Vec<u64>)> {
        self.list
            .iter()
            .map(|v| {
                let shape = v.tf_shape().iter().map(|&d| d as u64).collect();
                (v.tf_name.clone(), shape)
            })
            .collect()
    }

    /// Every variable in TensorFlow's name, layout and shape, copied to
    /// the CPU, or libtorch's error (a failed copy is an error, never
    /// empty values).
    pub(crate) fn export(&self) -> Result<Vec<TfVariable>, TchError> {
        tch::no_grad(|| {
            self.list
                .iter()
                .map(|variable| {
                    let tf = match variable.layout.to_tf() {
                        None => variable.tensor.shallow_clone(),
                        Some(perm) => variable.tensor.f_permute(perm)?,
                    };
                    let tf = tf
                        .f_to_device(Device::Cpu)?
                        .f_to_kind(Kind::Float)?
                        .f_contiguous()?;
                    let values = Vec::<f32>::try_from(tf.f_flatten(0, -1)?)?;
                    Ok(TfVariable {
                        name: variable.tf_name.clone(),
                        shape: tf.size().iter().map(|&d| d as u64).collect(),
                        values,
                    })
                })
                .collect()
        })
    }

    /// Overwrites the variable `name` with TensorFlow-layout `values` of
    /// TensorFlow shape `shape`, in place (its memory layout is kept).
    pub(crate) fn import(
        &mut self,
        name: &str,
        shape: &[u64],
        values: &[f32],
    ) -> Result<(), TrainError> {
        let variable = self
            .list
            .iter_mut()
            .find(|v| v.tf_name == name)
            .ok_or_else(|| TrainError::UnknownVariable {
                name: name.to_string(),
            })?;
        let expected: Vec<u64> = variable.tf_shape().iter().map(|&d| d as u64).collect();
        let count: u64 = shape.iter().product();
        if expected != shape || count != values.len() as u64 {
            return Err(TrainError::VariableShape {
                name: name.to_string(),
                expected,
                found: shape.to_vec(),
            });
        }
        let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let tf = Tensor::f_from_slice(values)?.f_reshape(dims)?;
        let torch = match variable.layout.to_torch() {
            None => tf,
            Some(perm) => tf.f_permute(perm)?,
        };
        let device = variable.tensor.device();
        tch::no_grad(|| variable.tensor.f_copy_(&torch.f_to_device(device)?))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A conv kernel `[out 4, in 3, 5, 5]` holding its own flat index.
    fn conv_kernel() -> (Variables, Tensor) {
        let kernel = Tensor::arange(300, (Kind::Float, Device::Cpu)).reshape([4, 3, 5, 5]);
        let mut variables = Variables::default();
        variables.push("Conv2/kernel", Layout::Conv, &kernel);
        (variables, kernel)
    }

    #[test]
    fn conv_kernels_export_as_hwio() {
        let (variables, kernel) = conv_kernel();
        let exported = variables.export().unwrap();
        assert_eq!(exported[0].shape, [5, 5, 3, 4]);
        assert_eq!(
            variables.tf_shapes(),
            [("Conv2/kernel".into(), vec![5, 5, 3, 4])]
        );
        // TF [kh, kw, in, out][1, 2, 0, 3] is torch [out, in, kh, kw][3, 0, 1, 2].
        let torch = kernel.double_value(&[3, 0, 1, 2]) as f32;
        let index = ((5 + 2) * 3) * 4 + 3;
        assert_eq!(exported[0].values[index], torch);
    }

    #[test]
    fn import_writes_through_to_the_layer_and_round_trips() {
        let (mut variables, mut kernel) = conv_kernel();
        let exported = variables.export().unwrap().remove(0);
        let _ = kernel.zero_();
        let reversed: Vec<f32> = exported.values.iter().rev().copied().collect();
        variables
            .import("Conv2/kernel", &exported.shape, &reversed)
            .unwrap();
        // The layer's own tensor sees the import: the first and last
        // elements are the same in both layouts, so they swap.
        assert_eq!(kernel.double_value(&[0, 0, 0, 0]), 299.0);
        assert_eq!(kernel.double_value(&[3, 2, 4, 4]), 0.0);
        assert_eq!(variables.export().unwrap()[0].values, reversed);
    }

    #[test]
    fn import_rejects_wrong_names_and_shapes() {
        let (mut variables, _) = conv_kernel();
        assert!(matches!(
            variables.import("Conv9/kernel", &[1], &[0.0]),
            Err(TrainError::UnknownVariable { .. })
        ));
        assert!(matches!(
            variables.import("Conv2/kernel", &[5, 5, 4, 3], &[0.0; 300]),
            Err(TrainError::VariableShape { .. })
        ));
        assert!(matches!(
            variables.import("Conv2/kernel", &[5, 5, 3, 4], &[0.0; 299]),
            Err(TrainError::VariableShape { .. })
        ));
    }
}
