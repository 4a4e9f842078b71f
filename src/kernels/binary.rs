//! `out = act(a OP b)` with broadcasting (`shaders/binary.wgsl`; CPU twin
//! `crate::cpu::binary`).

use super::{Dispatch, ELEMENTWISE_WORKGROUP, Shader, activation, grid, groups, shader, uniform};
use crate::device::Runtime;
use crate::device::Tensor;
use crate::error::{Error, Result};
use crate::ops::Activation;
use crate::ops::binary::{BinaryOp, MAX_RANK};
use crate::tensor::{broadcast_shapes, broadcast_strides};

pub const SHADER: Shader = shader!("binary", ["shared/grid", "shared/activation", "binary"]);

uniform! {
    struct Params {
        len: u32,
        op: u32,
        rank: u32,
        kind: u32,
        act_a: f32,
        act_b: f32,
        _pad: [u32; 2],
        dims: [u32; MAX_RANK],
        a_strides: [u32; MAX_RANK],
        b_strides: [u32; MAX_RANK],
    }
}

/// Right-aligns `v` into an 8-slot array (the layout the shader reads).
fn right_aligned(v: &[usize]) -> [u32; MAX_RANK] {
    let mut out = [0u32; MAX_RANK];
    for (slot, &x) in out[MAX_RANK - v.len()..].iter_mut().zip(v) {
        *slot = x as u32;
    }
    out
}

pub fn binary(
    rt: &Runtime,
    op: BinaryOp,
    a: &Tensor,
    b: &Tensor,
    act: Activation,
    out: &Tensor,
) -> Result<Dispatch> {
    let shape = broadcast_shapes(a.shape(), b.shape())?;
    if shape.len() > MAX_RANK {
        return Err(Error::invalid(
            "binary",
            format!("rank {} is over the supported {MAX_RANK}", shape.len()),
        ));
    }
    if out.shape() != shape.as_slice() {
        return Err(Error::shape("binary output", &shape, out.shape()));
    }
    let (kind, act_a, act_b) = activation::code(act);
    let params = Params {
        len: out.len() as u32,
        op: op as u32,
        rank: shape.len() as u32,
        kind,
        act_a,
        act_b,
        _pad: [0; 2],
        dims: right_aligned(&shape),
        a_strides: right_aligned(&broadcast_strides(a.shape(), &shape)),
        b_strides: right_aligned(&broadcast_strides(b.shape(), &shape)),
    };
    let wg = grid(rt, groups(out.len(), ELEMENTWISE_WORKGROUP));
    rt.dispatch(SHADER, "binary", &[], &params, &[a, b, out], wg)
}
