//! Constant folding: evaluates at load time the nodes that shape inference marked
//! constant (shape arithmetic exported from `x.view(x.size(0), -1)` and the like,
//! constant subgraphs). Data movement is generic over both element types; float
//! arithmetic goes through the CPU twins in `crate::cpu`, integer arithmetic is here.

use crate::cpu::binary::broadcast_offsets;
use crate::ops::binary::common_dtype;
use crate::ops::infer::{InferResult, Inputs};
use crate::ops::slice::slice_axes;
use crate::ops::{Activation, BinaryOp, Op};
use crate::tensor::{Const, DType, HostTensor, IntTensor, broadcast_shapes};

/// The value of the constant node `op` (as inference canonicalised it) with output
/// `shape`, from its inputs `x`.
pub(super) fn evaluate(op: &Op, x: &Inputs, shape: &[usize]) -> InferResult<Const> {
    let shape = shape.to_vec();
    let konst = |i: usize| {
        x.konst(i)
            .ok_or_else(|| x.bad(format!("internal: input {i} of a constant is not one")))
    };
    Ok(match op {
        Op::Identity => konst(0)?.clone(),
        Op::View => map_data(konst(0)?, shape, <[f32]>::to_vec, <[i64]>::to_vec),
        Op::Act(a) => Const::f32(crate::cpu::unary::unary(&floats(konst(0)?), *a)),
        Op::Unary(u) => Const::f32(crate::cpu::unary::unary_op(&floats(konst(0)?), *u)),
        Op::ReduceAxes { kind, axes } => {
            let t = crate::cpu::reduce::reduce(&floats(konst(0)?), *kind, axes)
                .map_err(|e| x.bad(e.to_string()))?;
            Const::f32(HostTensor {
                shape,
                data: t.data,
            })
        }
        Op::Binary(b, act) => binary(x, *b, *act, konst(0)?, konst(1)?)?,
        // A broadcast as `x + 0`.
        Op::Expand => {
            let zeros = Const::i64(shape.clone(), vec![0; shape.iter().product()]);
            binary(x, BinaryOp::Add, Activation::Identity, konst(0)?, &zeros)?
        }
        Op::Concat { axis } => {
            let parts: Vec<&Const> = x.present().filter_map(|i| i.value).collect();
            concat(&parts, *axis, shape)
        }
        Op::Transpose { perm } => {
            let k = konst(0)?;
            let sel = transposed(k.shape(), perm);
            map_data(k, shape, |d| select(d, &sel), |d| select(d, &sel))
        }
        Op::Shape { start, end } => {
            let dims = x.shape(0)?;
            let (s, e) = (*start as usize, end.map_or(dims.len(), |e| e as usize));
            let dims: Vec<i64> = dims[s..e].iter().map(|&d| d as i64).collect();
            Const::i64(shape, dims)
        }
        Op::Gather { axis } => {
            let (data, idx) = (konst(0)?, konst(1)?.to_i64s());
            let (a, from) = (*axis as usize, data.shape());
            let out = match data {
                Const::F32(t) => gather(&t.data, from, a, &idx).map(|v| {
                    Const::f32(HostTensor {
                        shape: shape.clone(),
                        data: v,
                    })
                }),
                Const::I64(t) => gather(&t.data, from, a, &idx).map(|v| Const::i64(shape, v)),
            };
            out.ok_or_else(|| {
                x.bad(format!(
                    "indices {idx:?} out of range for axis {a} of {from:?}"
                ))
            })?
        }
        Op::Cast { to: DType::F32 } => {
            let k = konst(0)?;
            Const::f32(HostTensor {
                shape,
                data: k.to_f32s(),
            })
        }
        Op::Cast { to: DType::I64 } => Const::i64(shape, konst(0)?.to_i64s()),
        Op::Slice { .. } => {
            let k = konst(0)?;
            let picks = slice_axes(k.shape(), op)
                .iter()
                .map(|a| a.indices())
                .collect();
            let sel = sliced(k.shape(), picks);
            map_data(k, shape, |d| select(d, &sel), |d| select(d, &sel))
        }
        Op::ConstantOfShape { value } => {
            let n = shape.iter().product();
            match value {
                Const::F32(t) => Const::f32(HostTensor {
                    shape,
                    data: vec![t.data[0]; n],
                }),
                Const::I64(t) => Const::i64(shape, vec![t.data[0]; n]),
            }
        }
        other => {
            let what = other.label();
            return Err(x.bad(format!("internal: {what} cannot be evaluated")));
        }
    })
}

/// A constant's values as f32 (integer ones converted: `Ceil(Div(Shape, 2))`).
fn floats(k: &Const) -> HostTensor {
    HostTensor {
        shape: k.shape().to_vec(),
        data: k.to_f32s(),
    }
}

/// Applies a shape-generic data movement to either element type.
fn map_data(
    c: &Const,
    shape: Vec<usize>,
    f32s: impl FnOnce(&[f32]) -> Vec<f32>,
    i64s: impl FnOnce(&[i64]) -> Vec<i64>,
) -> Const {
    match c {
        Const::F32(t) => Const::f32(HostTensor {
            shape,
            data: f32s(&t.data),
        }),
        Const::I64(t) => Const::i64(shape, i64s(&t.data)),
    }
}

