//! Reading ONNX: the protobuf messages (generated from the vendored `proto/onnx.proto`),
//! tensor decoding, and the import of a `ModelProto` into the graph IR.

#[rustfmt::skip]
#[allow(clippy::all, missing_docs, rustdoc::all)]
pub mod proto;

mod attributes;
mod import;
mod operators;

pub(crate) use import::{Imported, import};
pub use operators::{Operands, operators};

use prost::Message;

use crate::error::{Error, ModelError, Result};
use crate::tensor::{Const, HostTensor, checked_dims};
use proto::tensor_proto::DataType;

/// The default-domain opsets the importer understands. Opsets 22 to 25 only added
/// element types (bfloat16, 4- and 8-bit floats) to the supported operators, without
/// changing their semantics, so models exported for them load too (the ONNX
/// conformance suite writes opsets up to 25).
pub const MIN_OPSET: i64 = 9;
pub const MAX_OPSET: i64 = 25;

/// The largest kernel size, stride, dilation or pad a Conv or pool attribute may have:
/// far above any real model, and small enough that output sizes computed from them
/// cannot overflow.
pub const MAX_SPATIAL: i64 = 1 << 16;

/// Decodes a serialized `ModelProto` (the bytes of a `.onnx` file).
pub fn decode_model(bytes: &[u8]) -> Result<proto::ModelProto, ModelError> {
    proto::ModelProto::decode(bytes).map_err(|e| ModelError::Protobuf(e.to_string()))
}

/// Decodes a serialized `TensorProto` (a `.pb` file of the ONNX test data sets) into
/// an f32 tensor; integer and half-precision data are converted to f32.
pub fn read_tensor_proto(bytes: &[u8]) -> Result<HostTensor> {
    read_named_tensor_proto(bytes).map(|(_, t)| t)
}

/// Like [`read_tensor_proto`], also returning the tensor's `name` field (may be empty).
pub fn read_named_tensor_proto(bytes: &[u8]) -> Result<(String, HostTensor)> {
    let t = proto::TensorProto::decode(bytes).map_err(|e| ModelError::Protobuf(e.to_string()))?;
    let name = t.name.clone().unwrap_or_default();
    let c = tensor_to_const(&t).map_err(|e| match e {
        TensorError::Invalid(m) => Error::InvalidModel(m),
        TensorError::Unsupported(reason) => Error::invalid("read_tensor_proto", reason),
    })?;
    let host = match c {
        Const::F32(t) => (*t).clone(),
        Const::I64(t) => HostTensor::new(&t.shape, t.data.iter().map(|&v| v as f32).collect())?,
    };
    Ok((name, host))
}

/// Why a tensor could not be decoded.
#[derive(Debug)]
pub(crate) enum TensorError {
    /// Valid ONNX, but a type the runtime does not handle (strings, complex, 8-bit floats).
    Unsupported(String),
    Invalid(ModelError),
}

impl From<ModelError> for TensorError {
    fn from(e: ModelError) -> Self {
        TensorError::Invalid(e)
    }
}

