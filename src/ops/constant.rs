//! Ops the runtime only evaluates at load time, on constants: the shape arithmetic
//! that exporters write around reshapes (`x.view(x.size(0), -1)`: Shape, Gather,
//! Cast, ConstantOfShape; Slice, which also runs, is in `ops::slice`). Inference resolves their attributes so that the
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
