//! `out = act(a x b + bias)`, batched with broadcast batch dimensions
//! (`shaders/matmul.wgsl`; CPU twin `crate::cpu::matmul`). The same batched GEMM runs
//! 1x1 convolutions (see [`gemm`]).

use super::{Activation, Dispatch, grid, shader};
use crate::device::Runtime;
use crate::error::{Error, Result};
use crate::tensor::{Tensor, broadcast_shapes, broadcast_strides};

/// Batch dimensions the shader indexes; more are merged where strides allow.
const MAX_BATCH_DIMS: usize = 4;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
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
    pad: u32,
    batch_dims: [u32; 4],
    a_batch_strides: [u32; 4],
    b_batch_strides: [u32; 4],
}

/// Tile shapes as (WG_M, WG_N), invocations along M and N; each invocation computes
/// 4 x 4 outputs, so a tile is 4 WG_M x 4 WG_N. 64 x 64 first: it wins ties.
const TILE_SHAPES: [(u32, u32); 5] = [(16, 16), (8, 32), (32, 8), (4, 32), (1, 64)];

/// The tile shape that wastes least work on an `m` x `n` output: a conv with 16
/// output channels gets 16-row tiles, a fully connected layer with M = 1 4-row ones.
pub(crate) fn tile_shape(m: usize, n: usize) -> (u32, u32) {
    let padded = |(wm, wn): (u32, u32)| {
        let (bm, bn) = (4 * wm as usize, 4 * wn as usize);
        m.div_ceil(bm) * bm * n.div_ceil(bn) * bn
    };
    TILE_SHAPES
        .into_iter()
        .min_by_key(|&s| padded(s))
        .expect("TILE_SHAPES is not empty")
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
            format!("a batch of {batch} matrices is over this adapter's limit of {max_z}"),
        ));
    }
    let (wg_m, wg_n) = tile_shape(g.m, g.n);
    let tiles_m = g.m.div_ceil(4 * wg_m as usize);
    // An empty batch still dispatches one workgroup: give it no tile to work on.
    let tiles = if batch == 0 {
        0
    } else {
        tiles_m * g.n.div_ceil(4 * wg_n as usize)
    };
    let (kind, act_a, act_b) = g.act.code();
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
        pad: 0,
        batch_dims: slots(&dims, 1),
        a_batch_strides: slots(&sa, 0),
        b_batch_strides: slots(&sb, 0),
    };
    let constants = [
        ("WG_M", wg_m as f64),
        ("WG_N", wg_n as f64),
        ("VEC_A", g.k.is_multiple_of(4) as u32 as f64),
        ("VEC_B", g.n.is_multiple_of(4) as u32 as f64),
    ];
    let mut wg = grid(rt, tiles as u32);
    wg[2] = batch.max(1) as u32;
    // Unused bias and residual bindings are filled with `a`, which is never read there.
    let tensors = [g.a, g.b, bias, g.residual.unwrap_or(g.a), g.c];
    rt.dispatch(
        shader!("matmul"),
        "matmul",
        &constants,
        &params,
        &tensors,
        wg,
    )
}

/// Fails when `out` shares storage with one of `inputs`: a kernel cannot read and write
/// one buffer in a dispatch.
pub(crate) fn check_no_alias(op: &str, out: &Tensor, inputs: &[&Tensor]) -> Result<()> {
    if inputs.iter().any(|t| t.buffer() == out.buffer()) {
        return Err(Error::invalid(
            op,
            "the output must not share storage with an input",
        ));
    }
    Ok(())
}

pub fn matmul(
    rt: &Runtime,
    a: &Tensor,
    b: &Tensor,
    bias: Option<&Tensor>,
    act: Activation,
    out: &Tensor,
) -> Result<Dispatch> {
    let (sa, sb) = (a.shape(), b.shape());
    if sa.len() < 2 || sb.len() < 2 {
        return Err(Error::invalid(
            "matmul",
            format!("operands need rank >= 2, got {sa:?} x {sb:?}"),
        ));
    }
    let (m, k) = (sa[sa.len() - 2], sa[sa.len() - 1]);
    let (kb, n) = (sb[sb.len() - 2], sb[sb.len() - 1]);
    if k != kb {
        return Err(Error::shape("matmul inner dimension", [m, k], [kb, n]));
    }
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
    check_no_alias("matmul", out, &inputs)?;
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
        },
    )
}
