//! `out = act(a x b + bias)`, batched with broadcast batch dimensions
//! (`shaders/matmul.wgsl`; CPU twin `crate::cpu::matmul`). The same batched GEMM runs
//! 1x1 convolutions (see [`gemm`]).

mod strategy;

pub use strategy::{Staging, Strategy, Tile, staging, strategy};

use super::{Dispatch, Shader, activation, grid, shader, uniform};
use crate::device::Runtime;
use crate::device::{HalfTensor, Tensor};
use crate::error::{Error, Result};
use crate::ops::Activation;
use crate::ops::matmul::matrix_dims;
use crate::tensor::{broadcast_shapes, broadcast_strides};

/// Batch dimensions the shader indexes; more are merged where strides allow.
const MAX_BATCH_DIMS: usize = 4;

/// Both operands f32, or `a` (a 1x1 convolution's weights) or `b` (a fully connected
/// layer's) stored as f16.
pub const SHADER_F32: Shader = shader!(
    "matmul",
    [
        "shared/matmul_f32",
        "shared/grid",
        "shared/activation",
        "shared/gemm_tile",
        "matmul"
    ]
);
pub const SHADER_F16A: Shader = shader!(
    "matmul_f16a",
    [
        "shared/matmul_f16a",
        "shared/grid",
        "shared/activation",
        "shared/gemm_tile",
        "matmul"
    ]
);
pub const SHADER_F16B: Shader = shader!(
    "matmul_f16b",
    [
        "shared/matmul_f16b",
        "shared/grid",
        "shared/activation",
        "shared/gemm_tile",
        "matmul"
    ]
);

uniform! {
    struct Params {
        m: u32,
        n: u32,
        k: u32,
        tiles_m: u32,
        tiles: u32,
        bias_mode: u32,
        bias_period: u32,
        has_residual: u32,
        kind: u32,
        act_a: f32,
        act_b: f32,
        _pad: u32,
        batch_dims: [u32; 4],
        a_batch_strides: [u32; 4],
        b_batch_strides: [u32; 4],
    }
}

/// What the GEMM adds before the activation.
pub(crate) enum GemmBias<'a> {
    None,
    /// `bias[(batch * m + row) % len]`: a convolution's per-output-channel bias when
    /// the batch runs over (image, group).
    Row(&'a Tensor),
    /// `bias[column]`.
    Column(&'a Tensor),
}

/// A batched GEMM over contiguous row-major matrices: `c[i] = act(a[i] x b[i] + bias +
/// residual[i])` for every index `i` of `batch_dims`, where `a[i]` starts at
/// `sum(i[d] * a_strides[d])` (0 strides broadcast) and `c` and `residual` are
/// contiguous over the batch. Shapes must already be validated by the caller.
pub(crate) struct Gemm<'a> {
    pub a: &'a Tensor,
    pub b: &'a Tensor,
    pub bias: GemmBias<'a>,
    pub residual: Option<&'a Tensor>,
    pub c: &'a Tensor,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub batch_dims: Vec<usize>,
    pub a_strides: Vec<usize>,
    pub b_strides: Vec<usize>,
    pub act: Activation,
    pub strategy: Strategy,
    /// The operand, if any, holding f16 values packed two per word (a
    /// [`HalfTensor`]'s storage).
    pub f16: F16Operand,
}

/// Which GEMM operand is stored as f16.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum F16Operand {
    None,
    A,
    B,
}

/// Fails unless `rt`'s adapter can read f16 weights.
pub(crate) fn require_f16(rt: &Runtime, op: &str) -> Result<()> {
    if rt.profile().f16 {
        return Ok(());
    }
    Err(Error::invalid(
        op,
        format!(
            "the adapter {} lacks the shader-f16 feature; use f32 weights",
            rt.adapter_info().name
        ),
    ))
}

