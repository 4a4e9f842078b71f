//! Numerically stable softmax along any axis (`shaders/softmax.wgsl`; CPU twin
//! `crate::cpu::softmax`). The tensor is viewed as `[outer, n, inner]` with `n` the
//! axis length; each of the `outer * inner` rows (stride `inner`) is normalised.

use super::{Dispatch, distinct_output, grid, groups, shader};
use crate::device::Runtime;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Axis length from which one 256-invocation workgroup reduces each row; shorter
/// rows get one invocation each, which keeps the whole GPU busy when rows are many
/// (class scores of a batch, channels of a feature map).
pub const WORKGROUP_MIN_AXIS: usize = 128;

/// `(outer, n, inner)` of `shape` around `axis`.
pub fn split_axis(shape: &[usize], axis: usize) -> Result<(usize, usize, usize)> {
    if axis >= shape.len() {
        return Err(Error::invalid(
            "softmax",
            format!(
                "axis {axis} is out of range for a rank-{} tensor",
                shape.len()
            ),
        ));
    }
    let outer = shape[..axis].iter().product();
    let inner = shape[axis + 1..].iter().product();
    Ok((outer, shape[axis], inner))
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    rows: u32,
    n: u32,
    inner: u32,
    _pad: u32,
}

/// `y = exp(x - max) / sum(exp(x - max))` along `axis`.
pub fn softmax(rt: &Runtime, x: &Tensor, axis: usize, y: &Tensor) -> Result<Dispatch> {
    let (outer, n, inner) = split_axis(x.shape(), axis)?;
    if y.shape() != x.shape() {
        return Err(Error::shape("softmax output", x.shape(), y.shape()));
    }
    distinct_output("softmax", &[x], y)?;
    // An empty axis leaves nothing to normalise (and no first element to read).
    let rows = if n == 0 { 0 } else { outer * inner };
    let params = Params {
        rows: rows as u32,
        n: n as u32,
        inner: inner as u32,
        _pad: 0,
    };
    let (entry, wg) = if n >= WORKGROUP_MIN_AXIS {
        ("softmax_workgroup", grid(rt, groups(rows, 1)))
    } else {
        ("softmax_rows", grid(rt, groups(rows, 64)))
    };
    rt.dispatch(shader!("softmax"), entry, &[], &params, &[x, y], wg)
}
