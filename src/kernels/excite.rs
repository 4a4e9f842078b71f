//! The SE excitation MLP `gate(w2 . hidden(w1 . s + b1) + b2)`, per batch item
//! (`shaders/excite.wgsl`; CPU twin `crate::cpu::excite`).

use super::{Activation, Dispatch, grid, shader};
use crate::device::Runtime;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Invocations per workgroup; must match `WG` in the shader.
pub const WORKGROUP: usize = 256;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    batch: u32,
    channels: u32,
    reduced: u32,
    hidden_kind: u32,
    hidden_a: f32,
    hidden_b: f32,
    gate_kind: u32,
    gate_a: f32,
    gate_b: f32,
    split: u32,
    pad: [u32; 2],
}

/// `(rows, cols)` of a weight given as `[rows, cols]` or as a 1x1 convolution kernel
/// `[rows, cols, 1, 1]` (how ONNX stores SE weights).
fn matrix(what: &str, shape: &[usize]) -> Result<(usize, usize)> {
    match *shape {
        [rows, cols] | [rows, cols, 1, 1] => Ok((rows, cols)),
        _ => Err(Error::shape(what, "[R, C] or [R, C, 1, 1]", shape)),
    }
}

/// Checks the excitation operands' shapes and returns `(N, C, R)`.
/// Shared by the GPU kernel and its CPU twin so both accept exactly the same inputs.
pub(crate) fn excite_dims(
    s: &[usize],
    w1: &[usize],
    b1: &[usize],
    w2: &[usize],
    b2: &[usize],
) -> Result<(usize, usize, usize)> {
    let [n, c] = *s else {
        return Err(Error::shape("excite input", "[N, C]", s));
    };
    let (r, c1) = matrix("excite w1", w1)?;
    if n == 0 || c == 0 || r == 0 {
        return Err(Error::invalid(
            "excite",
            format!("empty operand: input {s:?}, w1 {w1:?}"),
        ));
    }
    if c1 != c {
        return Err(Error::shape("excite w1 (FC C -> R)", [r, c], w1));
    }
    if matrix("excite w2", w2)? != (c, r) {
        return Err(Error::shape("excite w2 (FC R -> C)", [c, r], w2));
    }
    if b1 != [r] {
        return Err(Error::shape("excite b1", [r], b1));
    }
    if b2 != [c] {
        return Err(Error::shape("excite b2", [c], b2));
    }
    Ok((n, c, r))
}

/// Invocations sharing each FC1 dot product: as many as leave the workgroup full
/// (`WORKGROUP / R`, rounded to powers of two), but no more than C has elements.
fn fc1_split(c: usize, r: usize) -> usize {
    (WORKGROUP / r.min(WORKGROUP).next_power_of_two()).min(c.next_power_of_two())
}

/// `out[n] = gate(w2 . hidden(w1 . s[n] + b1) + b2)` for every batch item `n`.
#[allow(clippy::too_many_arguments)]
pub fn excite(
    rt: &Runtime,
    s: &Tensor,
    w1: &Tensor,
    b1: &Tensor,
    hidden: Activation,
    w2: &Tensor,
    b2: &Tensor,
    gate: Activation,
    out: &Tensor,
) -> Result<Dispatch> {
    let (n, c, r) = excite_dims(s.shape(), w1.shape(), b1.shape(), w2.shape(), b2.shape())?;
    if out.shape() != [n, c] {
        return Err(Error::shape("excite output", [n, c], out.shape()));
    }
    let (hidden_kind, hidden_a, hidden_b) = hidden.code();
    let (gate_kind, gate_a, gate_b) = gate.code();
    let params = Params {
        batch: n as u32,
        channels: c as u32,
        reduced: r as u32,
        hidden_kind,
        hidden_a,
        hidden_b,
        gate_kind,
        gate_a,
        gate_b,
        split: fc1_split(c, r) as u32,
        pad: [0; 2],
    };
    let wg = grid(rt, n as u32);
    rt.dispatch(
        shader!("excite"),
        "excite",
        &[],
        &params,
        &[s, w1, b1, w2, b2, out],
        wg,
    )
}
