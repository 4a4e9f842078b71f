//! CPU twin of `shaders/scale.wgsl`.

use super::activation::activate;
use crate::error::Result;
use crate::ops::Activation;
use crate::ops::scale::scale_dims;
use crate::tensor::HostTensor;
use crate::tensor::check_host;

pub fn scale(
    x: &HostTensor,
    g: &HostTensor,
    residual: Option<&HostTensor>,
    act: Activation,
) -> Result<HostTensor> {
    let [_, _, h, w] = scale_dims(&x.shape, &g.shape, residual.map(|r| r.shape.as_slice()))?;
    for t in [Some(x), Some(g), residual].into_iter().flatten() {
        check_host("scale operand", t)?;
    }
    let hw = h * w;
    let mut out = vec![0.0f32; x.data.len()];
    for (i, o) in out.iter_mut().enumerate() {
        let mut v = x.data[i] * g.data[i / hw];
        if let Some(r) = residual {
            v += r.data[i];
        }
        *o = activate(v, act);
    }
    HostTensor::new(&x.shape, out)
}