/// Drops size-1 batch dimensions and merges neighbours whose strides chain, so common
/// cases fit the shader's four batch slots.
fn merge_batch_dims(
    dims: &[usize],
    a: &[usize],
    b: &[usize],
) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
    let (mut d, mut sa, mut sb) = (Vec::new(), Vec::<usize>::new(), Vec::<usize>::new());
    for i in (0..dims.len()).filter(|&i| dims[i] != 1) {
        if let (Some(&pa), Some(&pb)) = (sa.last(), sb.last())
            && pa == a[i] * dims[i]
            && pb == b[i] * dims[i]
        {
            *d.last_mut().unwrap() *= dims[i];
            *sa.last_mut().unwrap() = a[i];
            *sb.last_mut().unwrap() = b[i];
            continue;
        }
        d.push(dims[i]);
        sa.push(a[i]);
        sb.push(b[i]);
    }
    (d, sa, sb)
}

/// Right-aligns `v` into 4 slots filled with `fill`.
fn slots(v: &[usize], fill: u32) -> [u32; 4] {
    let mut out = [fill; 4];
    for (slot, &x) in out[MAX_BATCH_DIMS - v.len()..].iter_mut().zip(v) {
        *slot = x as u32;
    }
    out
}

pub(crate) fn gemm(rt: &Runtime, g: Gemm<'_>) -> Result<Dispatch> {
    let (dims, sa, sb) = merge_batch_dims(&g.batch_dims, &g.a_strides, &g.b_strides);
    if dims.len() > MAX_BATCH_DIMS {
        return Err(Error::invalid(
            "matmul",
            format!(
                "batch dimensions {:?} need {} independent strides; at most {MAX_BATCH_DIMS} are supported",
                g.batch_dims,
                dims.len()
            ),
        ));
    }
    let batch: usize = dims.iter().product();
    let max_z = rt.limits().max_compute_workgroups_per_dimension as usize;
    if batch > max_z {
        return Err(Error::invalid(
            "matmul",
            format!(
                "a batch of {batch} matrices is over the device's limit of {max_z} workgroups along z (max_compute_workgroups_per_dimension)"
            ),
        ));
    }
    g.strategy.check(rt.profile(), 0)?;
    let (tiles_m, tiles) = g.strategy.tile.workgroups(g.m, g.n);
    // An empty batch still dispatches one workgroup: give it no tile to work on.
    let tiles = if batch == 0 { 0 } else { tiles };
    let (kind, act_a, act_b) = activation::code(g.act);
    let (bias_mode, bias_period, bias) = match g.bias {
        GemmBias::None => (0, 1, g.a),
        GemmBias::Row(t) => (1, t.len() as u32, t),
        GemmBias::Column(t) => (2, 1, t),
    };
    let params = Params {
        m: g.m as u32,
        n: g.n as u32,
        k: g.k as u32,
        tiles_m: tiles_m as u32,
        tiles: tiles as u32,
        bias_mode,
        bias_period,
        has_residual: g.residual.is_some() as u32,
        kind,
        act_a,
        act_b,
        _pad: 0,
        batch_dims: slots(&dims, 1),
        a_batch_strides: slots(&sa, 0),
        b_batch_strides: slots(&sb, 0),
    };
    let [staged, rows, wg_m, wg_n] = g.strategy.constants();
    let constants = [
        staged,
        rows,
        wg_m,
        wg_n,
        ("VEC_A", g.k.is_multiple_of(4) as u32 as f64),
        ("VEC_B", g.n.is_multiple_of(4) as u32 as f64),
    ];
    let mut wg = grid(rt, tiles as u32);
    wg[2] = batch.max(1) as u32;
    // Unused bias and residual bindings are filled with `a`, which is never read there.
    let tensors = [g.a, g.b, bias, g.residual.unwrap_or(g.a), g.c];
    let shader = match g.f16 {
        F16Operand::None => SHADER_F32,
        F16Operand::A => SHADER_F16A,
        F16Operand::B => SHADER_F16B,
    };
    rt.dispatch(shader, "matmul", &constants, &params, &tensors, wg)
}

