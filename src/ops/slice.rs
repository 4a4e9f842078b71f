//! Slice and Split: strided copies of a box of the input (GPU: `kernels::slice`;
//! CPU twin `cpu::slice`). On constants (shape arithmetic) they are folded.

use super::Op;
use super::binary::{self, check_rank};
use super::infer::{InferResult, Inferred, Inputs, Output};
use crate::error::{Error, Result};
use crate::tensor::{Const, DType};

/// The elements one output dimension takes from its input dimension: `len` indices
/// `start, start + step, ...` (`step` may be negative).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SliceAxis {
    pub start: usize,
    pub step: i64,
    pub len: usize,
}

impl SliceAxis {
    /// A whole dimension of size `d`.
    pub fn whole(d: usize) -> SliceAxis {
        SliceAxis {
            start: 0,
            step: 1,
            len: d,
        }
    }

    /// The ONNX Slice of a dimension of size `dim`: negative `start`/`end` count from
    /// the end, both are clamped into range, `step` is not 0.
    pub fn onnx(dim: usize, start: i64, end: i64, step: i64) -> SliceAxis {
        let d = dim as i64;
        let norm = |v: i64| if v < 0 { v.saturating_add(d) } else { v };
        let (start, len) = if d == 0 {
            (0, 0)
        } else if step > 0 {
            let (s, e) = (norm(start).clamp(0, d), norm(end).clamp(0, d));
            (s, ((e - s).max(0) as u64).div_ceil(step.unsigned_abs()))
        } else {
            let (s, e) = (norm(start).clamp(0, d - 1), norm(end).clamp(-1, d - 1));
            (s, ((s - e).max(0) as u64).div_ceil(step.unsigned_abs()))
        };
        SliceAxis {
            start: start as usize,
            step,
            len: len as usize,
        }
    }

    /// The input indices it takes.
    pub fn indices(&self) -> Vec<usize> {
        (0..self.len as i64)
            .map(|k| (self.start as i64 + k * self.step) as usize)
            .collect()
    }
}

/// Where a strided copy of `x` (row-major `shape`) by `axes` reads: the offset of its
/// first element and, per output dimension, `(size, input stride)`; the stride is
/// negative for a negative step.
pub fn strided(shape: &[usize], axes: &[SliceAxis]) -> (usize, Vec<(usize, i64)>) {
    let mut stride = 1i64;
    let mut offset = 0;
    let mut dims = vec![(0, 0); shape.len()];
    for (i, a) in axes.iter().enumerate().rev() {
        if a.len > 0 {
            offset += a.start * stride as usize;
        }
        dims[i] = (a.len, a.step * stride);
        stride *= shape[i] as i64;
    }
    (offset, dims)
}

/// Checks that `axes` describe a box inside `shape` of `out`'s shape.
pub fn check_box(shape: &[usize], axes: &[SliceAxis], out: &[usize]) -> Result<()> {
    if axes.len() != shape.len() || shape.len() > binary::MAX_RANK {
        return Err(Error::invalid(
            "slice",
            format!(
                "{} ranges for a rank-{} tensor (at most {})",
                axes.len(),
                shape.len(),
                binary::MAX_RANK
            ),
        ));
    }
    let inside = |(a, &d): (&SliceAxis, &usize)| {
        let last = a.start as i64 + (a.len as i64 - 1) * a.step;
        a.len == 0 || (a.start < d && (0..d as i64).contains(&last))
    };
    if !axes.iter().zip(shape).all(inside) {
        return Err(Error::invalid(
            "slice",
            format!("{axes:?} reach outside {shape:?}"),
        ));
    }
    let lens: Vec<usize> = axes.iter().map(|a| a.len).collect();
    if lens != out {
        return Err(Error::shape("slice output", &lens, out));
    }
    Ok(())
}

/// Checks that parts of `sizes` along `axis` exactly cover `shape`.
pub fn check_split(shape: &[usize], axis: usize, sizes: &[usize]) -> Result<()> {
    if axis >= shape.len() || sizes.iter().sum::<usize>() != shape[axis] {
        return Err(Error::invalid(
            "split",
            format!("parts {sizes:?} along axis {axis} of {shape:?}"),
        ));
    }
    Ok(())
}

/// The per-dimension ranges of a resolved `Op::Slice` (as [`infer_slice`] returns it)
/// on a `shape` tensor.
pub fn slice_axes(shape: &[usize], op: &Op) -> Vec<SliceAxis> {
    let mut out: Vec<SliceAxis> = shape.iter().map(|&d| SliceAxis::whole(d)).collect();
    if let Op::Slice {
        starts: Some(starts),
        ends: Some(ends),
        axes: Some(axes),
        steps: Some(steps),
    } = op
    {
        for j in 0..starts.len() {
            let a = axes[j] as usize;
            out[a] = SliceAxis::onnx(shape[a], starts[j], ends[j], steps[j]);
        }
    }
    out
}

