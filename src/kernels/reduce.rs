//! Reductions over any axes (`shaders/reduce.wgsl`; CPU twin `crate::cpu::reduce`):
//! one invocation per output element, looping over its inputs.

use super::{Dispatch, distinct_output, grid, groups, shader, uniform};
use crate::device::{Runtime, Shader, Tensor};
use crate::error::{Error, Result};
use crate::ops::binary::MAX_RANK;
use crate::ops::reduce::{ReduceKind, ReduceLayout, reduced_shape};

pub const SHADER: Shader = shader!("reduce", ["shared/grid", "shared/x_to_y", "reduce"]);

uniform! {
    struct Params {
        len: u32,
        count: u32,
        kind: u32,
        _pad: u32,
        kept_dims: [u32; MAX_RANK],
        kept_strides: [u32; MAX_RANK],
        reduced_dims: [u32; MAX_RANK],
        reduced_strides: [u32; MAX_RANK],
    }
}

/// Invocations per workgroup: `@workgroup_size` in the shader.
pub(super) const WORKGROUP: usize = 64;

/// Sizes and strides right-aligned into 8 slots, the unused ones of size 1.
fn slots(dims: &[(usize, usize)]) -> ([u32; MAX_RANK], [u32; MAX_RANK]) {
    let (mut d, mut s) = ([1u32; MAX_RANK], [0u32; MAX_RANK]);
    for (k, &(n, st)) in dims.iter().enumerate() {
        d[MAX_RANK - dims.len() + k] = n as u32;
        s[MAX_RANK - dims.len() + k] = st as u32;
    }
    (d, s)
}

/// `y` = `x` reduced over the sorted `axes` by `kind`; `y` holds the kept
/// dimensions' elements (with or without the reduced ones as 1).
pub fn reduce(
    rt: &Runtime,
    x: &Tensor,
    kind: ReduceKind,
    axes: &[usize],
    y: &Tensor,
) -> Result<Dispatch> {
    let rank = x.shape().len();
    if rank > MAX_RANK || axes.iter().any(|&a| a >= rank) {
        return Err(Error::invalid(
            "reduce",
            format!("axes {axes:?} of a rank-{rank} tensor (at most {MAX_RANK})"),
        ));
    }
    let kept = reduced_shape(x.shape(), axes, true);
    if y.len() != kept.iter().product::<usize>() {
        return Err(Error::shape("reduce output", &kept, y.shape()));
    }
    distinct_output("reduce", &[x], y)?;
    let layout = ReduceLayout::new(x.shape(), axes);
    let (kept_dims, kept_strides) = slots(&layout.kept);
    let (reduced_dims, reduced_strides) = slots(&layout.reduced);
    let params = Params {
        len: y.len() as u32,
        count: layout.count() as u32,
        kind: kind as u32,
        _pad: 0,
        kept_dims,
        kept_strides,
        reduced_dims,
        reduced_strides,
    };
    let wg = grid(rt, groups(y.len(), WORKGROUP));
    rt.dispatch(SHADER, "reduce", &[], &params, &[x, y], wg)
}