/// `out = act(a x b + bias)`: `a` is `[..., M, K]`, `b` `[K, N]` or `[..., K, N]` with
/// batch dimensions broadcast against `a`'s, `bias` `[N]`, `out` `[..., M, N]`; the
/// [`strategy`] for these shapes.
pub fn matmul(
    rt: &Runtime,
    a: &Tensor,
    b: &Tensor,
    bias: Option<&Tensor>,
    act: Activation,
    out: &Tensor,
) -> Result<Dispatch> {
    let strategy = strategy(rt.profile(), a.shape(), b.shape())?;
    matmul_with(rt, strategy, a, b, bias, act, out)
}

/// [`matmul`] with the strategy chosen by the caller.
pub fn matmul_with(
    rt: &Runtime,
    strategy: Strategy,
    a: &Tensor,
    b: &Tensor,
    bias: Option<&Tensor>,
    act: Activation,
    out: &Tensor,
) -> Result<Dispatch> {
    matmul_any(rt, strategy, a, (b, b.shape(), false), bias, act, out)
}

/// [`matmul_with`] with `b` (the weights) stored as f16 and every product and sum in
/// f32: half the weight memory and bandwidth. Needs the adapter's `shader-f16` feature.
pub fn matmul_f16(
    rt: &Runtime,
    strategy: Strategy,
    a: &Tensor,
    b: &HalfTensor,
    bias: Option<&Tensor>,
    act: Activation,
    out: &Tensor,
) -> Result<Dispatch> {
    require_f16(rt, "matmul_f16")?;
    matmul_any(
        rt,
        strategy,
        a,
        (b.packed(), b.shape(), true),
        bias,
        act,
        out,
    )
}

/// `b`: its storage, its logical shape and whether it holds packed f16 values.
fn matmul_any(
    rt: &Runtime,
    strategy: Strategy,
    a: &Tensor,
    (b, sb, half_b): (&Tensor, &[usize], bool),
    bias: Option<&Tensor>,
    act: Activation,
    out: &Tensor,
) -> Result<Dispatch> {
    let sa = a.shape();
    let [m, k, n] = matrix_dims(sa, sb)?;
    let (a_batch, b_batch) = (&sa[..sa.len() - 2], &sb[..sb.len() - 2]);
    let batch = broadcast_shapes(a_batch, b_batch)?;
    let mut want = batch.clone();
    want.extend([m, n]);
    if out.shape() != want.as_slice() {
        return Err(Error::shape("matmul output", &want, out.shape()));
    }
    if let Some(t) = bias
        && t.shape() != [n]
    {
        return Err(Error::shape("matmul bias", [n], t.shape()));
    }
    let mut inputs = vec![a, b];
    inputs.extend(bias);
    super::distinct_output("matmul", &inputs, out)?;
    let scale = |s: Vec<usize>, by: usize| s.into_iter().map(|x| x * by).collect();
    gemm(
        rt,
        Gemm {
            a,
            b,
            bias: bias.map_or(GemmBias::None, GemmBias::Column),
            residual: None,
            c: out,
            m,
            n,
            k,
            a_strides: scale(broadcast_strides(a_batch, &batch), m * k),
            b_strides: scale(broadcast_strides(b_batch, &batch), k * n),
            batch_dims: batch,
            act,
            strategy,
            f16: if half_b {
                F16Operand::B
            } else {
                F16Operand::None
            },
        },
    )
    .map(|d| d.with_strategy("matmul", described(strategy, half_b)))
}

/// A GEMM strategy as dispatches record it, marked when the weights are f16.
pub(crate) fn described(strategy: impl std::fmt::Display, f16: bool) -> String {
    if f16 {
        format!("{strategy} f16")
    } else {
        strategy.to_string()
    }
}
