//! CPU twin of `shaders/binary.wgsl`.

use super::activation::activate;
use crate::error::Result;
use crate::ops::Activation;
use crate::ops::BinaryOp;
use crate::tensor::{HostTensor, broadcast_shapes, broadcast_strides};

pub fn binary(op: BinaryOp, a: &HostTensor, b: &HostTensor, act: Activation) -> Result<HostTensor> {
    let shape = broadcast_shapes(&a.shape, &b.shape)?;
    let data = broadcast_offsets(&a.shape, &b.shape, &shape)
        .map(|(ia, ib)| {
            let (x, y) = (a.data[ia], b.data[ib]);
            activate(apply(op, x, y), act)
        })
        .collect();
    Ok(HostTensor { shape, data })
}

pub fn apply(op: BinaryOp, x: f32, y: f32) -> f32 {
    match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div => x / y,
        BinaryOp::Pow => x.powf(y),
        BinaryOp::Max => x.max(y),
        BinaryOp::Min => x.min(y),
    }
}

/// For each element of `shape`, the NumPy broadcast of row-major shapes `a` and `b`,
/// in order: its offsets into `a`'s data and `b`'s.
pub fn broadcast_offsets(
    a: &[usize],
    b: &[usize],
    shape: &[usize],
) -> impl Iterator<Item = (usize, usize)> {
    let (sa, sb) = (broadcast_strides(a, shape), broadcast_strides(b, shape));
    let shape = shape.to_vec();
    (0..shape.iter().product()).map(move |i| {
        let (mut rest, mut ia, mut ib) = (i, 0, 0);
        for d in (0..shape.len()).rev() {
            let c = rest % shape[d];
            rest /= shape[d];
            ia += c * sa[d];
            ib += c * sb[d];
        }
        (ia, ib)
    })
}
