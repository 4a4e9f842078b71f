//! The SE excitation MLP `gate(w2 . hidden(w1 . s + b1) + b2)`, per batch item
//! (`shaders/excite.wgsl`; CPU twin `crate::cpu::excite`).

use super::scale::scale;
use super::squeeze::squeeze;
use super::{Dispatch, Shader, activation, grid, shader, uniform};
use crate::device::{AdapterProfile, Runtime, Tensor};
use crate::error::{Error, Result};
use crate::ops::Activation;
use crate::ops::excite::{excite_dims, gate_dims, hidden_dims, matrix};
use crate::ops::squeeze::{SqueezeMode, nchw};

/// Invocations per workgroup; `WG` in the shader (tests/shaders.rs checks).
pub const WORKGROUP: usize = 256;

pub const SHADER: Shader = shader!("excite", ["shared/grid", "shared/activation", "excite"]);

uniform! {
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
        _pad: [u32; 2],
    }
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
    let (hidden_kind, hidden_a, hidden_b) = activation::code(hidden);
    let (gate_kind, gate_a, gate_b) = activation::code(gate);
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
        _pad: [0; 2],
    };
    let wg = grid(rt, n as u32);
    rt.dispatch(
        SHADER,
        "excite",
        &[],
        &params,
        &[s, w1, b1, w2, b2, out],
        wg,
    )
    .map(|d| d.with_strategy("excite", Strategy::WorkgroupPerImage))
}

/// Invocations per workgroup of `excite_layer`; `LAYER_WG` in the shader (tests/shaders.rs checks).
pub const LAYER_WORKGROUP: usize = 64;

uniform! {
    struct LayerParams {
        batch: u32,
        inputs: u32,
        outputs: u32,
        kind: u32,
        act_a: f32,
        act_b: f32,
        _pad: [u32; 2],
    }
}

/// One fully connected layer of the MLP, `y[n, o] = act(w[o] . x[n] + bias[o])` with
/// `x` `[N, inputs]`, `w` `[outputs, inputs]`: both passes of the split MLP.
#[allow(clippy::too_many_arguments)]
fn layer(
    rt: &Runtime,
    name: &str,
    x: &Tensor,
    w: &Tensor,
    bias: &Tensor,
    act: Activation,
    y: &Tensor,
    (n, inputs, outputs): (usize, usize, usize),
) -> Result<Dispatch> {
    if y.shape() != [n, outputs] {
        return Err(Error::shape(
            format!("{name} output"),
            [n, outputs],
            y.shape(),
        ));
    }
    super::distinct_output(name, &[x, w, bias], y)?;
    let (kind, act_a, act_b) = activation::code(act);
    let params = LayerParams {
        batch: n as u32,
        inputs: inputs as u32,
        outputs: outputs as u32,
        kind,
        act_a,
        act_b,
        _pad: [0; 2],
    };
    let entry = if inputs.is_multiple_of(4) {
        "excite_layer_vec4"
    } else {
        "excite_layer"
    };
    rt.dispatch(
        SHADER,
        entry,
        &[],
        &params,
        &[x, w, bias, y],
        grid(rt, super::groups(n * outputs, LAYER_WORKGROUP)),
    )
    .map(|d| d.with_strategy("excite", Strategy::TwoPass))
}

/// The MLP's first layer alone: `out[n] = hidden(w1 . s[n] + b1)`, `out` `[N, R]`;
/// [`excite_gate`] runs the second layer and the gate.
pub fn excite_hidden(
    rt: &Runtime,
    s: &Tensor,
    w1: &Tensor,
    b1: &Tensor,
    hidden: Activation,
    out: &Tensor,
) -> Result<Dispatch> {
    let (n, c, r) = hidden_dims(s.shape(), w1.shape(), b1.shape())?;
    layer(rt, "excite hidden", s, w1, b1, hidden, out, (n, c, r))
}

/// The MLP's second layer and gate after [`excite_hidden`]:
/// `out[n] = gate(w2 . h[n] + b2)`, `h` `[N, R]`, `out` `[N, C]`.
pub fn excite_gate(
    rt: &Runtime,
    h: &Tensor,
    w2: &Tensor,
    b2: &Tensor,
    gate: Activation,
    out: &Tensor,
) -> Result<Dispatch> {
    let (n, c, r) = gate_dims(h.shape(), w2.shape(), b2.shape())?;
    layer(rt, "excite gate", h, w2, b2, gate, out, (n, r, c))
}

/// How an SE block computes its excitation MLP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Each layer a pass of its own over many workgroups ([`excite_hidden`], then
    /// [`excite_gate`]), the hidden values in the block's scratch buffer.
    TwoPass,
    /// One workgroup per image runs the whole MLP ([`excite`]).
    WorkgroupPerImage,
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Strategy::TwoPass => "two-pass",
            Strategy::WorkgroupPerImage => "workgroup-per-image",
        })
    }
}

/// The strategy [`se_block`] takes for `channels` -> `reduced` -> `channels` on
/// `profile`'s adapter, the same on every class so far. Two passes, the MLP spread
/// over many workgroups: on lavapipe this beat both the single-workgroup-per-image
/// [`excite`] (up to 10x at C = 2048) and a version with the second layer fused into
/// the scaling (whose barrier cost more than the pass it saved):
/// `cargo bench --bench se_block`. Where R > C the hidden layer does not fit the
/// `[N, C]` scratch, so one workgroup per image runs the MLP.
pub fn strategy(_profile: &AdapterProfile, channels: usize, reduced: usize) -> Strategy {
    if reduced > channels {
        Strategy::WorkgroupPerImage
    } else {
        Strategy::TwoPass
    }
}

/// The dispatches of a whole SE block, `y = act(x * excitation + residual)`, over the
/// caller's buffers `scratch` and `excitation` (both `[N, C]`): squeeze, the
/// excitation MLP by its [`strategy`], then the scaling. [`Strategy::TwoPass`]
/// squeezes into `excitation`, runs the first layer into `scratch` (seen as `[N, R]`)
/// and the second layer and gate over the squeezed values;
/// [`Strategy::WorkgroupPerImage`] squeezes into `scratch`.
#[allow(clippy::too_many_arguments)]
pub fn se_block(
    rt: &Runtime,
    x: &Tensor,
    w1: &Tensor,
    b1: &Tensor,
    w2: &Tensor,
    b2: &Tensor,
    residual: Option<&Tensor>,
    pooling: SqueezeMode,
    hidden: Activation,
    gate: Activation,
    act: Activation,
    scratch: &Tensor,
    excitation: &Tensor,
    y: &Tensor,
) -> Result<Vec<Dispatch>> {
    let [n, c, _, _] = nchw("SE block input", x.shape())?;
    let (r, _) = matrix("excite w1", w1.shape())?;
    Ok(match strategy(rt.profile(), c, r) {
        Strategy::WorkgroupPerImage => vec![
            squeeze(rt, x, pooling, scratch)?,
            excite(rt, scratch, w1, b1, hidden, w2, b2, gate, excitation)?,
            scale(rt, x, excitation, residual, act, y)?,
        ],
        Strategy::TwoPass => {
            let h = scratch.view(&[n, r])?;
            vec![
                squeeze(rt, x, pooling, excitation)?,
                excite_hidden(rt, excitation, w1, b1, hidden, &h)?,
                excite_gate(rt, &h, w2, b2, gate, excitation)?,
                scale(rt, x, excitation, residual, act, y)?,
            ]
        }
    })
}
