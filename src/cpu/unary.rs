//! CPU twin of `shaders/unary.wgsl`.

use super::activation::activate;
use crate::ops::Activation;
use crate::ops::unary::UnaryOp;
use crate::tensor::HostTensor;

pub fn unary(x: &HostTensor, act: Activation) -> HostTensor {
    HostTensor {
        shape: x.shape.clone(),
        data: x.data.iter().map(|&v| activate(v, act)).collect(),
    }
}

pub fn unary_op(x: &HostTensor, op: UnaryOp) -> HostTensor {
    HostTensor {
        shape: x.shape.clone(),
        data: x.data.iter().map(|&v| apply(v, op)).collect(),
    }
}

/// Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7), as the shader has it.
pub fn erf(x: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_7 + t * (1.421_413_8 + t * (-1.453_152 + t * 1.061_405_4))));
    let r = 1.0 - poly * (-x * x).exp();
    r.copysign(x)
}

pub fn apply(x: f32, op: UnaryOp) -> f32 {
    use std::f32::consts::{FRAC_1_SQRT_2, FRAC_2_PI};
    match op {
        UnaryOp::Ceil => x.ceil(),
        UnaryOp::Floor => x.floor(),
        UnaryOp::Round => x.round_ties_even(),
        UnaryOp::Sqrt => x.sqrt(),
        UnaryOp::Reciprocal => 1.0 / x,
        UnaryOp::Exp => x.exp(),
        UnaryOp::Log => x.ln(),
        UnaryOp::Neg => -x,
        UnaryOp::Abs => x.abs(),
        UnaryOp::Erf => erf(x),
        UnaryOp::Gelu => 0.5 * x * (1.0 + erf(x * FRAC_1_SQRT_2)),
        UnaryOp::GeluTanh => {
            let inner = FRAC_2_PI.sqrt() * (x + 0.044_715 * x * x * x);
            0.5 * x * (1.0 + inner.clamp(-15.0, 15.0).tanh())
        }
    }
}
