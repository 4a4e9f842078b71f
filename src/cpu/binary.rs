//! CPU twin of `shaders/binary.wgsl`.

use super::activation::activate;
use crate::error::Result;
use crate::ops::Activation;
use crate::ops::BinaryOp;
use crate::tensor::{HostTensor, broadcast_shapes, broadcast_strides};

pub fn binary(op: BinaryOp, a: &HostTensor, b: &HostTensor, act: Activation) -> Result<HostTensor> {
    let shape = broadcast_shapes(&a.shape, &b.shape)?;
    let (sa, sb) = (
        broadcast_strides(&a.shape, &shape),
        broadcast_strides(&b.shape, &shape),
    );
    let len: usize = shape.iter().product();
    let data = (0..len)
        .map(|i| {
            let (mut rest, mut ia, mut ib) = (i, 0, 0);
            for d in (0..shape.len()).rev() {
                let c = rest % shape[d];
                rest /= shape[d];
                ia += c * sa[d];
                ib += c * sb[d];
            }
            let (x, y) = (a.data[ia], b.data[ib]);
            let r = match op {
                BinaryOp::Add => x + y,
                BinaryOp::Sub => x - y,
                BinaryOp::Mul => x * y,
                BinaryOp::Div => x / y,
            };
            activate(r, act)
        })
        .collect();
    Ok(HostTensor { shape, data })
}
