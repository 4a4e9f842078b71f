//! Softmax along one axis: the tensor is viewed as `[outer, n, inner]` with `n` the
//! axis length (GPU: `kernels::softmax`; CPU twin `cpu::softmax`).

use crate::error::{Error, Result};

/// `(outer, n, inner)` of `shape` around `axis`.
pub fn split_axis(shape: &[usize], axis: usize) -> Result<(usize, usize, usize)> {
    if axis >= shape.len() {
        return Err(Error::invalid(
            "softmax",
            format!(
                "axis {axis} is out of range for a rank-{} tensor",
                shape.len()
            ),
        ));
    }
    let outer = shape[..axis].iter().product();
    let inner = shape[axis + 1..].iter().product();
    Ok((outer, shape[axis], inner))
}
