//! The squeeze of an SE block: global average or max pooling over each channel's
//! H x W plane (GPU: `kernels::squeeze`; CPU twin `cpu::squeeze`).

use super::Op;
use super::infer::{InferResult, Inferred, Inputs};
use crate::error::{Error, Result};
use crate::tensor::numel;

/// How the squeeze summarises a channel's plane.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SqueezeMode {
    /// Global average pooling (the SE paper's squeeze).
    #[default]
    Avg,
    /// Global max pooling.
    Max,
}

/// `[N, C, H, W]` of a rank-4 shape with no zero dimension, or an error naming `what`.
pub fn nchw(what: &str, shape: &[usize]) -> Result<[usize; 4]> {
    let [n, c, h, w] = *shape else {
        return Err(Error::shape(what, "[N, C, H, W]", shape));
    };
    if numel(shape)? == 0 {
        return Err(Error::invalid(
            what,
            format!("shape {shape:?} has a zero dimension"),
        ));
    }
    Ok([n, c, h, w])
}

/// GlobalAveragePool / GlobalMaxPool: a reduction over every spatial dimension.
pub fn infer_global_pool(mode: SqueezeMode, x: &Inputs) -> InferResult<Inferred> {
    x.floats_only()?;
    let xs = x.shape(0)?;
    if xs.len() < 3 {
        return Err(x.bad(format!("input of shape {xs:?} has no spatial dimensions")));
    }
    let mut shape = xs.to_vec();
    shape[2..].fill(1);
    Inferred::tensor(Op::Reduce { mode, axis: 2 }, shape)
}
