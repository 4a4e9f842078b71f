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
