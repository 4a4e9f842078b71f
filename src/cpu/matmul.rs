//! CPU twin of `shaders/matmul.wgsl`.

use super::activation::activate;
use super::binary::broadcast_offsets;
use crate::error::{Error, Result};
use crate::ops::Activation;
use crate::ops::matmul::matrix_dims;
use crate::tensor::{HostTensor, broadcast_shapes};

pub fn matmul(
    a: &HostTensor,
    b: &HostTensor,
    bias: Option<&HostTensor>,
    act: Activation,
) -> Result<HostTensor> {
    let (sa, sb) = (&a.shape, &b.shape);
    let [m, k, n] = matrix_dims(sa, sb)?;
    if let Some(t) = bias
        && t.shape != [n]
    {
        return Err(Error::shape("matmul bias", [n], &t.shape));
    }
    let (a_batch, b_batch) = (&sa[..sa.len() - 2], &sb[..sb.len() - 2]);
    let batch = broadcast_shapes(a_batch, b_batch)?;
    let count: usize = batch.iter().product();
    let mut out = Vec::with_capacity(count * m * n);
    // Offsets of each batch entry's matrices, in matrices.
    for (ia, ib) in broadcast_offsets(a_batch, b_batch, &batch) {
        let am = &a.data[ia * m * k..][..m * k];
        let bm = &b.data[ib * k * n..][..k * n];
        for row in 0..m {
            for col in 0..n {
                let mut acc = 0.0f32;
                for kk in 0..k {
                    acc += am[row * k + kk] * bm[kk * n + col];
                }
                if let Some(t) = bias {
                    acc += t.data[col];
                }
                out.push(activate(acc, act));
            }
        }
    }
    let mut shape = batch;
    shape.extend([m, n]);
    HostTensor::new(&shape, out)
}

/// `t` with every value rounded to the nearest f16 (what f16 weight storage keeps):
/// the CPU twin of an f16-weight kernel (`matmul_f16`, `conv2d_f16`) is its f32 twin
/// on these weights.
pub fn round_f16(t: &HostTensor) -> HostTensor {
    HostTensor {
        shape: t.shape.clone(),
        data: t
            .data
            .iter()
            .map(|&v| half::f16::from_f32(v).to_f32())
            .collect(),
    }
}
