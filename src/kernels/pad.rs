//! ONNX Pad for tensors up to rank 6 (`shaders/pad.wgsl`; CPU twin `crate::cpu::pad`).

use super::{
    Dispatch, ELEMENTWISE_WORKGROUP, Shader, distinct_output, grid, groups, shader, uniform,
};
use crate::device::Runtime;
use crate::device::Tensor;
use crate::error::{Error, Result};
use crate::ops::pad::{PadMode, pad_shape};

/// The shader's `MODE` override.
fn mode_code(mode: PadMode) -> u32 {
    match mode {
        PadMode::Constant(_) => 0,
        PadMode::Reflect => 1,
        PadMode::Edge => 2,
    }
}

pub const SHADER: Shader = shader!("pad", ["shared/grid", "shared/x_to_y", "pad"]);

uniform! {
    struct Params {
        len: u32,
        rank: u32,
        value: f32,
        _pad: u32,
        out_dims: [u32; 8],
        in_dims: [u32; 8],
        begins: [u32; 8],
    }
}

/// `y = pad(x, pads, mode)`; pads are `[begin_0, .., begin_r-1, end_0, .., end_r-1]`.
pub fn pad(
    rt: &Runtime,
    x: &Tensor,
    pads: &[usize],
    mode: PadMode,
    y: &Tensor,
) -> Result<Dispatch> {
    let shape = pad_shape(x.shape(), pads, mode)?;
    if y.shape() != shape.as_slice() {
        return Err(Error::shape("pad output", &shape, y.shape()));
    }
    distinct_output("pad", &[x], y)?;
    let mut params = Params {
        len: y.len() as u32,
        rank: shape.len() as u32,
        value: match mode {
            PadMode::Constant(v) => v,
            _ => 0.0,
        },
        _pad: 0,
        out_dims: [0; 8],
        in_dims: [0; 8],
        begins: [0; 8],
    };
    for d in 0..shape.len() {
        params.out_dims[d] = shape[d] as u32;
        params.in_dims[d] = x.shape()[d] as u32;
        params.begins[d] = pads[d] as u32;
    }
    let constants = [("MODE", f64::from(mode_code(mode)))];
    let wg = grid(rt, groups(y.len(), ELEMENTWISE_WORKGROUP));
    rt.dispatch(SHADER, "pad", &constants, &params, &[x, y], wg)
}
