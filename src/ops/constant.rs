//! Ops the runtime only evaluates at load time, on constants: the shape arithmetic
//! that exporters write around reshapes (`x.view(x.size(0), -1)`: Shape, Gather,
//! Cast, Slice, ConstantOfShape). Inference resolves their attributes so that the
//! graph's constant folder only moves data; on a tensor computed at run time they
//! are unsupported (except a Cast to f32 of an f32 tensor, an Identity).

use super::Op;
use super::infer::{InferResult, Inferred, Inputs, unsupported};
use crate::tensor::{Const, DType, checked_dims};

/// Shape: known from the static shape alone; canonical with `start..end`
/// clamped into range.
pub fn infer_shape(start: i64, end: Option<i64>, x: &Inputs) -> InferResult<Inferred> {
    let r = x.shape(0)?.len() as i64;
    let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r);
    let (s, e) = (clamp(start), clamp(end.unwrap_or(r)));
    let e = e.max(s);
    let op = Op::Shape {
        start: s,
        end: Some(e),
    };
    Inferred::constant(op, vec![(e - s) as usize], DType::I64)
}

/// Gather `[data, indices]` of constants; canonical with a non-negative axis.
pub fn infer_gather(axis: i64, x: &Inputs) -> InferResult<Inferred> {
    let (Some(data), Some(idx)) = (x.konst(0), x.konst(1)) else {
        unsupported!("Gather on a tensor computed at run time is not supported");
    };
    let ds = data.shape();
    let a = x.axis(axis, ds.len())?;
    let mut shape = ds[..a].to_vec();
    shape.extend(idx.shape());
    shape.extend(&ds[a + 1..]);
    let op = Op::Gather { axis: a as i64 };
    Inferred::constant(op, shape, data.dtype())
}

/// Cast: evaluated on a constant; on an f32 tensor computed at run time, a Cast to
/// f32 is an `Identity`, any other unsupported.
pub fn infer_cast(to: DType, x: &Inputs) -> InferResult<Inferred> {
    let input = x.input(0)?;
    let shape = input.shape.to_vec();
    match (input.value, to) {
        (Some(_), _) => Inferred::constant(Op::Cast { to }, shape, to),
        (None, DType::F32) if input.dtype == DType::F32 => Inferred::tensor(Op::Identity, shape),
        (None, _) => {
            unsupported!("Cast of a tensor computed at run time to {to:?} is not supported")
        }
    }
}

/// Slice of a constant, attribute form (opset < 10) or inputs
/// `[data, starts, ends, axes?, steps?]`; canonical with every attribute resolved
/// (axes non-negative).
pub fn infer_slice(
    starts: Option<&[i64]>,
    ends: Option<&[i64]>,
    axes: Option<&[i64]>,
    x: &Inputs,
) -> InferResult<Inferred> {
    let Some(data) = x.konst(0) else {
        unsupported!("Slice of a tensor computed at run time is not supported");
    };
    let ds = data.shape();
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
    if steps.contains(&0) {
        return Err(x.bad("a step is 0"));
    }
    let op = Op::Slice {
        starts: Some(starts),
        ends: Some(ends),
        axes: Some(axes.iter().map(|&a| a as i64).collect()),
        steps: Some(steps),
    };
    let shape = slice_picks(ds, &op).iter().map(Vec::len).collect();
    Inferred::constant(op, shape, data.dtype())
}

/// Per axis of a `shape` tensor, the indices a resolved `Op::Slice` (as
/// [`infer_slice`] returns it) selects.
pub fn slice_picks(shape: &[usize], op: &Op) -> Vec<Vec<usize>> {
    let mut picks: Vec<Vec<usize>> = shape.iter().map(|&d| (0..d).collect()).collect();
    if let Op::Slice {
        starts: Some(starts),
        ends: Some(ends),
        axes: Some(axes),
        steps: Some(steps),
    } = op
    {
        for j in 0..starts.len() {
            let a = axes[j] as usize;
            picks[a] = slice_indices(shape[a], starts[j], ends[j], steps[j]);
        }
    }
    picks
}

/// The indices `Slice` selects on one axis of size `dim` (ONNX clamping rules).
fn slice_indices(dim: usize, start: i64, end: i64, step: i64) -> Vec<usize> {
    let d = dim as i64;
    let norm = |v: i64| if v < 0 { v + d } else { v };
    let mut out = Vec::new();
    if step > 0 {
        let (s, e) = (norm(start).clamp(0, d), norm(end).clamp(0, d));
        let mut i = s;
        while i < e {
            out.push(i as usize);
            i += step;
        }
    } else {
        let (s, e) = (norm(start).clamp(-1, d - 1), norm(end).clamp(-1, d - 1));
        let mut i = s;
        while i > e {
            out.push(i as usize);
            i += step;
        }
    }
    out
}

/// ConstantOfShape `[shape]` (a constant) filled with `value`.
pub fn infer_constant_of_shape(value: &Const, x: &Inputs) -> InferResult<Inferred> {
    let Some(shape) = x.konst(0) else {
        unsupported!("ConstantOfShape with a shape computed at run time is not supported");
    };
    let shape = checked_dims(x.node, &shape.to_i64s())?;
    let op = Op::ConstantOfShape {
        value: value.clone(),
    };
    Inferred::constant(op, shape, value.dtype())
}
