//! LayerNormalization over the trailing dimensions (`shaders/layer_norm.wgsl`; CPU
//! twin `crate::cpu::layer_norm`): one invocation per row.

use super::{Dispatch, Shader, distinct_output, grid, groups, shader, uniform};
use crate::device::{Runtime, Tensor};
use crate::error::{Error, Result};
use crate::ops::layer_norm::{check_param, rows};

pub const SHADER: Shader = shader!("layer_norm", ["shared/grid", "layer_norm"]);

/// Rows per workgroup, one invocation each.
pub(super) const WORKGROUP: usize = 64;

uniform! {
    struct Params {
        rows: u32,
        n: u32,
        scale_len: u32,
        bias_len: u32,
        epsilon: f32,
        _pad: [u32; 3],
    }
}

/// `y = (x - mean) / sqrt(var + epsilon) * scale + bias` per row of the dimensions
/// from `axis` on; `scale` and `bias` hold a value per row element or one; each
/// row's mean and `1 / sqrt(var + epsilon)` go to `stats` (`[rows]` each).
#[allow(clippy::too_many_arguments)]
pub fn layer_norm(
    rt: &Runtime,
    x: &Tensor,
    scale: &Tensor,
    bias: Option<&Tensor>,
    axis: usize,
    epsilon: f32,
    y: &Tensor,
    stats: [&Tensor; 2],
) -> Result<Dispatch> {
    if axis >= x.shape().len() {
        return Err(Error::invalid(
            "layer_norm",
            format!("axis {axis} of {:?}", x.shape()),
        ));
    }
    let (rows, n) = rows(x.shape(), axis);
    for p in std::iter::once(scale).chain(bias) {
        check_param(n, p.shape())?;
    }
    if y.shape() != x.shape() {
        return Err(Error::shape("layer_norm output", x.shape(), y.shape()));
    }
    if let Some(s) = stats.iter().find(|s| s.len() != rows) {
        return Err(Error::shape("layer_norm statistics", [rows], s.shape()));
    }
    for out in std::iter::once(y).chain(stats) {
        distinct_output("layer_norm", &[x, scale], out)?;
    }
    let params = Params {
        rows: rows as u32,
        n: n as u32,
        scale_len: scale.len() as u32,
        bias_len: bias.map_or(0, |b| b.len() as u32),
        epsilon,
        _pad: [0; 3],
    };
    let wg = grid(rt, groups(rows, WORKGROUP));
    let tensors = [x, scale, bias.unwrap_or(scale), y, stats[0], stats[1]];
    rt.dispatch(SHADER, "layer_norm", &[], &params, &tensors, wg)
}
