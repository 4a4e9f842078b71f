//! CPU twin of `shaders/unary.wgsl`.

use super::activation::activate;
use crate::ops::Activation;
use crate::tensor::HostTensor;

pub fn unary(x: &HostTensor, act: Activation) -> HostTensor {
    HostTensor {
        shape: x.shape.clone(),
        data: x.data.iter().map(|&v| activate(v, act)).collect(),
    }
}
