//! Depthwise convolution (one input channel per output channel). Each plane is first
//! copied, zero-padded, into a per-thread buffer with its columns split by phase
//! (`column % stride`), so that every tap of every output row reads one contiguous
//! run: `out[oy][..] += w * plane[oy * sh + ky * dh][phase][offset..][..OW]`, a
//! branch-free multiply-add LLVM vectorises, for any stride and dilation. Taps are
//! summed in the reference's order (`ky`, then `kx`; padding adds zeros), so results
//! match `cpu::conv2d` closely. Planes run in parallel.

use std::cell::RefCell;

use rayon::prelude::*;

use super::conv::Geometry;
use super::epilogue::finish;
use crate::ops::Activation;

/// Output elements below which a depthwise step stays on one thread.
const PARALLEL_OUTPUTS: usize = 1 << 14;

thread_local! {
    /// The padded, phase-split plane; kept per thread from run to run.
    static PLANE: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// One output plane's inputs: plane `i` (image * C + channel), its input plane `x` and
/// residual plane, and the padded layout.
#[derive(Clone, Copy)]
struct PlaneIn<'a> {
    i: usize,
    x: &'a [f32],
    residual: Option<&'a [f32]>,
    layout: &'a Layout,
}

pub(super) struct Depthwise {
    pub geometry: Geometry,
    /// `[C, KH * KW]`
    pub weights: Vec<f32>,
    pub bias: Option<Vec<f32>>,
    pub act: Activation,
}

/// The padded plane's layout: `rows` rows of `stride` phases of `width` columns,
/// then `wide` elements for [`Depthwise::wide_taps`].
struct Layout {
    rows: usize,
    stride: usize,
    width: usize,
    wide: usize,
}

impl Layout {
    fn plane(&self) -> usize {
        self.rows * self.stride * self.width
    }
}

impl Depthwise {
    /// Whether a convolution of this geometry is depthwise.
    pub fn fits(g: &Geometry) -> bool {
        g.params.groups == g.channels && g.out_channels == g.channels && g.channels > 1
    }

    fn layout(&self) -> Layout {
        let g = &self.geometry;
        let p = &g.params;
        let padded = g.width + p.padding[1] + p.padding[3];
        Layout {
            rows: g.height + p.padding[0] + p.padding[2],
            stride: p.stride[1],
            width: padded.div_ceil(p.stride[1]),
            wide: if p.stride == [1, 1] {
                g.out_height * padded
            } else {
                0
            },
        }
    }

