//! Depthwise convolution (one input channel per output channel): each output row
//! accumulates one tap at a time over its whole width, so with stride 1 every tap is
//! a contiguous multiply-add LLVM vectorises. Taps are summed in the reference's
//! order (`ky`, then `kx`), so the results match `cpu::conv2d` closely.
//! Planes run in parallel.

use rayon::prelude::*;

use super::conv::{Geometry, valid};
use super::epilogue::finish;
use crate::ops::Activation;

/// Output elements below which a depthwise step stays on one thread.
const PARALLEL_OUTPUTS: usize = 1 << 14;

pub(super) struct Depthwise {
    pub geometry: Geometry,
    /// `[C, KH * KW]`
    pub weights: Vec<f32>,
    pub bias: Option<Vec<f32>>,
    pub act: Activation,
}

impl Depthwise {
    /// Whether a convolution of this geometry is depthwise.
    pub fn fits(g: &Geometry) -> bool {
        g.params.groups == g.channels && g.out_channels == g.channels && g.channels > 1
    }

    pub fn run(&self, threads: usize, x: &[f32], residual: Option<&[f32]>, y: &mut [f32]) {
        let g = &self.geometry;
        let (hw, ohw) = (g.height * g.width, g.out_height * g.out_width);
        let plane = |i: usize, out: &mut [f32]| {
            let channel = i % g.channels;
            self.plane(&x[i * hw..][..hw], channel, out);
            let bias = self.bias.as_ref().map_or(0.0, |b| b[channel]);
            finish(out, bias, residual.map(|r| &r[i * ohw..]), self.act);
        };
        let y = &mut y[..g.batch * g.channels * ohw];
        if threads > 1 && y.len() >= PARALLEL_OUTPUTS {
            y.par_chunks_mut(ohw)
                .enumerate()
                .for_each(|(i, out)| plane(i, out));
        } else {
            for (i, out) in y.chunks_mut(ohw).enumerate() {
                plane(i, out);
            }
        }
    }

    /// One channel's taps summed into `out`, before the epilogue.
    fn plane(&self, x: &[f32], channel: usize, out: &mut [f32]) {
        let g = &self.geometry;
        let p = &g.params;
        let [kh, kw] = g.kernel;
        let taps = &self.weights[channel * kh * kw..][..kh * kw];
        let range = |kx: usize| {
            valid(
                g.out_width,
                g.width,
                p.stride[1],
                kx * p.dilation[1],
                p.padding[1],
            )
        };
        for (oy, row) in out.chunks_mut(g.out_width).enumerate() {
            row.fill(0.0);
            for ky in 0..kh {
                let iy = (oy * p.stride[0] + ky * p.dilation[0]) as isize - p.padding[0] as isize;
                if iy < 0 || iy >= g.height as isize {
                    continue;
                }
                let input = &x[iy as usize * g.width..][..g.width];
                for kx in 0..kw {
                    let (lo, hi) = range(kx);
                    if lo >= hi {
                        continue;
                    }
                    let wv = taps[ky * kw + kx];
                    let first = lo * p.stride[1] + kx * p.dilation[1] - p.padding[1];
                    if p.stride[1] == 1 {
                        let input = &input[first..first + (hi - lo)];
                        for (o, i) in row[lo..hi].iter_mut().zip(input) {
                            *o += wv * i;
                        }
                    } else {
                        let input = input[first..].iter().step_by(p.stride[1]);
                        for (o, i) in row[lo..hi].iter_mut().zip(input) {
                            *o += wv * i;
                        }
                    }
                }
            }
        }
    }
}
