//! `y = act(x)` elementwise (`shaders/unary.wgsl`; CPU twin `crate::cpu::unary`).

use super::{Dispatch, Shader, activation, grid, groups, shader};
use crate::device::Runtime;
use crate::device::Tensor;
use crate::error::{Error, Result};
use crate::ops::Activation;

pub const SHADER: Shader = shader!("unary", ["shared/activation", "unary"]);

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
    kind: u32,
    a: f32,
    b: f32,
}

pub fn unary(rt: &Runtime, x: &Tensor, act: Activation, y: &Tensor) -> Result<Dispatch> {
    if x.shape() != y.shape() {
        return Err(Error::shape("unary output", x.shape(), y.shape()));
    }
    let (kind, a, b) = activation::code(act);
    let params = Params {
        len: x.len() as u32,
        kind,
        a,
        b,
    };
    let wg = grid(rt, groups(x.len(), 256));
    rt.dispatch(SHADER, "unary", &[], &params, &[x, y], wg)
}
