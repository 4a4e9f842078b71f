//! The SE block in one step: squeeze every plane, excite (FC -> hidden activation ->
//! FC -> gate) each image's vector, and scale the planes by their gates with the
//! residual and activation fused. Planes run in parallel. Reference twins:
//! `cpu::squeeze`, `cpu::excite`, `cpu::scale`.

use rayon::prelude::*;

use super::epilogue::{dot, finish, sum};
use crate::cpu::activation::activate;
use crate::ops::{Activation, SqueezeMode};

/// Elements below which a pass over the block's input stays on one thread.
const PARALLEL_ELEMENTS: usize = 1 << 14;

/// The operands of one SE block step, as slices.
pub(super) struct SeData<'a> {
    pub x: &'a [f32],
    pub w1: &'a [f32],
    pub b1: &'a [f32],
    pub w2: &'a [f32],
    pub b2: &'a [f32],
    pub residual: Option<&'a [f32]>,
}

/// What the step computes: `[N, C]` squeezed and gated vectors, `[N, C, H, W]` output.
pub(super) struct SeOut<'a> {
    pub squeezed: &'a mut [f32],
    pub excitation: &'a mut [f32],
    pub y: &'a mut [f32],
}

pub(super) struct SeParams {
    pub channels: usize,
    pub plane: usize,
    pub pooling: SqueezeMode,
    pub hidden: Activation,
    pub gate: Activation,
    pub act: Activation,
}

pub(super) fn se_block(threads: usize, p: &SeParams, d: &SeData, out: SeOut) {
    let (c, hw) = (p.channels, p.plane);
    let parallel = threads > 1 && d.x.len() >= PARALLEL_ELEMENTS;
    let pool = |(plane, s): (usize, &mut f32)| {
        let x = &d.x[plane * hw..][..hw];
        *s = match p.pooling {
            SqueezeMode::Avg => sum(x) / hw as f32,
            SqueezeMode::Max => x.iter().copied().fold(x[0], f32::max),
        };
    };
    if parallel {
        out.squeezed.par_iter_mut().enumerate().for_each(pool);
    } else {
        out.squeezed.iter_mut().enumerate().for_each(pool);
    }
    let hidden_len = d.b1.len();
    let mut hidden = [0.0f32; 256];
    for (s, e) in out.squeezed.chunks(c).zip(out.excitation.chunks_mut(c)) {
        excite(p, d, s, e, &mut hidden, hidden_len);
    }
    let excitation = &*out.excitation;
    let scale = |(plane, y): (usize, &mut [f32])| {
        let x = &d.x[plane * hw..][..hw];
        let g = excitation[plane];
        for (y, x) in y.iter_mut().zip(x) {
            *y = x * g;
        }
        finish(y, 0.0, d.residual.map(|r| &r[plane * hw..]), p.act);
    };
    let y = &mut out.y[..d.x.len()];
    if parallel {
        y.par_chunks_mut(hw).enumerate().for_each(scale);
    } else {
        y.chunks_mut(hw).enumerate().for_each(scale);
    }
}

/// One image's gates from its squeezed vector `s`; the hidden layer in `stack` when
/// it fits (SE blocks reduce to a few dozen channels), else on the heap.
fn excite(p: &SeParams, d: &SeData, s: &[f32], e: &mut [f32], stack: &mut [f32], r: usize) {
    let mut heap = Vec::new();
    let hidden: &mut [f32] = if r <= stack.len() {
        &mut stack[..r]
    } else {
        heap.resize(r, 0.0);
        &mut heap
    };
    let c = p.channels;
    for (j, h) in hidden.iter_mut().enumerate() {
        *h = activate(dot(&d.w1[j * c..][..c], s) + d.b1[j], p.hidden);
    }
    for (ch, e) in e.iter_mut().enumerate() {
        *e = activate(d.b2[ch] + dot(&d.w2[ch * r..][..r], hidden), p.gate);
    }
}
