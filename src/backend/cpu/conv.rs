//! Convolution as matrix product, per image and group:
//! `y[Co_g, OH*OW] = W[Co_g, Ci_g*KH*KW] x cols[Ci_g*KH*KW, OH*OW]`. A 1x1 convolution
//! with stride 1 and no padding multiplies the NCHW input itself; any other one first
//! lays its input out as `cols` (im2col) in the session's scratch buffer. Bias,
//! residual and activation are applied to each output tile as it is computed.
//! Reference twin: `cpu::conv2d`.

use rayon::prelude::*;

use super::epilogue::finish;
use super::gemm::{Matrix, product};
use crate::ops::{Activation, Conv2dParams};

/// Rows of `cols` below which im2col stays on one thread.
const PARALLEL_ROWS: usize = 32;

/// The sizes of one convolution step, fixed by its plan.
#[derive(Clone, Debug)]
pub(super) struct Geometry {
    pub batch: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub out_channels: usize,
    pub out_height: usize,
    pub out_width: usize,
    pub kernel: [usize; 2],
    pub params: Conv2dParams,
}

impl Geometry {
    /// From the input `[N, Ci, H, W]`, weight `[Co, Ci/g, KH, KW]` and output shapes.
    pub fn new(x: &[usize], w: &[usize], y: &[usize], params: &Conv2dParams) -> Geometry {
        Geometry {
            batch: x[0],
            channels: x[1],
            height: x[2],
            width: x[3],
            out_channels: y[1],
            out_height: y[2],
            out_width: y[3],
            kernel: [w[2], w[3]],
            params: *params,
        }
    }

    fn group_channels(&self) -> usize {
        self.channels / self.params.groups
    }

    /// Rows of the product's right-hand side (`Ci_g * KH * KW`).
    fn depth(&self) -> usize {
        self.group_channels() * self.kernel[0] * self.kernel[1]
    }

    /// A 1x1 convolution that reads its input as it is.
    fn pointwise(&self) -> bool {
        let p = &self.params;
        self.kernel == [1, 1] && p.stride == [1, 1] && p.padding == [0; 4]
    }

    /// Scratch elements the im2col buffer needs.
    pub fn scratch(&self) -> usize {
        if self.pointwise() {
            0
        } else {
            self.depth() * self.out_height * self.out_width
        }
    }
}

/// A convolution with its weights and bias copied out of the plan at prepare time,
/// each group's weights one row-major `[Co_g, Ci_g*KH*KW]` matrix.
pub(super) struct GemmConv {
    pub geometry: Geometry,
    pub weights: Vec<f32>,
    pub bias: Option<Vec<f32>>,
    pub act: Activation,
}

impl GemmConv {
    pub fn run(
        &self,
        threads: usize,
        x: &[f32],
        residual: Option<&[f32]>,
        y: &mut [f32],
        scratch: &mut [f32],
    ) {
        let g = &self.geometry;
        let (hw, ohw) = (g.height * g.width, g.out_height * g.out_width);
        let (cg, mg, depth) = (
            g.group_channels(),
            g.out_channels / g.params.groups,
            g.depth(),
        );
        for image in 0..g.batch {
            let x = &x[image * g.channels * hw..][..g.channels * hw];
            let y = &mut y[image * g.out_channels * ohw..][..g.out_channels * ohw];
            let residual = residual.map(|r| &r[image * g.out_channels * ohw..]);
            for group in 0..g.params.groups {
                let input = &x[group * cg * hw..][..cg * hw];
                let cols: &[f32] = if g.pointwise() {
                    input
                } else {
                    let cols = &mut scratch[..depth * ohw];
                    im2col(g, input, cols, threads);
                    cols
                };
                let first = group * mg;
                product(
                    threads,
                    (mg, ohw, depth),
                    Matrix {
                        data: &self.weights[first * depth..][..mg * depth],
                        stride: depth,
                    },
                    Matrix {
                        data: cols,
                        stride: ohw,
                    },
                    &mut y[first * ohw..][..mg * ohw],
                    |row, col, out| {
                        let channel = first + row;
                        let bias = self.bias.as_ref().map_or(0.0, |b| b[channel]);
                        let residual = residual.map(|r| &r[channel * ohw + col..]);
                        finish(out, bias, residual, self.act);
                    },
                );
            }
        }
    }
}

/// `cols[(c * KH + ky) * KW + kx][oy * OW + ox]` = the input under tap `(ky, kx)` of
/// output `(oy, ox)` in channel `c`, 0 in the padding.
fn im2col(g: &Geometry, x: &[f32], cols: &mut [f32], threads: usize) {
    let [kh, kw] = g.kernel;
    let (ohw, hw) = (g.out_height * g.out_width, g.height * g.width);
    let row = |r: usize, out: &mut [f32]| {
        let (c, ky, kx) = (r / (kh * kw), r / kw % kh, r % kw);
        fill_row(g, &x[c * hw..][..hw], [ky, kx], out);
    };
    if threads > 1 && cols.len() / ohw >= PARALLEL_ROWS {
        cols.par_chunks_mut(ohw)
            .enumerate()
            .for_each(|(r, out)| row(r, out));
    } else {
        for (r, out) in cols.chunks_mut(ohw).enumerate() {
            row(r, out);
        }
    }
}

/// One im2col row: tap `(ky, kx)` of one input plane over every output position.
fn fill_row(g: &Geometry, plane: &[f32], [ky, kx]: [usize; 2], out: &mut [f32]) {
    let p = &g.params;
    let ow = g.out_width;
    let (lo, hi) = valid(ow, g.width, p.stride[1], kx * p.dilation[1], p.padding[1]);
    for (oy, out) in out.chunks_mut(ow).enumerate() {
        let iy = (oy * p.stride[0] + ky * p.dilation[0]) as isize - p.padding[0] as isize;
        if iy < 0 || iy >= g.height as isize || lo >= hi {
            out.fill(0.0);
            continue;
        }
        let input = &plane[iy as usize * g.width..][..g.width];
        out[..lo].fill(0.0);
        out[hi..].fill(0.0);
        // ix = ox * stride + tap - pad, in bounds for ox in lo..hi.
        let first = lo * p.stride[1] + kx * p.dilation[1] - p.padding[1];
        if p.stride[1] == 1 {
            out[lo..hi].copy_from_slice(&input[first..first + (hi - lo)]);
        } else {
            for (o, ix) in out[lo..hi].iter_mut().zip((first..).step_by(p.stride[1])) {
                *o = input[ix];
            }
        }
    }
}

/// The outputs `lo..hi` along one axis whose input `o * stride + tap - pad` lies in
/// `0..len` (`lo >= hi` when none does).
pub(super) fn valid(
    outputs: usize,
    len: usize,
    stride: usize,
    tap: usize,
    pad: usize,
) -> (usize, usize) {
    // o * stride + tap >= pad  <=>  o >= ceil((pad - tap) / stride)
    let lo = pad.saturating_sub(tap).div_ceil(stride);
    // o * stride + tap < len + pad  <=>  o < ceil((len + pad - tap) / stride)
    let hi = (len + pad)
        .saturating_sub(tap)
        .div_ceil(stride)
        .min(outputs);
    (lo.min(hi), hi)
}
