//! CPU twin of `shaders/squeeze.wgsl`: one plain fold per plane (the shader splits
//! the same fold over lanes and a tree, so sums may differ in the last bits).

use crate::error::Result;
use crate::ops::squeeze::{SqueezeMode, nchw};
use crate::tensor::HostTensor;
use crate::tensor::check_host;

pub fn squeeze(x: &HostTensor, mode: SqueezeMode) -> Result<HostTensor> {
    let [n, c, h, w] = nchw("squeeze input", &x.shape)?;
    check_host("squeeze input", x)?;
    let hw = h * w;
    let mut out = vec![0.0f32; n * c];
    for (plane, r) in out.iter_mut().enumerate() {
        let base = plane * hw;
        let mut acc = match mode {
            SqueezeMode::Max => x.data[base],
            SqueezeMode::Avg => 0.0,
        };
        for i in 0..hw {
            let v = x.data[base + i];
            acc = match mode {
                SqueezeMode::Max => acc.max(v),
                SqueezeMode::Avg => acc + v,
            };
        }
        *r = match mode {
            SqueezeMode::Max => acc,
            SqueezeMode::Avg => acc / hw as f32,
        };
    }
    HostTensor::new(&[n, c], out)
}