/// Slice, attribute form (opset < 10) or inputs `[data, starts, ends, axes?, steps?]`
/// (constants); canonical with every attribute resolved (axes non-negative). Folded
/// on a constant, a strided copy on a tensor computed at run time.
pub fn infer_slice(
    starts: Option<&[i64]>,
    ends: Option<&[i64]>,
    axes: Option<&[i64]>,
    x: &Inputs,
) -> InferResult<Inferred> {
    let input = x.input(0)?;
    let ds = input.shape;
    let input_form = starts.is_none();
    let get = |attr: Option<&[i64]>, i: usize, what: &str| -> InferResult<Option<Vec<i64>>> {
        Ok(match attr {
            Some(v) => Some(v.to_vec()),
            None => x.const_input(i, what)?.map(Const::to_i64s),
        })
    };
    let starts = get(starts, 1, "the starts")?.ok_or_else(|| x.bad("starts are missing"))?;
    let ends = get(ends, 2, "the ends")?.ok_or_else(|| x.bad("ends are missing"))?;
    let axes = get(axes, 3, "the axes")?;
    let steps = if input_form {
        get(None, 4, "the steps")?
    } else {
        None
    };
    let axes: Vec<usize> = match axes {
        Some(a) => x.axes(&a, ds.len())?,
        None => (0..starts.len()).collect(),
    };
    let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
    if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
        return Err(x.bad("starts, ends, axes and steps differ in length"));
    }
    if let Some(j) = (1..axes.len()).find(|&j| axes[..j].contains(&axes[j])) {
        return Err(x.bad(format!("axis {} is sliced twice", axes[j])));
    }
    if steps.contains(&0) {
        return Err(x.bad("a step is 0"));
    }
    let op = Op::Slice {
        starts: Some(starts),
        ends: Some(ends),
        axes: Some(axes.iter().map(|&a| a as i64).collect()),
        steps: Some(steps),
    };
    let shape = slice_axes(ds, &op).iter().map(|a| a.len).collect();
    if let Some(data) = input.value {
        return Inferred::constant(op, shape, data.dtype());
    }
    x.data_f32()?;
    check_rank(ds.len())?;
    Inferred::tensor(op, shape)
}

/// Split `[x, split?]` into `outputs` parts along `axis`: sizes from the `split`
/// attribute (opset < 13) or input, `num_outputs` chunks (opset 18, the last one
/// smaller), or equal parts.
pub fn infer_split(
    axis: i64,
    split: Option<&[i64]>,
    num_outputs: Option<i64>,
    outputs: usize,
    x: &Inputs,
) -> InferResult<Inferred> {
    x.data_f32()?;
    let xs = x.shape(0)?;
    let a = x.axis(axis, xs.len())?;
    let d = xs[a];
    let split = match split {
        Some(s) => Some(s.to_vec()),
        None => x.const_input(1, "the split")?.map(Const::to_i64s),
    };
    let sizes: Vec<usize> = match (split, num_outputs) {
        (Some(s), _) => {
            let sizes = s
                .iter()
                .map(|&v| usize::try_from(v).map_err(|_| x.bad(format!("split {s:?} is negative"))))
                .collect::<InferResult<Vec<usize>>>()?;
            let total = sizes.iter().try_fold(0usize, |t, &v| t.checked_add(v));
            if total != Some(d) {
                return Err(x.bad(format!(
                    "split {s:?} does not sum to {d}, the size of axis {a}"
                )));
            }
            sizes
        }
        (None, Some(n)) => {
            let n = usize::try_from(n)
                .ok()
                .filter(|&n| n >= 1 && n == outputs)
                .ok_or_else(|| x.bad(format!("num_outputs {n} with {outputs} outputs")))?;
            let chunk = d.div_ceil(n);
            if chunk * (n - 1) >= d {
                return Err(x.bad(format!("axis {a} of size {d} has no {n} non-empty chunks")));
            }
            let mut sizes = vec![chunk; n - 1];
            sizes.push(d - chunk * (n - 1));
            sizes
        }
        (None, None) => {
            if outputs == 0 || !d.is_multiple_of(outputs) {
                return Err(x.bad(format!(
                    "axis {a} of size {d} does not split into {outputs} equal parts"
                )));
            }
            vec![d / outputs; outputs]
        }
    };
    check_rank(xs.len())?;
    let outputs = sizes
        .iter()
        .map(|&n| {
            let mut shape = xs.to_vec();
            shape[a] = n;
            Output {
                shape,
                dtype: DType::F32,
            }
        })
        .collect();
    Ok(Inferred {
        op: Op::Split { axis: a, sizes },
        outputs,
        constant: false,
    })
}

/// The ranges of each part of a Split of `shape` along `axis` into `sizes`.
pub fn split_axes(shape: &[usize], axis: usize, sizes: &[usize]) -> Vec<Vec<SliceAxis>> {
    let mut start = 0;
    sizes
        .iter()
        .map(|&len| {
            let mut axes: Vec<SliceAxis> = shape.iter().map(|&d| SliceAxis::whole(d)).collect();
            axes[axis] = SliceAxis {
                start,
                step: 1,
                len,
            };
            start += len;
            axes
        })
        .collect()
}
