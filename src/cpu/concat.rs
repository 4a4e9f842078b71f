//! CPU twin of `shaders/concat.wgsl`.

use crate::error::Result;
use crate::ops::concat::concat_shape;
use crate::tensor::HostTensor;

pub fn concat(inputs: &[&HostTensor], axis: usize) -> Result<HostTensor> {
    let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape.as_slice()).collect();
    let shape = concat_shape(&shapes, axis)?;
    let inner: usize = shape[axis + 1..].iter().product();
    let mut y = HostTensor::zeros(&shape)?;
    let mut offset = 0;
    for x in inputs {
        let n = x.shape[axis];
        let (chunk_in, chunk_out) = (n * inner, shape[axis] * inner);
        for i in 0..x.len() {
            y.data[(i / chunk_in) * chunk_out + offset * inner + i % chunk_in] = x.data[i];
        }
        offset += n;
    }
    Ok(y)
}
