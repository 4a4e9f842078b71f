//! `y = act(conv2d(x, w) + bias + residual)` on NCHW tensors (`shaders/conv2d.wgsl`,
//! 1x1 convolutions through `shaders/matmul.wgsl`; CPU twin `crate::cpu::conv2d`).

use std::fmt;

use super::matmul::{self, F16Operand, Gemm, GemmBias, Staging, gemm, require_f16};
use super::{Dispatch, Shader, activation, grid, groups, shader, uniform};
use crate::device::{AdapterProfile, Runtime};
use crate::device::{HalfTensor, Tensor};
use crate::error::{Error, Result};
use crate::ops::{Activation, Conv2dParams};

/// How a convolution is computed. [`conv2d`] takes the [`strategy`] for the shapes;
/// [`conv2d_with`] forces one, for tests and benchmarks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// 1x1 kernel, stride 1, no padding: a batched GEMM `W[Co,Ci] x X[n][Ci,H*W]`.
    Gemm1x1(Staging),
    /// Any convolution: a GEMM that gathers input windows on the fly.
    ImplicitGemm(Staging),
    /// One input channel per group (depthwise, any channel multiplier).
    Depthwise,
}

impl fmt::Display for Strategy {
    /// `implicit-gemm staged`: the algorithm and, for the GEMMs, the staging.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Gemm1x1(s) => write!(f, "gemm-1x1 {s}"),
            Strategy::ImplicitGemm(s) => write!(f, "implicit-gemm {s}"),
            Strategy::Depthwise => f.write_str("depthwise"),
        }
    }
}

/// The strategy [`conv2d`] takes for input `x`, weights `w` and `p` on `profile`'s
/// adapter; fails if the shapes do not make a convolution.
pub fn strategy(
    profile: &AdapterProfile,
    x: &[usize],
    w: &[usize],
    p: &Conv2dParams,
) -> Result<Strategy> {
    p.output_shape(x, w)?;
    let (co, cg, kh, kw) = (w[0], w[1], w[2], w[3]);
    let staging = matmul::staging(profile);
    Ok(if cg == 1 && p.groups > 1 && co / p.groups <= 4 {
        // A GEMM would run M <= 4 rows and K = KH*KW: mostly padding.
        Strategy::Depthwise
    } else if fits_gemm_1x1(kh, kw, p) && x[2] * x[3] >= 16 {
        // Smaller images run better as one GEMM over all of the batch (N = batch * H * W).
        Strategy::Gemm1x1(staging)
    } else {
        Strategy::ImplicitGemm(staging)
    })
}

/// The GEMM (staging and tile) that `strategy` runs for these shapes; `None` for the
/// depthwise kernel. Fails if the shapes do not make a convolution or no tile fits.
pub fn gemm_strategy(
    profile: &AdapterProfile,
    strategy: Strategy,
    x: &[usize],
    w: &[usize],
    p: &Conv2dParams,
) -> Result<Option<matmul::Strategy>> {
    let out = p.output_shape(x, w)?;
    let rows = out[1] / p.groups;
    Ok(match strategy {
        Strategy::Gemm1x1(s) => Some(matmul::Strategy::with_staging(
            profile,
            s,
            rows,
            x[2] * x[3],
        )?),
        // 16 bytes per tile column: the shader's table of window positions.
        Strategy::ImplicitGemm(s) => Some(matmul::Strategy::tiled(
            profile,
            s,
            rows,
            out[0] * out[2] * out[3],
            16,
        )?),
        Strategy::Depthwise => None,
    })
}

fn fits_gemm_1x1(kh: usize, kw: usize, p: &Conv2dParams) -> bool {
    kh == 1 && kw == 1 && p.stride == [1, 1] && p.padding == [0; 4]
}

/// f32 weights, and f16 weights (half the memory; the sums stay f32).
pub const SHADER_F32: Shader = shader!(
    "conv2d",
    [
        "shared/conv2d_f32",
        "shared/grid",
        "shared/activation",
        "shared/gemm_tile",
        "conv2d"
    ]
);
pub const SHADER_F16: Shader = shader!(
    "conv2d_f16",
    [
        "shared/conv2d_f16",
        "shared/grid",
        "shared/activation",
        "shared/gemm_tile",
        "conv2d"
    ]
);

