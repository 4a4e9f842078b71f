//! LayerNormalization: each row of the trailing dimensions from `axis` on is
//! normalised to zero mean and unit variance, then scaled and shifted (GPU:
//! `kernels::layer_norm`; CPU twin `cpu::layer_norm`).

use super::Op;
use super::infer::{InferResult, Inferred, Inputs, Output, unsupported};
use crate::error::{Error, Result};
use crate::tensor::DType;

/// `(rows, row length)` of `shape` normalised from `axis` on.
pub fn rows(shape: &[usize], axis: usize) -> (usize, usize) {
    (
        shape[..axis].iter().product(),
        shape[axis..].iter().product(),
    )
}

/// Checks that a scale or bias of `shape` holds `n` values or one.
pub fn check_param(n: usize, shape: &[usize]) -> Result<()> {
    let len: usize = shape.iter().product();
    if len != 1 && len != n {
        return Err(Error::shape("layer_norm parameter", [n], shape));
    }
    Ok(())
}

/// `[x, scale, bias?]` with `axis` possibly negative; scale and bias hold one value
/// per element of a row (shaped like the trailing dimensions, leading 1s allowed)
/// or a single one. Outputs: `y`, and with `outputs` 2 or 3 each row's mean and
/// inverse standard deviation, shaped like `x` with the normalised dimensions 1.
pub fn infer(axis: i64, epsilon: f32, outputs: usize, x: &Inputs) -> InferResult<Inferred> {
    x.floats_only()?;
    let xs = x.shape(0)?.to_vec();
    let a = x.axis(axis, xs.len())?;
    for i in [1, 2] {
        let Some(p) = x.get(i) else {
            if i == 1 {
                return Err(x.bad("the scale input is missing"));
            }
            continue;
        };
        let len: usize = p.shape.iter().product();
        let strip = |s: &[usize]| {
            s.iter()
                .skip_while(|&&d| d == 1)
                .copied()
                .collect::<Vec<_>>()
        };
        let trailing = strip(p.shape) == strip(&xs[a..]);
        if !(trailing || len == 1) {
            unsupported!(
                "parameter {i} of shape {:?} does not match the normalised shape {:?}",
                p.shape,
                &xs[a..]
            );
        }
    }
    if !(1..=3).contains(&outputs) {
        return Err(x.bad(format!("{outputs} outputs, expected 1 to 3")));
    }
    let mut stats = xs.clone();
    stats[a..].fill(1);
    let shapes = std::iter::once(xs).chain(std::iter::repeat(stats));
    Ok(Inferred {
        op: Op::LayerNorm { axis: a, epsilon },
        outputs: shapes
            .take(outputs)
            .map(|shape| Output {
                shape,
                dtype: DType::F32,
            })
            .collect(),
        constant: false,
    })
}
