//! Dense tensors in host memory ([`TensorData`]) and the element types
//! tbseg reads and writes ([`DType`]): what a checkpoint holds, apart from
//! how it is stored.

use std::fmt;

use thiserror::Error;

use crate::proto::tensorflow::DataType;

/// The element types tbseg reads and writes. All are stored as plain
/// little-endian values; `Bool` is one byte, 0 or 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    /// `DT_FLOAT`, 32-bit float.
    F32,
    /// `DT_DOUBLE`, 64-bit float.
    F64,
    /// `DT_INT32`.
    I32,
    /// `DT_INT64`.
    I64,
    /// `DT_UINT8`.
    U8,
    /// `DT_BOOL`, one byte per element.
    Bool,
}

impl DType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::F32 | DType::I32 => 4,
            DType::F64 | DType::I64 => 8,
            DType::U8 | DType::Bool => 1,
        }
    }

    /// TensorFlow's enum value.
    pub fn to_proto(self) -> DataType {
        match self {
            DType::F32 => DataType::DtFloat,
            DType::F64 => DataType::DtDouble,
            DType::I32 => DataType::DtInt32,
            DType::I64 => DataType::DtInt64,
            DType::U8 => DataType::DtUint8,
            DType::Bool => DataType::DtBool,
        }
    }

    /// The tbseg type of a TensorFlow `DataType` number, if supported.
    pub fn from_proto(code: i32) -> Option<DType> {
        Some(match DataType::try_from(code).ok()? {
            DataType::DtFloat => DType::F32,
            DataType::DtDouble => DType::F64,
            DataType::DtInt32 => DType::I32,
            DataType::DtInt64 => DType::I64,
            DataType::DtUint8 => DType::U8,
            DataType::DtBool => DType::Bool,
            _ => return None,
        })
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.to_proto().as_str_name())
    }
}

/// Why a [`TensorData`] could not be built or converted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TensorError {
    /// The number of bytes or values does not match the shape.
    #[error("shape {shape:?} of {dtype} needs {expected} bytes, got {got}")]
    ShapeMismatch {
        /// The shape given.
        shape: Vec<u64>,
        /// The element type.
        dtype: DType,
        /// `numel × sizeof(dtype)`, saturated at `u64::MAX`.
        expected: u64,
        /// The bytes supplied.
        got: u64,
    },
    /// A typed accessor was called on a tensor of another dtype.
    #[error("tensor is {actual}, not {requested}")]
    WrongDType {
        /// The dtype asked for.
        requested: DType,
        /// The tensor's dtype.
        actual: DType,
    },
    /// A scalar accessor was called on a tensor with more than one element.
    #[error("tensor of shape {shape:?} is not a scalar")]
    NotScalar {
        /// The tensor's shape.
        shape: Vec<u64>,
    },
}

/// A dense tensor in host memory: dtype, shape and row-major little-endian
/// bytes. The length of `bytes` always matches the shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorData {
    dtype: DType,
    shape: Vec<u64>,
    bytes: Vec<u8>,
}

/// `numel × sizeof(dtype)`, or `None` on overflow.
pub(super) fn byte_len(dtype: DType, shape: &[u64]) -> Option<u64> {
    shape
        .iter()
        .try_fold(dtype.size() as u64, |acc, &dim| acc.checked_mul(dim))
}

fn encode_le<T: Copy, const N: usize>(values: &[T], to_le: impl Fn(T) -> [u8; N]) -> Vec<u8> {
    let mut bytes = vec![0u8; values.len() * N];
    for (chunk, &value) in bytes.chunks_exact_mut(N).zip(values) {
        chunk.copy_from_slice(&to_le(value));
    }
    bytes
}

fn decode_le<T, const N: usize>(bytes: &[u8], from_le: impl Fn([u8; N]) -> T) -> Vec<T> {
    bytes
        .chunks_exact(N)
        .map(|chunk| from_le(chunk.try_into().expect("chunks_exact")))
        .collect()
}

macro_rules! typed_access {
    ($ty:ty, $dtype:expr, $from:ident, $scalar:ident, $to:ident, $encode:expr, $decode:expr) => {
        #[doc = concat!("A `", stringify!($ty), "` tensor of `shape`; errs if `values` does not have `numel` elements.")]
        pub fn $from(shape: impl Into<Vec<u64>>, values: &[$ty]) -> Result<Self, TensorError> {
            Self::new($dtype, shape, encode_le(values, $encode))
        }

        #[doc = concat!("A rank-0 `", stringify!($ty), "` tensor.")]
        pub fn $scalar(value: $ty) -> Self {
            TensorData {
                dtype: $dtype,
                shape: Vec::new(),
                bytes: encode_le(&[value], $encode),
            }
        }

        #[doc = concat!("The elements as `", stringify!($ty), "`s, in row-major order; errs if the dtype differs.")]
        pub fn $to(&self) -> Result<Vec<$ty>, TensorError> {
            self.expect_dtype($dtype)?;
            Ok(decode_le(&self.bytes, $decode))
        }
    };
}