uniform! {
    struct Params {
        batch: u32,
        ci: u32,
        h: u32,
        w: u32,
        co: u32,
        oh: u32,
        ow: u32,
        groups: u32,
        stride_h: u32,
        stride_w: u32,
        pad_top: u32,
        pad_left: u32,
        dil_h: u32,
        dil_w: u32,
        has_bias: u32,
        has_residual: u32,
        kind: u32,
        act_a: f32,
        act_b: f32,
        tiles_m: u32,
        tiles: u32,
        _pad: [u32; 3],
    }
}

/// Invocations per workgroup of `conv2d_depthwise`: `DW_GROUP` in the shader.
pub(super) const DEPTHWISE_WORKGROUP: usize = 64;

/// `y = act(conv2d(x, w) + bias + residual)`; `bias` is `[Co]`, `residual` and `y`
/// are `[N, Co, OH, OW]`.
#[allow(clippy::too_many_arguments)]
pub fn conv2d(
    rt: &Runtime,
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    residual: Option<&Tensor>,
    p: &Conv2dParams,
    act: Activation,
    y: &Tensor,
) -> Result<Dispatch> {
    let strategy = strategy(rt.profile(), x.shape(), w.shape(), p)?;
    conv2d_with(rt, strategy, x, w, bias, residual, p, act, y)
}

/// [`conv2d`] with the strategy chosen by the caller; fails if it does not apply.
#[allow(clippy::too_many_arguments)]
pub fn conv2d_with(
    rt: &Runtime,
    strategy: Strategy,
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    residual: Option<&Tensor>,
    p: &Conv2dParams,
    act: Activation,
    y: &Tensor,
) -> Result<Dispatch> {
    conv2d_any(
        rt,
        strategy,
        x,
        (w, w.shape(), false),
        bias,
        residual,
        p,
        act,
        y,
    )
}

/// [`conv2d_with`] with the weights stored as f16 and every product and sum in f32:
/// half the weight memory and bandwidth. Needs the adapter's `shader-f16` feature.
#[allow(clippy::too_many_arguments)]
pub fn conv2d_f16(
    rt: &Runtime,
    strategy: Strategy,
    x: &Tensor,
    w: &HalfTensor,
    bias: Option<&Tensor>,
    residual: Option<&Tensor>,
    p: &Conv2dParams,
    act: Activation,
    y: &Tensor,
) -> Result<Dispatch> {
    require_f16(rt, "conv2d_f16")?;
    conv2d_any(
        rt,
        strategy,
        x,
        (w.packed(), w.shape(), true),
        bias,
        residual,
        p,
        act,
        y,
    )
}

