//! The numbers and strings of a `TensorProto`, in every form TensorFlow
//! stores them: packed little-endian bytes in `tensor_content`, or the
//! typed repeated fields (`float_val`, `int_val`, ...), where a shorter
//! list than the shape asks for repeats its last element, as TensorFlow's
//! `MakeNdarray` fills it.

use std::fmt;

use crate::proto::tensorflow::{DataType, TensorProto};

/// A tensor of a plugin the reader has no typed form for, or a tensor
/// logged without a plugin: its type, shape and elements.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Tensor {
    /// The element type, as TensorFlow names it (`"DT_FLOAT"`, ...).
    pub dtype: &'static str,
    /// The dimensions, outermost first; empty for a scalar.
    pub shape: Vec<usize>,
    /// The elements, row-major.
    pub data: TensorData,
}

/// The elements of a [`Tensor`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TensorData {
    /// Numbers of any numeric or boolean type, widened to `f64` (exact for
    /// every type but 64-bit integers beyond 2^53).
    Numbers(Vec<f64>),
    /// Byte strings (`DT_STRING`).
    Strings(Vec<Vec<u8>>),
    /// A type the reader does not decode (complex numbers, resources);
    /// see [`crate::reader::TimedValue`] for the raw tensor.
    Unsupported,
}

/// Why a tensor could not be read; the caller adds the tag and step.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TensorError(pub(crate) String);

impl fmt::Display for TensorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) fn error<T>(reason: impl Into<String>) -> Result<T, TensorError> {
    Err(TensorError(reason.into()))
}

/// The tensor's element type; unknown codes are an error.
pub(crate) fn dtype(tensor: &TensorProto) -> Result<DataType, TensorError> {
    DataType::try_from(tensor.dtype)
        .or_else(|_| error(format!("unknown tensor dtype {}", tensor.dtype)))
}

/// The tensor's dimensions; a negative (unknown) size is an error.
pub(crate) fn shape(tensor: &TensorProto) -> Result<Vec<usize>, TensorError> {
    let Some(proto) = &tensor.tensor_shape else {
        return Ok(Vec::new());
    };
    proto
        .dim
        .iter()
        .map(|d| {
            usize::try_from(d.size)
                .or_else(|_| error(format!("tensor dimension {} is negative", d.size)))
        })
        .collect()
}

/// How many elements a shape holds; an overflowing product is an error.
pub(crate) fn element_count(shape: &[usize]) -> Result<usize, TensorError> {
    shape.iter().try_fold(1usize, |n, &d| {
        n.checked_mul(d)
            .ok_or_else(|| TensorError(format!("tensor shape {shape:?} is too large")))
    })
}

/// The tensor's strings; a tensor of another type is an error.
pub(crate) fn strings(tensor: &TensorProto) -> Result<&[Vec<u8>], TensorError> {
    match dtype(tensor)? {
        DataType::DtString => Ok(&tensor.string_val),
        other => error(format!(
            "a {} tensor, expected DT_STRING",
            other.as_str_name()
        )),
    }
}

/// The tensor's numbers, widened to `f64`; a string, complex or other
/// non-numeric tensor is an error.
pub(crate) fn numbers(tensor: &TensorProto) -> Result<Vec<f64>, TensorError> {
    let n = element_count(&shape(tensor)?)?;
    let dtype = dtype(tensor)?;
    let content = tensor.tensor_content.as_slice();
    let le = |width: usize, decode: fn(&[u8]) -> f64| -> Result<Vec<f64>, TensorError> {
        if Some(content.len()) != n.checked_mul(width) {
            return error(format!(
                "{} bytes of tensor content, expected {n} elements of {width} bytes",
                content.len()
            ));
        }
        Ok(content.chunks_exact(width).map(decode).collect())
    };
    if !content.is_empty() {
        return match dtype {
            DataType::DtFloat => le(4, |b| f32::from_le_bytes(b.try_into().unwrap()).into()),
            DataType::DtDouble => le(8, |b| f64::from_le_bytes(b.try_into().unwrap())),
            DataType::DtInt32 => le(4, |b| i32::from_le_bytes(b.try_into().unwrap()).into()),
            DataType::DtUint32 => le(4, |b| u32::from_le_bytes(b.try_into().unwrap()).into()),
            DataType::DtInt64 => le(8, |b| i64::from_le_bytes(b.try_into().unwrap()) as f64),
            DataType::DtUint64 => le(8, |b| u64::from_le_bytes(b.try_into().unwrap()) as f64),
            DataType::DtInt16 => le(2, |b| i16::from_le_bytes(b.try_into().unwrap()).into()),
            DataType::DtUint16 => le(2, |b| u16::from_le_bytes(b.try_into().unwrap()).into()),
            DataType::DtHalf => le(2, |b| {
                half_to_f64(u16::from_le_bytes(b.try_into().unwrap()))
            }),
            DataType::DtBfloat16 => le(2, |b| {
                bfloat16_to_f64(u16::from_le_bytes(b.try_into().unwrap()))
            }),
            DataType::DtInt8 => le(1, |b| f64::from(b[0] as i8)),
            DataType::DtUint8 => le(1, |b| f64::from(b[0])),
            DataType::DtBool => le(1, |b| f64::from(u8::from(b[0] != 0))),
            other => not_numeric(other),
        };
    }
    let values: Vec<f64> = match dtype {
        DataType::DtFloat => tensor.float_val.iter().map(|&x| x.into()).collect(),
        DataType::DtDouble => tensor.double_val.clone(),
        DataType::DtInt32
        | DataType::DtInt16
        | DataType::DtInt8
        | DataType::DtUint8
        | DataType::DtUint16 => tensor.int_val.iter().map(|&x| x.into()).collect(),
        DataType::DtInt64 => tensor.int64_val.iter().map(|&x| x as f64).collect(),
        DataType::DtUint32 => tensor.uint32_val.iter().map(|&x| x.into()).collect(),
        DataType::DtUint64 => tensor.uint64_val.iter().map(|&x| x as f64).collect(),
        DataType::DtBool => tensor
            .bool_val
            .iter()
            .map(|&x| f64::from(u8::from(x)))
            .collect(),
        // half_val holds the 16 bits of each value in an int32.
        DataType::DtHalf => tensor
            .half_val
            .iter()
            .map(|&x| half_to_f64(x as u16))
            .collect(),
        DataType::DtBfloat16 => tensor
            .half_val
            .iter()
            .map(|&x| bfloat16_to_f64(x as u16))
            .collect(),
        other => return not_numeric(other),
    };
    fill(values, n)
}

