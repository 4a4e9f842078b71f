//! CPU twin of `shaders/unary.wgsl`.

use super::activation::activate;
use crate::kernels::Activation;

pub fn unary(x: &[f32], act: Activation) -> Vec<f32> {
    x.iter().map(|&v| activate(v, act)).collect()
}
