//! CPU twin of `shaders/conv2d.wgsl` (and of 1x1 convolutions in `shaders/matmul.wgsl`),
//! plus inference batch norm.

use super::activation::activate;
use crate::error::{Error, Result};
use crate::ops::Activation;
use crate::ops::Conv2dParams;
use crate::tensor::HostTensor;

pub fn conv2d(
    x: &HostTensor,
    w: &HostTensor,
    bias: Option<&HostTensor>,
    residual: Option<&HostTensor>,
    p: &Conv2dParams,
    act: Activation,
) -> Result<HostTensor> {
    let out_shape = p.output_shape(&x.shape, &w.shape)?;
    let [batch, co, oh, ow] = [out_shape[0], out_shape[1], out_shape[2], out_shape[3]];
    let [ci, h, wd] = [x.shape[1], x.shape[2], x.shape[3]];
    let [cg, kh, kw] = [w.shape[1], w.shape[2], w.shape[3]];
    if let Some(b) = bias
        && b.shape != [co]
    {
        return Err(Error::shape("conv2d bias", [co], &b.shape));
    }
    if let Some(r) = residual
        && r.shape != out_shape
    {
        return Err(Error::shape("conv2d residual", &out_shape, &r.shape));
    }
    let mg = co / p.groups;
    let [sh, sw] = p.stride;
    let [dh, dw] = p.dilation;
    let (top, left) = (p.padding[0] as isize, p.padding[1] as isize);
    let mut out = Vec::with_capacity(batch * co * oh * ow);
    for image in 0..batch {
        for channel in 0..co {
            let group = channel / mg;
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = 0.0f32;
                    for c in 0..cg {
                        let input = (image * ci + group * cg + c) * h * wd;
                        for ky in 0..kh {
                            let iy = (oy * sh + ky * dh) as isize - top;
                            if iy < 0 || iy >= h as isize {
                                continue;
                            }
                            for kx in 0..kw {
                                let ix = (ox * sw + kx * dw) as isize - left;
                                if ix < 0 || ix >= wd as isize {
                                    continue;
                                }
                                let wv = w.data[((channel * cg + c) * kh + ky) * kw + kx];
                                acc += wv * x.data[input + iy as usize * wd + ix as usize];
                            }
                        }
                    }
                    let at = out.len();
                    if let Some(b) = bias {
                        acc += b.data[channel];
                    }
                    if let Some(r) = residual {
                        acc += r.data[at];
                    }
                    out.push(activate(acc, act));
                }
            }
        }
    }
    HostTensor::new(&out_shape, out)
}

/// Inference batch norm over dimension 1 of `x` (`[N, C, ...]`):
/// `y = (x - mean[c]) / sqrt(var[c] + eps) * gamma[c] + beta[c]`.
pub fn batch_norm(
    x: &HostTensor,
    gamma: &HostTensor,
    beta: &HostTensor,
    mean: &HostTensor,
    var: &HostTensor,
    eps: f32,
) -> Result<HostTensor> {
    if x.shape.len() < 2 {
        return Err(Error::shape("batch_norm input", "[N, C, ...]", &x.shape));
    }
    let c = x.shape[1];
    for (name, t) in [
        ("gamma", gamma),
        ("beta", beta),
        ("mean", mean),
        ("var", var),
    ] {
        if t.shape != [c] {
            return Err(Error::shape(format!("batch_norm {name}"), [c], &t.shape));
        }
    }
    let inner: usize = x.shape[2..].iter().product();
    let data = x
        .data
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let ch = (i / inner) % c;
            (v - mean.data[ch]) / (var.data[ch] + eps).sqrt() * gamma.data[ch] + beta.data[ch]
        })
        .collect();
    HostTensor::new(&x.shape, data)
}