/// Decodes a `TensorProto` into a constant: f32 for floating types, i64 for integer
/// and boolean types. Sizes are validated before any data is copied.
pub(crate) fn tensor_to_const(t: &proto::TensorProto) -> Result<Const, TensorError> {
    let name = t.name.clone().unwrap_or_default();
    if t.data_location == Some(proto::tensor_proto::DataLocation::External as i32)
        || !t.external_data.is_empty()
    {
        return Err(ModelError::ExternalData { tensor: name }.into());
    }
    if t.segment.is_some() {
        return Err(TensorError::Unsupported(format!(
            "tensor '{name}' is segmented"
        )));
    }
    let shape = checked_dims(&name, &t.dims)?;
    let n: usize = shape.iter().product();
    let dtype = t.data_type.unwrap_or(0);
    let bad = |message: String| {
        TensorError::Invalid(ModelError::BadTensor {
            tensor: name.clone(),
            message,
        })
    };
    let raw = t.raw_data.as_deref();
    // The raw little-endian data in `size`-byte chunks if the tensor has raw data
    // (`None`: the `typed_len` values of its typed field are the elements).
    let raw_or_typed = |size: usize, typed_len: usize| {
        let Some(r) = raw else {
            return if typed_len == n {
                Ok(None)
            } else {
                Err(bad(format!("{typed_len} values for shape {shape:?}")))
            };
        };
        if Some(r.len()) != n.checked_mul(size) {
            return Err(bad(format!(
                "{} bytes of raw data for {n} elements of {size} bytes",
                r.len()
            )));
        }
        Ok(Some(r.chunks_exact(size)))
    };
    let floats = |v: Vec<f32>| {
        Ok(Const::f32(
            HostTensor::new(&shape, v).expect("size checked"),
        ))
    };
    let ints = |v: Vec<i64>| Ok(Const::i64(shape.clone(), v));

    let Some(dt) = DataType::try_from(dtype).ok() else {
        return Err(bad(format!("unknown data type {dtype}")));
    };
    match dt {
        DataType::Float => floats(match raw_or_typed(4, t.float_data.len())? {
            Some(raw) => raw
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
            None => t.float_data.clone(),
        }),
        DataType::Double => floats(match raw_or_typed(8, t.double_data.len())? {
            Some(raw) => raw
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32)
                .collect(),
            None => t.double_data.iter().map(|&v| v as f32).collect(),
        }),
        DataType::Float16 | DataType::Bfloat16 => {
            let bits: Vec<u16> = match raw_or_typed(2, t.int32_data.len())? {
                Some(raw) => raw
                    .map(|c| u16::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
                None => t.int32_data.iter().map(|&v| v as u16).collect(),
            };
            let conv = if dt == DataType::Float16 {
                f16_to_f32
            } else {
                bf16_to_f32
            };
            floats(bits.into_iter().map(conv).collect())
        }
        DataType::Int64 => ints(match raw_or_typed(8, t.int64_data.len())? {
            Some(raw) => raw
                .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
            None => t.int64_data.clone(),
        }),
        DataType::Int32
        | DataType::Int16
        | DataType::Int8
        | DataType::Uint16
        | DataType::Uint8
        | DataType::Bool => {
            let (size, signed) = match dt {
                DataType::Int32 => (4, true),
                DataType::Int16 => (2, true),
                DataType::Uint16 => (2, false),
                DataType::Int8 => (1, true),
                _ => (1, false),
            };
            ints(match raw_or_typed(size, t.int32_data.len())? {
                Some(raw) => raw.map(|c| le_int(c, signed)).collect(),
                None => t.int32_data.iter().map(|&v| v as i64).collect(),
            })
        }
        DataType::Uint32 | DataType::Uint64 => {
            let size = if dt == DataType::Uint32 { 4 } else { 8 };
            ints(match raw_or_typed(size, t.uint64_data.len())? {
                Some(raw) => raw.map(|c| le_int(c, false)).collect(),
                None => t.uint64_data.iter().map(|&v| v as i64).collect(),
            })
        }
        other => Err(TensorError::Unsupported(format!(
            "tensor '{name}' has data type {}",
            other.as_str_name()
        ))),
    }
}

/// A little-endian integer of 1, 2, 4 or 8 bytes.
fn le_int(c: &[u8], signed: bool) -> i64 {
    let mut b = [0u8; 8];
    b[..c.len()].copy_from_slice(c);
    let v = u64::from_le_bytes(b);
    let bits = c.len() * 8;
    if signed && bits < 64 && (v >> (bits - 1)) & 1 == 1 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h as u32) & 0x8000) << 16;
    let exp = ((h >> 10) & 0x1f) as u32;
    let mant = (h & 0x3ff) as u32;
    let bits = match exp {
        0 if mant == 0 => sign,
        // Subnormal half: value = mant * 2^-24, exactly representable in f32.
        0 => return sign_of(h) * (mant as f32) * (2.0f32).powi(-24),
        0x1f => sign | 0x7f80_0000 | (mant << 13),
        _ => sign | ((exp + 112) << 23) | (mant << 13),
    };
    f32::from_bits(bits)
}

fn sign_of(h: u16) -> f32 {
    if h & 0x8000 != 0 { -1.0 } else { 1.0 }
}

pub(crate) fn bf16_to_f32(h: u16) -> f32 {
    f32::from_bits((h as u32) << 16)
}
