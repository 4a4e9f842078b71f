//! What every engine kernel ends with: bias, residual and activation applied to a row
//! of outputs in one pass, with the activation chosen once per row so the loop over
//! the row is branch-free and LLVM vectorises it. The sums are the reference's, in
//! its order (`(acc + bias) + residual`, then the activation).

use crate::cpu::activation::activate;
use crate::ops::Activation;

/// `row[i] = act(row[i] + bias + residual[i])`. Inlined, so callers compiled for
/// wider vectors get it compiled so too.
#[inline(always)]
pub(super) fn finish(row: &mut [f32], bias: f32, residual: Option<&[f32]>, act: Activation) {
    match act {
        Activation::Identity => apply(row, bias, residual, |v| v),
        Activation::Relu => apply(row, bias, residual, |v| v.max(0.0)),
        Activation::Clip { min, max } => apply(row, bias, residual, move |v| v.max(min).min(max)),
        Activation::HardSwish => {
            apply(row, bias, residual, |v| v * (v / 6.0 + 0.5).clamp(0.0, 1.0))
        }
        other => apply(row, bias, residual, move |v| activate(v, other)),
    }
}

#[inline(always)]
fn apply(row: &mut [f32], bias: f32, residual: Option<&[f32]>, f: impl Fn(f32) -> f32) {
    match residual {
        Some(r) => {
            let r = &r[..row.len()];
            for (v, r) in row.iter_mut().zip(r) {
                *v = f(*v + bias + *r);
            }
        }
        None => {
            for v in row.iter_mut() {
                *v = f(*v + bias);
            }
        }
    }
}

/// `a . b` in eight lanes (so it vectorises), then the lanes summed.
pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for ((l, x), y) in lanes.iter_mut().zip(x).zip(y) {
            *l += x * y;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// The sum of `x` in eight lanes, like [`dot`].
pub(super) fn sum(x: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let chunks = x.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for (l, x) in lanes.iter_mut().zip(c) {
            *l += x;
        }
    }
    lanes.iter().sum::<f32>() + tail
}
