//! CPU twin of `shaders/softmax.wgsl`.

use crate::error::Result;
use crate::ops::softmax::split_axis;
use crate::tensor::HostTensor;

pub fn softmax(x: &HostTensor, axis: usize) -> Result<HostTensor> {
    normalise(x, axis, false)
}

pub fn log_softmax(x: &HostTensor, axis: usize) -> Result<HostTensor> {
    normalise(x, axis, true)
}

/// Softmax along `axis`, or its logarithm `x - max - ln(sum)` with `log`.
pub fn normalise(x: &HostTensor, axis: usize, log: bool) -> Result<HostTensor> {
    let (outer, n, inner) = split_axis(&x.shape, axis)?;
    let rows = if n == 0 { 0 } else { outer * inner };
    let mut y = x.clone();
    for r in 0..rows {
        let base = (r / inner) * n * inner + r % inner;
        let mut m = x.data[base];
        for k in 1..n {
            m = m.max(x.data[base + k * inner]);
        }
        let mut s = 0.0f32;
        for k in 0..n {
            s += (x.data[base + k * inner] - m).exp();
        }
        for k in 0..n {
            let i = base + k * inner;
            y.data[i] = if log {
                x.data[i] - m - s.ln()
            } else {
                (x.data[i] - m).exp() / s
            };
        }
    }
    Ok(y)
}
