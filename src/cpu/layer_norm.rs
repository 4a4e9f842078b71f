//! CPU twin of `shaders/layer_norm.wgsl`: the same two passes per row.

use crate::error::{Error, Result};
use crate::ops::layer_norm::{check_param, rows};
use crate::tensor::HostTensor;

/// `x` normalised over the dimensions from `axis` on, times `scale`, plus `bias`
/// (each one value per row element, or a single one), with each row's mean and
/// inverse standard deviation (`[rows]`).
pub fn layer_norm(
    x: &HostTensor,
    scale: &HostTensor,
    bias: Option<&HostTensor>,
    axis: usize,
    epsilon: f32,
) -> Result<(HostTensor, HostTensor, HostTensor)> {
    if axis >= x.shape.len() {
        return Err(Error::invalid(
            "layer_norm",
            format!("axis {axis} of {:?}", x.shape),
        ));
    }
    let (rows, n) = rows(&x.shape, axis);
    let param = |p: &HostTensor, k: usize| p.data[if p.len() == 1 { 0 } else { k }];
    for p in std::iter::once(scale).chain(bias) {
        check_param(n, &p.shape)?;
    }
    let mut y = x.clone();
    let (mut means, mut invs) = (vec![0.0; rows], vec![0.0; rows]);
    for r in 0..rows {
        let row = &x.data[r * n..(r + 1) * n];
        let mean = row.iter().sum::<f32>() / n as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n as f32;
        let inv = 1.0 / (var + epsilon).sqrt();
        (means[r], invs[r]) = (mean, inv);
        for (k, out) in y.data[r * n..(r + 1) * n].iter_mut().enumerate() {
            let b = bias.map_or(0.0, |b| param(b, k));
            *out = (row[k] - mean) * inv * param(scale, k) + b;
        }
    }
    Ok((
        y,
        HostTensor::new(&[rows], means)?,
        HostTensor::new(&[rows], invs)?,
    ))
}
