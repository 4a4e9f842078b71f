//! Concatenation along one axis: its shape rule (GPU: `kernels::concat`; CPU twin
//! `cpu::concat`).

use super::Op;
use super::binary::common_dtype;
use super::check_axis;
use super::infer::{InferResult, Inferred, Inputs};
use super::view::view;
use crate::error::{Error, Result};

/// The shape of the concatenation of `shapes` along `axis`: all ranks equal, all
/// dimensions but `axis` equal.
pub fn concat_shape(shapes: &[&[usize]], axis: usize) -> Result<Vec<usize>> {
    let Some(first) = shapes.first() else {
        return Err(Error::invalid("concat", "no inputs"));
    };
    check_axis("concat", axis, first.len())?;
    let mut out = first.to_vec();
    for (i, s) in shapes.iter().enumerate().skip(1) {
        let same_elsewhere =
            s.len() == first.len() && (0..s.len()).all(|d| d == axis || s[d] == first[d]);
        if !same_elsewhere {
            let mut expected = first.to_vec();
            expected[axis] = s.get(axis).copied().unwrap_or(0);
            return Err(Error::shape(format!("concat input {i}"), expected, s));
        }
        out[axis] = out[axis]
            .checked_add(s[axis])
            .ok_or_else(|| Error::invalid("concat", "the output size overflows"))?;
    }
    Ok(out)
}

/// Concat along a possibly negative `axis`: folded when every input is a constant,
/// a `View` of a single input.
pub fn infer(axis: i64, x: &Inputs) -> InferResult<Inferred> {
    let first = x.shape(0)?.to_vec();
    let a = x.axis(axis, first.len())?;
    let mut shape = first.clone();
    shape[a] = 0;
    for s in x.present().map(|i| i.shape) {
        let same_rest = s.len() == first.len() && (0..s.len()).all(|i| i == a || s[i] == first[i]);
        if !same_rest {
            return Err(x.bad(format!(
                "cannot concatenate {first:?} and {s:?} on axis {a}"
            )));
        }
        shape[a] += s[a];
    }
    let op = Op::Concat { axis: a };
    if x.all_const() {
        let dtype = common_dtype(x.present().filter_map(|i| i.value));
        return Inferred::constant(op, shape, dtype);
    }
    x.floats_only()?;
    if x.present().count() == 1 {
        return view(x, shape);
    }
    Inferred::tensor(op, shape)
}