/// `w`: its storage, its logical shape and whether it holds packed f16 values.
#[allow(clippy::too_many_arguments)]
fn conv2d_any(
    rt: &Runtime,
    strategy: Strategy,
    x: &Tensor,
    (w, ws, half): (&Tensor, &[usize], bool),
    bias: Option<&Tensor>,
    residual: Option<&Tensor>,
    p: &Conv2dParams,
    act: Activation,
    y: &Tensor,
) -> Result<Dispatch> {
    let out = p.output_shape(x.shape(), ws)?;
    if y.shape() != out.as_slice() {
        return Err(Error::shape("conv2d output", &out, y.shape()));
    }
    let co = out[1];
    if let Some(b) = bias
        && b.shape() != [co]
    {
        return Err(Error::shape("conv2d bias", [co], b.shape()));
    }
    if let Some(r) = residual
        && r.shape() != out.as_slice()
    {
        return Err(Error::shape("conv2d residual", &out, r.shape()));
    }
    let mut inputs = vec![x, w];
    inputs.extend(bias);
    inputs.extend(residual);
    super::distinct_output("conv2d", &inputs, y)?;

    let xs = x.shape();
    let [batch, ci, h, wd] = [xs[0], xs[1], xs[2], xs[3]];
    let [cg, kh, kw] = [ws[1], ws[2], ws[3]];
    let (g, mg) = (p.groups, co / p.groups);
    let max_z = rt.limits().max_compute_workgroups_per_dimension as usize;
    match strategy {
        Strategy::Gemm1x1(_) if !fits_gemm_1x1(kh, kw, p) => {
            return Err(Error::invalid(
                "conv2d",
                "the 1x1 GEMM needs a 1x1 kernel, stride 1 and no padding",
            ));
        }
        Strategy::Depthwise if cg != 1 => {
            return Err(Error::invalid(
                "conv2d",
                format!("the depthwise kernel needs one input channel per group, not {cg}"),
            ));
        }
        Strategy::ImplicitGemm(_) if g > max_z => {
            return Err(Error::invalid(
                "conv2d",
                format!(
                    "{g} groups are over the device's limit of {max_z} workgroups along z (max_compute_workgroups_per_dimension)"
                ),
            ));
        }
        _ => {}
    }
    let tiled = gemm_strategy(rt.profile(), strategy, xs, ws, p)?;
    let what = match tiled {
        Some(gemm) => format!("{strategy} {}", gemm.tile),
        None => strategy.to_string(),
    };
    let described = |d: Dispatch| d.with_strategy("conv2d", matmul::described(&what, half));
    if let (Strategy::Gemm1x1(_), Some(tiled)) = (strategy, tiled) {
        // Batch over (image, group): W's group block times the group's channels.
        let hw = h * wd;
        return gemm(
            rt,
            Gemm {
                a: w,
                b: x,
                bias: bias.map_or(GemmBias::None, GemmBias::Row),
                residual,
                c: y,
                m: mg,
                n: hw,
                k: cg,
                batch_dims: vec![batch, g],
                a_strides: vec![0, mg * cg],
                b_strides: vec![ci * hw, cg * hw],
                act,
                strategy: tiled,
                f16: if half {
                    F16Operand::A
                } else {
                    F16Operand::None
                },
            },
        )
        .map(described);
    }

    let (kind, act_a, act_b) = activation::code(act);
    let mut params = Params {
        batch: batch as u32,
        ci: ci as u32,
        h: h as u32,
        w: wd as u32,
        co: co as u32,
        oh: out[2] as u32,
        ow: out[3] as u32,
        groups: g as u32,
        stride_h: p.stride[0] as u32,
        stride_w: p.stride[1] as u32,
        pad_top: p.padding[0] as u32,
        pad_left: p.padding[1] as u32,
        dil_h: p.dilation[0] as u32,
        dil_w: p.dilation[1] as u32,
        has_bias: bias.is_some() as u32,
        has_residual: residual.is_some() as u32,
        kind,
        act_a,
        act_b,
        tiles_m: 0,
        tiles: 0,
        _pad: [0; 3],
    };
    // Unused bias and residual bindings are filled with `x`, which is never read there.
    let tensors = [x, w, bias.unwrap_or(x), residual.unwrap_or(x), y];
    let kernel = [("KH", kh as f64), ("KW", kw as f64)];
    let shader = if half { SHADER_F16 } else { SHADER_F32 };
    let Some(tiled) = tiled else {
        let items = batch * co * out[2] * out[3].div_ceil(4);
        let wg = grid(rt, groups(items, DEPTHWISE_WORKGROUP));
        return rt
            .dispatch(shader, "conv2d_depthwise", &kernel, &params, &tensors, wg)
            .map(described);
    };
    let n = batch * out[2] * out[3];
    let k = cg * kh * kw;
    let (tiles_m, tiles) = tiled.tile.workgroups(mg, n);
    params.tiles_m = tiles_m as u32;
    params.tiles = tiles as u32;
    let [staged, rows, wg_m, wg_n] = tiled.constants();
    let constants = [
        staged,
        rows,
        wg_m,
        wg_n,
        kernel[0],
        kernel[1],
        ("VEC_A", k.is_multiple_of(4) as u32 as f64),
    ];
    let mut wg = grid(rt, params.tiles);
    wg[2] = g as u32;
    rt.dispatch(shader, "conv2d_igemm", &constants, &params, &tensors, wg)
        .map(described)
}
