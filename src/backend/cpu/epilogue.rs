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
        Activation::Sigmoid => apply(row, bias, residual, sigmoid),
        Activation::Silu => apply(row, bias, residual, |v| v * sigmoid(v)),
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

/// `1 / (1 + e^-x)` through [`exp`]: within a few 1e-7 of the reference's
/// `cpu::activation::sigmoid`, and branch-free so a row of them vectorises.
#[inline(always)]
pub(super) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `e^x` for `x` clamped to `[-87, 88]` (beyond, e^x is outside the normal f32
/// range): `2^n * e^r` with `n = round(x / ln 2)`, `|r| <= ln 2 / 2`, and `e^r` by
/// its Taylor series to `r^6` (relative error about 1e-7). Only adds, multiplies and
/// bit moves, no branches or calls, so LLVM vectorises loops over it.
#[inline(always)]
pub(super) fn exp(x: f32) -> f32 {
    // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let p = 1.0 / 720.0;
    let p = p * r + 1.0 / 120.0;
    let p = p * r + 1.0 / 24.0;
    let p = p * r + 1.0 / 6.0;
    let p = p * r + 0.5;
    let p = p * r + 1.0;
    let p = p * r + 1.0;
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::activation::sigmoid as reference_sigmoid;

    #[test]
    fn exp_and_sigmoid_stay_close_to_std() {
        // The clamped range; beyond it the result is the bound's.
        for i in -173_990..=175_990 {
            let x = i as f32 * 5e-4;
            let (got, want) = (exp(x), x.exp());
            assert!(
                (got - want).abs() <= 4e-7 * want,
                "exp({x}): {got} vs {want}"
            );
        }
        for i in -20_000..=20_000 {
            let x = i as f32 * 1e-2;
            let (got, want) = (sigmoid(x), reference_sigmoid(x));
            assert!((got - want).abs() <= 4e-7, "sigmoid({x}): {got} vs {want}");
        }
    }
}
