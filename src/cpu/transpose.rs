//! CPU twin of `shaders/transpose.wgsl`, on the unsimplified axes (the definition).

use crate::error::Result;
use crate::ops::transpose::transpose_shape;
use crate::tensor::HostTensor;

pub fn transpose(x: &HostTensor, perm: &[usize]) -> Result<HostTensor> {
    let shape = transpose_shape(&x.shape, perm)?;
    let rank = x.shape.len();
    let mut in_strides = vec![1; rank];
    for d in (0..rank.saturating_sub(1)).rev() {
        in_strides[d] = in_strides[d + 1] * x.shape[d + 1];
    }
    let mut y = HostTensor::zeros(&shape)?;
    for (i, out) in y.data.iter_mut().enumerate() {
        let mut rest = i;
        let mut src = 0;
        for d in (0..rank).rev() {
            src += (rest % shape[d]) * in_strides[perm[d]];
            rest /= shape[d];
        }
        *out = x.data[src];
    }
    Ok(y)
}
