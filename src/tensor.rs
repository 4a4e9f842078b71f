//! f32 tensors in host memory and the shape helpers every backend shares (the GPU's
//! tensors are in `device`).
//!
//! Layout: activations are NCHW, the layout ONNX and every exporter use, so weights
//! and inputs need no transposes at the model boundary. Two measured reasons decide it
//! for SE networks on top of that:
//! - the squeeze reduces each channel's H x W plane; in NCHW that plane is contiguous,
//!   so the reduction reads in perfectly coalesced runs (NHWC would stride by C);
//! - 1x1 convolutions (most of an SE-ResNet's and MobileNet's MACs) are a plain GEMM
//!   `W[Co,Ci] x X[Ci,H*W]` whose N dimension (H*W) is contiguous, so vec4 loads and
//!   4x4 register blocking apply without any reshuffling.
//!
//! The squeeze benchmark (`benches/squeeze.rs`) measures the NHWC-strided read against
//! the NCHW one to back this up.

use crate::error::{Error, Result};

/// Number of elements of `shape`, or an error if it overflows.
pub fn numel(shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::invalid("tensor", format!("shape {shape:?} overflows")))
}

/// The NumPy broadcast of two shapes.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let rank = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| (i + s.len()).checked_sub(rank).map_or(1, |j| s[j]);
    (0..rank)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            _ => Err(Error::shape("broadcast", a, b)),
        })
        .collect()
}

/// Element strides of a row-major `shape` read as the broadcast `target`:
/// one entry per dimension of `target`, 0 where `shape` is broadcast.
pub fn broadcast_strides(shape: &[usize], target: &[usize]) -> Vec<usize> {
    let offset = target.len() - shape.len();
    let mut strides = vec![0; target.len()];
    let mut step = 1;
    for i in (0..shape.len()).rev() {
        if shape[i] != 1 {
            strides[offset + i] = step;
        }
        step *= shape[i];
    }
    strides
}

/// An f32 tensor in host memory: model weights, CPU reference inputs and outputs.
#[derive(Clone, Debug, PartialEq)]
pub struct HostTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Checks that a host tensor's data has as many values as its (public) shape says.
pub(crate) fn check_host(what: &str, t: &HostTensor) -> Result<()> {
    let want = numel(&t.shape)?;
    if t.data.len() != want {
        return Err(Error::shape(
            format!("{what} data"),
            format!("{want} values for shape {:?}", t.shape),
            t.data.len(),
        ));
    }
    Ok(())
}

impl HostTensor {
    pub fn new(shape: &[usize], data: Vec<f32>) -> Result<Self> {
        if numel(shape)? != data.len() {
            return Err(Error::shape(
                "host tensor",
                format!("{} values for shape {shape:?}", numel(shape)?),
                data.len(),
            ));
        }
        Ok(Self {
            shape: shape.to_vec(),
            data,
        })
    }

    pub fn zeros(shape: &[usize]) -> Result<Self> {
        Self::new(shape, vec![0.0; numel(shape)?])
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

// ---- Model constants: initializers, Constant nodes and folded values ----

/// The most elements any tensor of a model may have (u32 indexing in the shaders,
/// and a guard against absurd declared sizes before anything is allocated).
pub const MAX_ELEMENTS: usize = 1 << 31;

/// Element types a graph value can have. Activations are always f32; integer tensors
/// only exist as constants (shapes, axes, indices) and are folded away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DType {
    F32,
    I64,
}

/// An integer constant (ONNX int8..int64, uint*, bool).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntTensor {
    pub shape: Vec<usize>,
    pub data: Vec<i64>,
}

/// A constant: an initializer, a Constant node's value, or a folded result.
/// Shared, so cloning a graph does not copy its weights.
#[derive(Clone, Debug)]
pub enum Const {
    F32(std::sync::Arc<HostTensor>),
    I64(std::sync::Arc<IntTensor>),
}

impl PartialEq for Const {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Const::F32(a), Const::F32(b)) => a == b,
            (Const::I64(a), Const::I64(b)) => a == b,
            _ => false,
        }
    }
}

impl Const {
    pub fn f32(t: HostTensor) -> Self {
        Const::F32(std::sync::Arc::new(t))
    }

    pub fn i64(shape: Vec<usize>, data: Vec<i64>) -> Self {
        Const::I64(std::sync::Arc::new(IntTensor { shape, data }))
    }

    pub fn shape(&self) -> &[usize] {
        match self {
            Const::F32(t) => &t.shape,
            Const::I64(t) => &t.shape,
        }
    }

    pub fn dtype(&self) -> DType {
        match self {
            Const::F32(_) => DType::F32,
            Const::I64(_) => DType::I64,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Const::F32(t) => t.data.len(),
            Const::I64(t) => t.data.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn as_f32(&self) -> Option<&HostTensor> {
        match self {
            Const::F32(t) => Some(t),
            Const::I64(_) => None,
        }
    }

    /// The values as integers (floats truncated), for attributes given as inputs.
    pub fn to_i64s(&self) -> Vec<i64> {
        match self {
            Const::F32(t) => t.data.iter().map(|&v| v as i64).collect(),
            Const::I64(t) => t.data.clone(),
        }
    }

    /// The values as floats, for attributes given as inputs (Clip bounds, pad value).
    pub fn to_f32s(&self) -> Vec<f32> {
        match self {
            Const::F32(t) => t.data.clone(),
            Const::I64(t) => t.data.iter().map(|&v| v as f32).collect(),
        }
    }
}

/// Checks that a tensor of `shape` stays within [`MAX_ELEMENTS`].
pub(crate) fn check_elements(
    what: &str,
    shape: &[usize],
) -> std::result::Result<(), crate::error::ModelError> {
    match shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) {
        Some(n) if n <= MAX_ELEMENTS => Ok(()),
        _ => Err(too_large(
            format!("{what} of shape {shape:?}"),
            shape.iter().map(|&d| d as f64),
        )),
    }
}

/// ONNX dims as a shape: rejects negative dims and more than [`MAX_ELEMENTS`].
pub(crate) fn checked_dims(
    what: &str,
    dims: &[i64],
) -> std::result::Result<Vec<usize>, crate::error::ModelError> {
    let too_large = || {
        too_large(
            format!("tensor '{what}' of shape {dims:?}"),
            dims.iter().map(|&d| d as f64),
        )
    };
    let mut n: usize = 1;
    let mut shape = Vec::with_capacity(dims.len());
    for &d in dims {
        let d = usize::try_from(d).map_err(|_| crate::error::ModelError::BadTensor {
            tensor: what.into(),
            message: format!("negative dimension in {dims:?}"),
        })?;
        n = n.checked_mul(d).ok_or_else(too_large)?;
        shape.push(d);
    }
    if n > MAX_ELEMENTS {
        return Err(too_large());
    }
    Ok(shape)
}

fn too_large(what: String, dims: impl Iterator<Item = f64>) -> crate::error::ModelError {
    crate::error::ModelError::TooLarge {
        what,
        elements: dims.product::<f64>().to_string(),
        limit: MAX_ELEMENTS,
    }
}
