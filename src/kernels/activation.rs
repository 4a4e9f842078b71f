//! How kernels receive a fused activation (`shaders/shared/activation.wgsl`; the op is
//! `ops::Activation`, its CPU twin `cpu::activation`).

use crate::ops::Activation;

/// `(kind, a, b)` as the shaders' `activate(x, kind, a, b)` takes them.
pub fn code(act: Activation) -> (u32, f32, f32) {
    match act {
        Activation::Identity => (0, 0.0, 0.0),
        Activation::Relu => (1, 0.0, 0.0),
        Activation::Clip { min, max } => (2, min, max),
        Activation::HardSigmoid { alpha, beta } => (3, alpha, beta),
        Activation::HardSwish => (4, 0.0, 0.0),
        Activation::Sigmoid => (5, 0.0, 0.0),
        Activation::Silu => (6, 0.0, 0.0),
        Activation::Tanh => (7, 0.0, 0.0),
    }
}
