//! CPU twin of `shaders/binary.wgsl`.

use super::activation::activate;
use crate::error::Result;
use crate::kernels::Activation;
use crate::kernels::binary::BinaryOp;
use crate::tensor::{broadcast_shapes, broadcast_strides};

/// Returns the broadcast output shape and values.
pub fn binary(
    op: BinaryOp,
    a: &[f32],
    a_shape: &[usize],
    b: &[f32],
    b_shape: &[usize],
    act: Activation,
) -> Result<(Vec<usize>, Vec<f32>)> {
    let shape = broadcast_shapes(a_shape, b_shape)?;
    let (sa, sb) = (
        broadcast_strides(a_shape, &shape),
        broadcast_strides(b_shape, &shape),
    );
    let len: usize = shape.iter().product();
    let out = (0..len)
        .map(|i| {
            let (mut rest, mut ia, mut ib) = (i, 0, 0);
            for d in (0..shape.len()).rev() {
                let c = rest % shape[d];
                rest /= shape[d];
                ia += c * sa[d];
                ib += c * sb[d];
            }
            let (x, y) = (a[ia], b[ib]);
            let r = match op {
                BinaryOp::Add => x + y,
                BinaryOp::Sub => x - y,
                BinaryOp::Mul => x * y,
                BinaryOp::Div => x / y,
            };
            activate(r, act)
        })
        .collect();
    Ok((shape, out))
}