    /// The step on `threads` threads, with the AVX2 copy of the loops if `avx2`.
    pub fn run(
        &self,
        (threads, avx2): (usize, bool),
        x: &[f32],
        residual: Option<&[f32]>,
        y: &mut [f32],
    ) {
        let g = &self.geometry;
        let (hw, ohw) = (g.height * g.width, g.out_height * g.out_width);
        let layout = self.layout();
        let plane = |i: usize, out: &mut [f32]| {
            let x = &x[i * hw..][..hw];
            let residual = residual.map(|r| &r[i * ohw..][..ohw]);
            let input = PlaneIn {
                i,
                x,
                residual,
                layout: &layout,
            };
            PLANE.with_borrow_mut(|padded| {
                #[cfg(target_arch = "x86_64")]
                if avx2 {
                    // SAFETY: `avx2` is set only where the CPU has AVX2 (`Simd::avx2`).
                    return unsafe { self.plane_avx2(input, padded, out) };
                }
                self.plane(input, padded, out)
            });
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

    /// [`Self::plane`] compiled for AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn plane_avx2(&self, input: PlaneIn<'_>, padded: &mut Vec<f32>, out: &mut [f32]) {
        self.plane(input, padded, out)
    }

    /// Output plane `i` (image * C + channel) from its input plane `x`.
    #[inline(always)]
    fn plane(&self, input: PlaneIn<'_>, padded: &mut Vec<f32>, out: &mut [f32]) {
        let PlaneIn {
            i,
            x,
            residual,
            layout,
        } = input;
        let channel = i % self.geometry.channels;
        self.pad(x, layout, padded);
        let (plane, wide) = padded.split_at_mut(layout.plane());
        if self.geometry.params.stride == [1, 1] {
            self.wide_taps(plane, wide, layout, channel, out);
        } else {
            self.taps(plane, layout, channel, out);
        }
        let bias = self.bias.as_ref().map_or(0.0, |b| b[channel]);
        finish(out, bias, residual, self.act);
    }

    /// `x` zero-padded into `padded`, padded column `c` at phase `c % stride`,
    /// position `c / stride`.
    #[inline(always)]
    fn pad(&self, x: &[f32], l: &Layout, padded: &mut Vec<f32>) {
        let g = &self.geometry;
        let [top, left] = [g.params.padding[0], g.params.padding[1]];
        padded.clear();
        padded.resize(l.plane() + l.wide, 0.0);
        for (iy, input) in x.chunks(g.width).enumerate() {
            let row = &mut padded[(iy + top) * l.stride * l.width..][..l.stride * l.width];
            if l.stride == 1 {
                row[left..left + g.width].copy_from_slice(input);
                continue;
            }
            // Padded column c = left + ix goes to phase c % stride, position c / stride:
            // each phase takes every stride-th input from its first column on.
            for phase in 0..l.stride {
                let first = (phase + l.stride - left % l.stride) % l.stride;
                let at = (left + first) / l.stride;
                let dst = &mut row[phase * l.width + at..(phase + 1) * l.width];
                for (d, &v) in dst
                    .iter_mut()
                    .zip(input.iter().skip(first).step_by(l.stride))
                {
                    *d = v;
                }
            }
        }
    }

    /// [`Self::taps`] for stride 1, where output `(oy, ox)` reads padded element
    /// `(oy + ky * dh) * W + ox + kx * dw`: computed for every padded column (`wide`,
    /// rows `W` long; the columns past the output's are never read), each tap is one
    /// long multiply-add over the whole plane instead of one per short output row.
    /// Then the output's columns are copied out.
    #[inline(always)]
    fn wide_taps(
        &self,
        plane: &[f32],
        wide: &mut [f32],
        l: &Layout,
        channel: usize,
        out: &mut [f32],
    ) {
        let g = &self.geometry;
        let p = &g.params;
        let [kh, kw] = g.kernel;
        let (ow, pw) = (g.out_width, l.width);
        let len = (g.out_height - 1) * pw + ow;
        let wide = &mut wide[..len];
        wide.fill(0.0);
        let taps = &self.weights[channel * kh * kw..][..kh * kw];
        for ky in 0..kh {
            for kx in 0..kw {
                let src = &plane[ky * p.dilation[0] * pw + kx * p.dilation[1]..][..len];
                let w = taps[ky * kw + kx];
                for (o, v) in wide.iter_mut().zip(src) {
                    *o += w * v;
                }
            }
        }
        for (oy, row) in out.chunks_mut(ow).enumerate() {
            row.copy_from_slice(&wide[oy * pw..][..ow]);
        }
    }

    /// One channel's taps summed into `out`, before the epilogue.
    #[inline(always)]
    fn taps(&self, padded: &[f32], l: &Layout, channel: usize, out: &mut [f32]) {
        let g = &self.geometry;
        let p = &g.params;
        let [kh, kw] = g.kernel;
        let ow = g.out_width;
        let taps = &self.weights[channel * kh * kw..][..kh * kw];
        for (oy, row) in out.chunks_mut(ow).enumerate() {
            row.fill(0.0);
            for ky in 0..kh {
                let iy = oy * p.stride[0] + ky * p.dilation[0];
                let input = &padded[iy * l.stride * l.width..][..l.stride * l.width];
                for kx in 0..kw {
                    let c = kx * p.dilation[1];
                    let src = &input[(c % l.stride) * l.width + c / l.stride..][..ow];
                    let w = taps[ky * kw + kx];
                    for (o, v) in row.iter_mut().zip(src) {
                        *o += w * v;
                    }
                }
            }
        }
    }
}
