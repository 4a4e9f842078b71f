//! Host evaluation of the data-movement and integer ops that constant folding needs
//! (shape arithmetic exported from `x.view(x.size(0), -1)` and the like). Float
//! arithmetic on constants goes through the CPU twins in `crate::cpu` instead.

use super::{Const, IntTensor};
use crate::ops::BinaryOp;
use crate::tensor::{HostTensor, broadcast_shapes, broadcast_strides};

/// Applies a shape-generic data movement to either element type.
pub(super) fn map_data(
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

/// Row-major strides of `shape`.
pub(super) fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

pub(super) fn transpose<T: Copy>(data: &[T], shape: &[usize], perm: &[usize]) -> Vec<T> {
    let out_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    let in_strides = strides(shape);
    let n: usize = out_shape.iter().product();
    (0..n)
        .map(|i| {
            let (mut rest, mut src) = (i, 0);
            for d in (0..out_shape.len()).rev() {
                src += (rest % out_shape[d]) * in_strides[perm[d]];
                rest /= out_shape[d];
            }
            data[src]
        })
        .collect()
}

/// Concatenation of row-major parts along `axis` (shapes already validated).
pub(super) fn concat<T: Copy>(parts: &[(&[T], &[usize])], axis: usize) -> Vec<T> {
    let outer: usize = parts[0].1[..axis].iter().product();
    let mut out = Vec::new();
    for o in 0..outer {
        for (data, shape) in parts {
            let inner: usize = shape[axis..].iter().product();
            out.extend_from_slice(&data[o * inner..(o + 1) * inner]);
        }
    }
    out
}

/// `numpy.take(data, indices, axis)` with negative indices wrapped; `None` if an
/// index is out of range.
pub(super) fn gather<T: Copy>(
    data: &[T],
    shape: &[usize],
    axis: usize,
    indices: &[i64],
) -> Option<Vec<T>> {
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

/// Elements of a strided slice: per axis, the selected input indices.
pub(super) fn slice<T: Copy>(data: &[T], shape: &[usize], picks: &[Vec<usize>]) -> Vec<T> {
    let in_strides = strides(shape);
    let out_shape: Vec<usize> = picks.iter().map(Vec::len).collect();
    let n: usize = out_shape.iter().product();
    (0..n)
        .map(|i| {
            let (mut rest, mut src) = (i, 0);
            for d in (0..out_shape.len()).rev() {
                src += picks[d][rest % out_shape[d]] * in_strides[d];
                rest /= out_shape[d];
            }
            data[src]
        })
        .collect()
}

/// The indices `Slice` selects on one axis of size `dim` (ONNX clamping rules).
pub(super) fn slice_indices(dim: usize, start: i64, end: i64, step: i64) -> Vec<usize> {
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

/// Integer `a OP b` with broadcasting (division truncates, as ONNX integer Div).
pub(super) fn binary_i64(op: BinaryOp, a: &IntTensor, b: &IntTensor) -> Option<IntTensor> {
    let shape = broadcast_shapes(&a.shape, &b.shape).ok()?;
    let (sa, sb) = (
        broadcast_strides(&a.shape, &shape),
        broadcast_strides(&b.shape, &shape),
    );
    let n: usize = shape.iter().product();
    let mut data = Vec::with_capacity(n);
    for i in 0..n {
        let (mut rest, mut ia, mut ib) = (i, 0, 0);
        for d in (0..shape.len()).rev() {
            let c = rest % shape[d];
            rest /= shape[d];
            ia += c * sa[d];
            ib += c * sb[d];
        }
        let (x, y) = (a.data[ia], b.data[ib]);
        data.push(match op {
            BinaryOp::Add => x.wrapping_add(y),
            BinaryOp::Sub => x.wrapping_sub(y),
            BinaryOp::Mul => x.wrapping_mul(y),
            BinaryOp::Div => x.checked_div(y)?,
        });
    }
    Some(IntTensor { shape, data })
}
