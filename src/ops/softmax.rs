//! Softmax along one axis: the tensor is viewed as `[outer, n, inner]` with `n` the
//! axis length (GPU: `kernels::softmax`; CPU twin `cpu::softmax`).

use super::Op;
use super::check_axis;
use super::infer::{InferResult, Inferred, Inputs};
use crate::error::Result;

/// `(outer, n, inner)` of `shape` around `axis`.
pub fn split_axis(shape: &[usize], axis: usize) -> Result<(usize, usize, usize)> {
    check_axis("softmax", axis, shape.len())?;
    let outer = shape[..axis].iter().product();
    let inner = shape[axis + 1..].iter().product();
    Ok((outer, shape[axis], inner))
}

/// Softmax (or LogSoftmax with `log`) along a possibly negative `axis`; `coerce_2d`
/// (opset < 13) only matters when dimensions follow the axis.
pub fn infer(axis: i64, coerce_2d: bool, log: bool, x: &Inputs) -> InferResult<Inferred> {
    x.floats_only()?;
    let xs = x.shape(0)?.to_vec();
    let a = x.axis(axis, xs.len())?;
    let op = Op::Softmax {
        axis: a,
        coerce_2d: coerce_2d && a + 1 < xs.len(),
        log,
    };
    Inferred::tensor(op, xs)
}
