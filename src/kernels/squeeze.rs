//! Global average / max pooling over each channel's H x W plane, the "squeeze" of an
//! SE block (`shaders/squeeze.wgsl`; CPU twin `crate::cpu::squeeze`).

use super::{Dispatch, grid, groups, shader};
use crate::device::Runtime;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// How the squeeze summarises a channel's plane.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SqueezeMode {
    /// Global average pooling (the SE paper's squeeze).
    #[default]
    Avg,
    /// Global max pooling.
    Max,
}

/// Invocations per workgroup; must match `WG` in the shader.
pub const WORKGROUP: usize = 64;

/// Fewest loads (scalar or vec4) each lane should make before another lane pays off.
const MIN_LOADS_PER_LANE: usize = 4;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    planes: u32,
    hw: u32,
    lanes: u32,
    pad: u32,
}

/// `[N, C, H, W]` of a rank-4 shape with no zero dimension, or a shape error naming `what`.
pub(crate) fn nchw(what: &str, shape: &[usize]) -> Result<[usize; 4]> {
    match *shape {
        [n, c, h, w] if n * c * h * w > 0 => Ok([n, c, h, w]),
        [_, _, _, _] => Err(Error::invalid(
            what,
            format!("shape {shape:?} has a zero dimension"),
        )),
        _ => Err(Error::shape(what, "[N, C, H, W]", shape)),
    }
}

/// Invocations per plane: enough that each makes about `MIN_LOADS_PER_LANE` loads,
/// rounded up to a power of two for the tree, at most a whole workgroup.
pub fn lanes_per_plane(loads: usize) -> usize {
    loads
        .div_ceil(MIN_LOADS_PER_LANE)
        .next_power_of_two()
        .min(WORKGROUP)
}

/// `out[n, c]` = mean or max of `x[n, c, :, :]`.
pub fn squeeze(rt: &Runtime, x: &Tensor, mode: SqueezeMode, out: &Tensor) -> Result<Dispatch> {
    let [n, c, h, w] = nchw("squeeze input", x.shape())?;
    if out.shape() != [n, c] {
        return Err(Error::shape("squeeze output", [n, c], out.shape()));
    }
    let (planes, hw) = (n * c, h * w);
    // vec4 loads need every plane to start on a 16-byte boundary.
    let vec4 = hw % 4 == 0;
    let lanes = lanes_per_plane(if vec4 { hw / 4 } else { hw });
    let params = Params {
        planes: planes as u32,
        hw: hw as u32,
        lanes: lanes as u32,
        pad: 0,
    };
    let entry = if vec4 { "squeeze_vec4" } else { "squeeze" };
    let max = f64::from(u8::from(mode == SqueezeMode::Max));
    let wg = grid(rt, groups(planes, WORKGROUP / lanes));
    rt.dispatch(
        shader!("squeeze"),
        entry,
        &[("MAX_POOL", max)],
        &params,
        &[x, out],
        wg,
    )
}
