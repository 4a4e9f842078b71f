//! `out = act(x * g[n, c] + residual)`: channel scaling by the excitation, with the
//! SE-ResNet identity add and activation fused (`shaders/scale.wgsl`; CPU twin
//! `crate::cpu::scale`).

use super::{Dispatch, ELEMENTWISE_WORKGROUP, Shader, activation, grid, groups, shader, uniform};
use crate::device::Runtime;
use crate::device::Tensor;
use crate::error::{Error, Result};
use crate::ops::Activation;
use crate::ops::scale::scale_dims;

pub const SHADER: Shader = shader!("scale", ["shared/grid", "shared/activation", "scale"]);

uniform! {
    struct Params {
        len: u32,
        hw: u32,
        kind: u32,
        act_a: f32,
        act_b: f32,
        _pad: [u32; 3],
    }
}

/// `out = act(x * g[n, c] + residual)`; `residual` optional, `act` may be `Identity`.
pub fn scale(
    rt: &Runtime,
    x: &Tensor,
    g: &Tensor,
    residual: Option<&Tensor>,
    act: Activation,
    out: &Tensor,
) -> Result<Dispatch> {
    let [_, _, h, w] = scale_dims(x.shape(), g.shape(), residual.map(|r| r.shape()))?;
    if out.shape() != x.shape() {
        return Err(Error::shape("scale output", x.shape(), out.shape()));
    }
    let hw = h * w;
    let (kind, act_a, act_b) = activation::code(act);
    let params = Params {
        len: x.len() as u32,
        hw: hw as u32,
        kind,
        act_a,
        act_b,
        _pad: [0; 3],
    };
    // A vec4 must not straddle two planes: it would need two gates.
    let (entry, per_invocation) = if hw.is_multiple_of(4) {
        ("scale_vec4", 4)
    } else {
        ("scale", 1)
    };
    let has_residual = f64::from(u8::from(residual.is_some()));
    let wg = grid(
        rt,
        groups(x.len().div_ceil(per_invocation), ELEMENTWISE_WORKGROUP),
    );
    rt.dispatch(
        SHADER,
        entry,
        &[("HAS_RESIDUAL", has_residual)],
        &params,
        &[x, g, residual.unwrap_or(x), out],
        wg,
    )
}