fn not_numeric<T>(dtype: DataType) -> Result<T, TensorError> {
    error(format!(
        "a {} tensor, expected a numeric one",
        dtype.as_str_name()
    ))
}

/// The most elements a short typed list is stretched to: a few bytes of
/// a damaged or hostile file could otherwise ask for terabytes.
const MAX_FILLED_ELEMENTS: usize = 1 << 22;

/// `values` stretched to `n` elements the way TensorFlow reads a short
/// list: the last value repeats; no value at all means zeros.
fn fill(mut values: Vec<f64>, n: usize) -> Result<Vec<f64>, TensorError> {
    if values.len() > n {
        return error(format!(
            "{} values for a tensor of {n} elements",
            values.len()
        ));
    }
    if values.len() < n && n > MAX_FILLED_ELEMENTS {
        return error(format!(
            "{} values stand for {n} elements, more than the {MAX_FILLED_ELEMENTS} \
             the reader expands",
            values.len()
        ));
    }
    let last = values.last().copied().unwrap_or(0.0);
    values.resize(n, last);
    Ok(values)
}

/// An IEEE 754 half-precision number.
fn half_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let fraction = f64::from(bits & 0x3ff);
    sign * match exponent {
        0 => fraction * 2f64.powi(-24),
        0x1f if fraction == 0.0 => f64::INFINITY,
        0x1f => f64::NAN,
        e => (1.0 + fraction / 1024.0) * 2f64.powi(e - 15),
    }
}

/// A bfloat16: the upper half of an `f32`.
fn bfloat16_to_f64(bits: u16) -> f64 {
    f32::from_bits(u32::from(bits) << 16).into()
}

impl Tensor {
    /// Reads any tensor; fails only on a malformed one.
    pub(crate) fn from_proto(tensor: &TensorProto) -> Result<Self, TensorError> {
        let shape = shape(tensor)?;
        let dtype = dtype(tensor)?;
        let data = match dtype {
            DataType::DtString => TensorData::Strings(tensor.string_val.clone()),
            DataType::DtComplex64
            | DataType::DtComplex128
            | DataType::DtResource
            | DataType::DtVariant
            | DataType::DtInvalid => TensorData::Unsupported,
            _ => TensorData::Numbers(numbers(tensor)?),
        };
        Ok(Tensor {
            dtype: dtype.as_str_name(),
            shape,
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::tensorflow::{tensor_shape_proto::Dim, TensorShapeProto};

    fn tensor(dtype: DataType, dims: &[i64]) -> TensorProto {
        TensorProto {
            dtype: dtype as i32,
            tensor_shape: Some(TensorShapeProto {
                dim: dims
                    .iter()
                    .map(|&size| Dim {
                        size,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn numbers_from_content_and_from_typed_fields() {
        let mut t = tensor(DataType::DtInt32, &[3]);
        t.tensor_content = [1i32, -2, 3].iter().flat_map(|x| x.to_le_bytes()).collect();
        assert_eq!(numbers(&t).unwrap(), [1.0, -2.0, 3.0]);
        let mut t = tensor(DataType::DtUint8, &[2, 2]);
        t.int_val = vec![7, 9];
        // A short list repeats its last value, as TensorFlow reads it.
        assert_eq!(numbers(&t).unwrap(), [7.0, 9.0, 9.0, 9.0]);
        let mut t = tensor(DataType::DtHalf, &[3]);
        t.half_val = vec![0x3c00, 0xc000, 0x7c00];
        assert_eq!(numbers(&t).unwrap(), [1.0, -2.0, f64::INFINITY]);
        let t = tensor(DataType::DtDouble, &[2]);
        assert_eq!(numbers(&t).unwrap(), [0.0, 0.0]);
    }

    #[test]
    fn malformed_tensors_say_what_is_wrong() {
        let mut t = tensor(DataType::DtFloat, &[3]);
        t.tensor_content = vec![0; 8];
        assert_eq!(
            numbers(&t).unwrap_err().0,
            "8 bytes of tensor content, expected 3 elements of 4 bytes"
        );
        let t = tensor(DataType::DtString, &[1]);
        assert_eq!(
            numbers(&t).unwrap_err().0,
            "a DT_STRING tensor, expected a numeric one"
        );
        let t = tensor(DataType::DtFloat, &[-1]);
        assert_eq!(shape(&t).unwrap_err().0, "tensor dimension -1 is negative");
        let t = tensor(DataType::DtFloat, &[1 << 40, 1 << 40]);
        assert!(numbers(&t).unwrap_err().0.contains("too large"));
        let mut t = tensor(DataType::DtFloat, &[1]);
        t.float_val = vec![1.0, 2.0];
        assert_eq!(
            numbers(&t).unwrap_err().0,
            "2 values for a tensor of 1 elements"
        );
    }
}
