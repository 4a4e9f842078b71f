//! CPU twin of the strided gather in `shaders/transpose.wgsl` as Slice and Split
//! use it: the same walk.

use crate::error::Result;
use crate::ops::slice::{SliceAxis, check_box, check_split, split_axes, strided};
use crate::tensor::HostTensor;

pub fn slice(x: &HostTensor, axes: &[SliceAxis]) -> Result<HostTensor> {
    let shape: Vec<usize> = axes.iter().map(|a| a.len).collect();
    check_box(&x.shape, axes, &shape)?;
    let (offset, dims) = strided(&x.shape, axes);
    let data = (0..shape.iter().product())
        .map(|i| {
            let (mut rest, mut src) = (i, offset as i64);
            for &(n, s) in dims.iter().rev() {
                src += (rest % n) as i64 * s;
                rest /= n;
            }
            x.data[src as usize]
        })
        .collect();
    HostTensor::new(&shape, data)
}

/// `x` split along `axis` into parts of `sizes`.
pub fn split(x: &HostTensor, axis: usize, sizes: &[usize]) -> Result<Vec<HostTensor>> {
    check_split(&x.shape, axis, sizes)?;
    split_axes(&x.shape, axis, sizes)
        .iter()
        .map(|axes| slice(x, axes))
        .collect()
}
