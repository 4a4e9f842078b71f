//! Strided copies: Slice (any axes, negative steps) and Split, on the strided
//! gather of `shaders/transpose.wgsl` (CPU twin `crate::cpu::slice`).

use super::transpose::gather;
use super::{Dispatch, distinct_output};
use crate::device::{Runtime, Tensor};
use crate::error::Result;
use crate::ops::slice::{SliceAxis, check_box, check_split, split_axes, strided};

/// `y` = the elements of `x` that `axes` (one per dimension) select.
pub fn slice(rt: &Runtime, x: &Tensor, axes: &[SliceAxis], y: &Tensor) -> Result<Dispatch> {
    check_box(x.shape(), axes, y.shape())?;
    distinct_output("slice", &[x], y)?;
    let (offset, dims) = strided(x.shape(), axes);
    gather(rt, x, offset, &dims, y)
}

/// Each of `ys` = the next `ys[k].shape()[axis]` elements of `x` along `axis`.
pub fn split(rt: &Runtime, x: &Tensor, axis: usize, ys: &[&Tensor]) -> Result<Vec<Dispatch>> {
    let sizes: Vec<usize> = ys
        .iter()
        .map(|y| y.shape().get(axis).copied().unwrap_or(0))
        .collect();
    check_split(x.shape(), axis, &sizes)?;
    let parts = split_axes(x.shape(), axis, &sizes);
    ys.iter()
        .zip(&parts)
        .map(|(y, axes)| slice(rt, x, axes, y))
        .collect()
}