impl TensorData {
    /// A tensor from raw little-endian bytes; errs if their length does not
    /// match `shape` and `dtype`.
    pub fn new(
        dtype: DType,
        shape: impl Into<Vec<u64>>,
        bytes: Vec<u8>,
    ) -> Result<Self, TensorError> {
        let shape = shape.into();
        let got = bytes.len() as u64;
        match byte_len(dtype, &shape) {
            Some(expected) if expected == got => Ok(TensorData {
                dtype,
                shape,
                bytes,
            }),
            expected => Err(TensorError::ShapeMismatch {
                shape,
                dtype,
                expected: expected.unwrap_or(u64::MAX),
                got,
            }),
        }
    }

    typed_access!(
        f32,
        DType::F32,
        from_f32,
        scalar_f32,
        to_f32,
        f32::to_le_bytes,
        f32::from_le_bytes
    );
    typed_access!(
        f64,
        DType::F64,
        from_f64,
        scalar_f64,
        to_f64,
        f64::to_le_bytes,
        f64::from_le_bytes
    );
    typed_access!(
        i32,
        DType::I32,
        from_i32,
        scalar_i32,
        to_i32,
        i32::to_le_bytes,
        i32::from_le_bytes
    );
    typed_access!(
        i64,
        DType::I64,
        from_i64,
        scalar_i64,
        to_i64,
        i64::to_le_bytes,
        i64::from_le_bytes
    );
    typed_access!(
        u8,
        DType::U8,
        from_u8,
        scalar_u8,
        to_u8,
        |v: u8| [v],
        |b: [u8; 1]| b[0]
    );
    typed_access!(
        bool,
        DType::Bool,
        from_bool,
        scalar_bool,
        to_bool,
        |v: bool| [u8::from(v)],
        |b: [u8; 1]| b[0] != 0
    );

    /// The value of an `i64` scalar (or one-element) tensor, such as
    /// `global_step`.
    pub fn to_scalar_i64(&self) -> Result<i64, TensorError> {
        match self.to_i64()?.as_slice() {
            [value] => Ok(*value),
            _ => Err(TensorError::NotScalar {
                shape: self.shape.clone(),
            }),
        }
    }

    fn expect_dtype(&self, requested: DType) -> Result<(), TensorError> {
        if self.dtype == requested {
            Ok(())
        } else {
            Err(TensorError::WrongDType {
                requested,
                actual: self.dtype,
            })
        }
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The shape (empty for a scalar).
    pub fn shape(&self) -> &[u64] {
        &self.shape
    }

    /// The number of elements (1 for a scalar).
    pub fn num_elements(&self) -> u64 {
        self.shape.iter().product()
    }

    /// The raw little-endian bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Takes the raw little-endian bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_round_trips() {
        let t = TensorData::from_f32([2, 2], &[1.0, -2.5, f32::INFINITY, 0.0]).unwrap();
        assert_eq!(t.to_f32().unwrap(), [1.0, -2.5, f32::INFINITY, 0.0]);
        assert_eq!(&t.bytes()[..4], &1.0f32.to_le_bytes());
        assert_eq!(
            TensorData::from_f64([1], &[0.1]).unwrap().to_f64().unwrap(),
            [0.1]
        );
        assert_eq!(
            TensorData::from_i32([3], &[1, -1, i32::MAX])
                .unwrap()
                .to_i32()
                .unwrap(),
            [1, -1, i32::MAX]
        );
        assert_eq!(TensorData::scalar_i64(-7).to_scalar_i64().unwrap(), -7);
        assert_eq!(
            TensorData::from_u8([2], &[0, 255])
                .unwrap()
                .to_u8()
                .unwrap(),
            [0, 255]
        );
        let flags = TensorData::from_bool([3], &[true, false, true]).unwrap();
        assert_eq!(flags.bytes(), [1, 0, 1]);
        assert_eq!(flags.to_bool().unwrap(), [true, false, true]);
        assert!(TensorData::scalar_f32(1.0).shape().is_empty());
        assert_eq!(TensorData::scalar_f32(1.0).num_elements(), 1);
    }

    #[test]
    fn mismatches_are_errors() {
        let err = TensorData::from_f32([2, 3], &[1.0; 5]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "shape [2, 3] of DT_FLOAT needs 24 bytes, got 20"
        );
        let err = TensorData::scalar_i32(1).to_i64().unwrap_err();
        assert_eq!(err.to_string(), "tensor is DT_INT32, not DT_INT64");
        let err = TensorData::from_i64([2], &[1, 2])
            .unwrap()
            .to_scalar_i64()
            .unwrap_err();
        assert_eq!(err, TensorError::NotScalar { shape: vec![2] });
        assert!(TensorData::new(DType::U8, [u64::MAX, 2], vec![]).is_err());
    }

    #[test]
    fn dtype_codes_match_tensorflow() {
        let codes: Vec<i32> = [
            DType::F32,
            DType::F64,
            DType::I32,
            DType::I64,
            DType::U8,
            DType::Bool,
        ]
        .iter()
        .map(|d| d.to_proto() as i32)
        .collect();
        assert_eq!(codes, [1, 2, 3, 9, 4, 10]);
        for code in codes {
            assert_eq!(DType::from_proto(code).unwrap().to_proto() as i32, code);
        }
        assert_eq!(DType::from_proto(7), None, "DT_STRING");
    }
}
