//! `y = act(x)` elementwise (`shaders/unary.wgsl`; CPU twin `crate::cpu::unary`).

use super::{Dispatch, ELEMENTWISE_WORKGROUP, Shader, activation, grid, groups, shader, uniform};
use crate::device::Runtime;
use crate::device::Tensor;
use crate::error::{Error, Result};
use crate::ops::Activation;

pub const SHADER: Shader = shader!(
    "unary",
    ["shared/grid", "shared/x_to_y", "shared/activation", "unary"]
);

uniform! {
    struct Params {
        len: u32,
        kind: u32,
        a: f32,
        b: f32,
    }
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
    let wg = grid(rt, groups(x.len(), ELEMENTWISE_WORKGROUP));
    rt.dispatch(SHADER, "unary", &[], &params, &[x, y], wg)
}
