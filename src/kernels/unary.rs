//! `y = act(x)` or `y = f(x)` elementwise (`shaders/unary.wgsl`; CPU twin
//! `crate::cpu::unary`).

use super::{Dispatch, ELEMENTWISE_WORKGROUP, Shader, activation, grid, groups, shader, uniform};
use crate::device::Runtime;
use crate::device::Tensor;
use crate::error::{Error, Result};
use crate::ops::Activation;
use crate::ops::unary::UnaryOp;

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

/// Where the shader's `kind` values for math functions start (its `MATH`).
const MATH: u32 = 64;

pub fn unary(rt: &Runtime, x: &Tensor, act: Activation, y: &Tensor) -> Result<Dispatch> {
    let (kind, a, b) = activation::code(act);
    elementwise(rt, x, Params { len: 0, kind, a, b }, y)
}

pub fn unary_op(rt: &Runtime, x: &Tensor, op: UnaryOp, y: &Tensor) -> Result<Dispatch> {
    let params = Params {
        len: 0,
        kind: MATH + op as u32,
        a: 0.0,
        b: 0.0,
    };
    elementwise(rt, x, params, y)
}

/// The kernel over every element of `x` with `params` (its length filled in).
fn elementwise(rt: &Runtime, x: &Tensor, params: Params, y: &Tensor) -> Result<Dispatch> {
    if x.shape() != y.shape() {
        return Err(Error::shape("unary output", x.shape(), y.shape()));
    }
    let params = Params {
        len: x.len() as u32,
        ..params
    };
    let wg = grid(rt, groups(x.len(), ELEMENTWISE_WORKGROUP));
    rt.dispatch(SHADER, "unary", &[], &params, &[x, y], wg)
}