/// `x OP y` with broadcasting: integer when both are, else through the CPU twin.
fn binary(x: &Inputs, op: BinaryOp, act: Activation, a: &Const, b: &Const) -> InferResult<Const> {
    match (a, b) {
        (Const::I64(a), Const::I64(b)) => binary_i64(op, a, b)
            .map(|t| Const::I64(std::sync::Arc::new(t)))
            .ok_or_else(|| {
                x.bad("integer division by zero, a negative or overflowing power, or shapes that do not broadcast")
            }),
        _ => {
            let out = crate::cpu::binary::binary(op, &floats(a), &floats(b), act)
                .map_err(|e| x.bad(e.to_string()))?;
            Ok(Const::f32(out))
        }
    }
}

/// Integer `a OP b` with broadcasting (division truncates, as ONNX integer Div).
fn binary_i64(op: BinaryOp, a: &IntTensor, b: &IntTensor) -> Option<IntTensor> {
    let shape = broadcast_shapes(&a.shape, &b.shape).ok()?;
    let data = broadcast_offsets(&a.shape, &b.shape, &shape)
        .map(|(ia, ib)| {
            let (x, y) = (a.data[ia], b.data[ib]);
            match op {
                BinaryOp::Add => Some(x.wrapping_add(y)),
                BinaryOp::Sub => Some(x.wrapping_sub(y)),
                BinaryOp::Mul => Some(x.wrapping_mul(y)),
                BinaryOp::Div => x.checked_div(y),
                BinaryOp::Pow => u32::try_from(y).ok().and_then(|e| x.checked_pow(e)),
                BinaryOp::Max => Some(x.max(y)),
                BinaryOp::Min => Some(x.min(y)),
            }
        })
        .collect::<Option<_>>()?;
    Some(IntTensor { shape, data })
}

/// Concatenation along `axis` (shapes already validated): integer when every part
/// is, else f32.
fn concat(parts: &[&Const], axis: usize, shape: Vec<usize>) -> Const {
    let outer: usize = shape[..axis].iter().product();
    let inner = |k: &Const| k.shape()[axis..].iter().product::<usize>();
    if common_dtype(parts.iter().copied()) == DType::I64 {
        let parts: Vec<_> = parts.iter().map(|k| (k.to_i64s(), inner(k))).collect();
        Const::i64(shape, interleave(&parts, outer))
    } else {
        let parts: Vec<_> = parts.iter().map(|k| (k.to_f32s(), inner(k))).collect();
        let data = interleave(&parts, outer);
        Const::f32(HostTensor { shape, data })
    }
}

/// For each of `outer` rows, each part's `inner` elements of that row in turn.
fn interleave<T: Copy>(parts: &[(Vec<T>, usize)], outer: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(parts.iter().map(|(d, _)| d.len()).sum());
    for o in 0..outer {
        for (data, inner) in parts {
            out.extend_from_slice(&data[o * inner..(o + 1) * inner]);
        }
    }
    out
}

/// Per output axis, the input indices it reads and the input stride they step by:
/// a transpose reads whole permuted axes, a slice selected indices.
type Selection = Vec<(Vec<usize>, usize)>;

/// Row-major strides of `shape`.
fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

fn transposed(shape: &[usize], perm: &[usize]) -> Selection {
    let st = strides(shape);
    perm.iter()
        .map(|&p| ((0..shape[p]).collect(), st[p]))
        .collect()
}

fn sliced(shape: &[usize], picks: Vec<Vec<usize>>) -> Selection {
    picks.into_iter().zip(strides(shape)).collect()
}

/// The elements of `data` that `sel` selects, in row-major output order.
fn select<T: Copy>(data: &[T], sel: &Selection) -> Vec<T> {
    let n: usize = sel.iter().map(|(p, _)| p.len()).product();
    (0..n)
        .map(|i| {
            let (mut rest, mut src) = (i, 0);
            for (picks, stride) in sel.iter().rev() {
                src += picks[rest % picks.len()] * stride;
                rest /= picks.len();
            }
            data[src]
        })
        .collect()
}

/// `numpy.take(data, indices, axis)` with negative indices wrapped; `None` if an
/// index is out of range.
fn gather<T: Copy>(data: &[T], shape: &[usize], axis: usize, indices: &[i64]) -> Option<Vec<T>> {
    let outer: usize = shape[..axis].iter().product();
    let inner: usize = shape[axis + 1..].iter().product();
    let dim = shape[axis] as i64;
    let mut out = Vec::with_capacity(outer * indices.len() * inner);
    for o in 0..outer {
        for &i in indices {
            let i = if i < 0 { i + dim } else { i };
            if !(0..dim).contains(&i) {
                return None;
            }
            let start = (o * shape[axis] + i as usize) * inner;
            out.extend_from_slice(&data[start..start + inner]);
        }
    }
    Some(out)
}
