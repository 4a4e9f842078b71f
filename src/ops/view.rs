//! Reshape-like ops (Flatten, Reshape, Squeeze, Unsqueeze, and any op that turns out
//! to move no data): canonical `View`, the input's data seen with another shape, so
//! no kernel runs and the plan gives the output its input's buffer. Identity and
//! Dropout are here too; the `identity` pass removes them.

use super::Op;
use super::infer::{InferResult, Inferred, Inputs};
use crate::tensor::Const;

/// A reshape-like op with output `shape`: canonical `View`, a constant when its
/// input is one.
pub fn view(x: &Inputs, shape: Vec<usize>) -> InferResult<Inferred> {
    let input = x.input(0)?;
    if let Some(k) = input.value {
        return Inferred::constant(Op::View, shape, k.dtype());
    }
    x.data_f32()?;
    Inferred::tensor(Op::View, shape)
}

/// Identity / Dropout at inference: a constant when its input is one.
pub fn infer_identity(x: &Inputs) -> InferResult<Inferred> {
    let input = x.input(0)?;
    let shape = input.shape.to_vec();
    if let Some(k) = input.value {
        return Inferred::constant(Op::Identity, shape, k.dtype());
    }
    x.floats_only()?;
    Inferred::tensor(Op::Identity, shape)
}

pub fn infer_flatten(axis: i64, x: &Inputs) -> InferResult<Inferred> {
    let xs = x.shape(0)?;
    let r = xs.len() as i64;
    // Unlike other axes, `r` itself is allowed (an `[N, 1]` result).
    if axis < -r || axis > r {
        return Err(x.bad(format!("axis {axis} is out of range for rank {r}")));
    }
    let a = if axis < 0 { axis + r } else { axis } as usize;
    view(x, vec![xs[..a].iter().product(), xs[a..].iter().product()])
}

/// Reshape `[x, shape]` with a constant target (`0` copies a dimension unless
/// `allowzero`, one `-1` is inferred).
pub fn infer_reshape(allowzero: bool, x: &Inputs) -> InferResult<Inferred> {
    let xs = x.shape(0)?;
    let Some(target) = x.const_input(1, "the target shape")? else {
        return Err(x.bad("the shape input is missing"));
    };
    let target = target.to_i64s();
    let cannot = || x.bad(format!("cannot reshape {xs:?} to {target:?}"));
    let mut shape = Vec::with_capacity(target.len());
    let mut infer_at = None;
    for (i, &t) in target.iter().enumerate() {
        match t {
            0 if !allowzero => shape.push(*xs.get(i).ok_or_else(|| {
                x.bad(format!("0 at position {i} has no input dimension to copy"))
            })?),
            -1 if infer_at.is_none() => {
                infer_at = Some(i);
                shape.push(1);
            }
            t if t >= 0 => shape.push(t as usize),
            _ => return Err(x.bad(format!("invalid target shape {target:?}"))),
        }
    }
    let total: usize = xs.iter().product();
    // The target is data from the file: its product may overflow.
    let Some(known) = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) else {
        return Err(cannot());
    };
    if let Some(i) = infer_at {
        if known == 0 || !total.is_multiple_of(known) {
            return Err(cannot());
        }
        shape[i] = total / known;
    }
    if shape.iter().product::<usize>() != total {
        return Err(cannot());
    }
    view(x, shape)
}

/// Squeeze with its axes as an attribute (opset < 13) or constant input 1 (none:
/// every dimension of size 1).
pub fn infer_squeeze(axes: Option<&[i64]>, x: &Inputs) -> InferResult<Inferred> {
    let xs = x.shape(0)?.to_vec();
    let axes = match axes {
        Some(a) => Some(a.to_vec()),
        None => x.const_input(1, "the axes")?.map(Const::to_i64s),
    };
    let shape: Vec<usize> = match axes {
        None => xs.iter().copied().filter(|&d| d != 1).collect(),
        Some(axes) => {
            let axes = x.axes(&axes, xs.len())?;
            if let Some(&a) = axes.iter().find(|&&a| xs[a] != 1) {
                return Err(x.bad(format!("cannot squeeze axis {a} of {xs:?}")));
            }
            (0..xs.len())
                .filter(|i| !axes.contains(i))
                .map(|i| xs[i])
                .collect()
        }
    };
    view(x, shape)
}

/// Unsqueeze with its axes as an attribute (opset < 13) or constant input 1.
pub fn infer_unsqueeze(axes: Option<&[i64]>, x: &Inputs) -> InferResult<Inferred> {
    let xs = x.shape(0)?.to_vec();
    let axes = match axes {
        Some(a) => a.to_vec(),
        None => match x.const_input(1, "the axes")? {
            Some(k) => k.to_i64s(),
            None => return Err(x.bad("the axes input is missing")),
        },
    };
    let rank = xs.len() + axes.len();
    let mut axes = x.axes(&axes, rank)?;
    axes.sort_unstable();
    if axes.windows(2).any(|w| w[0] == w[1]) {
        return Err(x.bad(format!("repeated axes {axes:?}")));
    }
    let mut rest = xs.iter();
    let shape = (0..rank)
        .map(|i| {
            if axes.contains(&i) {
                1
            } else {
                *rest.next().unwrap_or(&1)
            }
        })
        .collect();
    view(x, shape)
}
