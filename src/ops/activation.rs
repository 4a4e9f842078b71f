//! The elementwise activations that ops fuse into their outputs and SE blocks use as
//! gates. GPU encoding: `kernels::activation`; CPU twin: `cpu::activation`.

use super::Op;
use super::infer::{InferResult, Inferred, Inputs};
use crate::tensor::DType;

/// An elementwise activation, also used as the SE gate.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Activation {
    #[default]
    Identity,
    Relu,
    /// `clamp(x, min, max)`; ReLU6 is `Clip { min: 0, max: 6 }`.
    Clip {
        min: f32,
        max: f32,
    },
    /// `clamp(alpha * x + beta, 0, 1)`: (0.2, 0.5) in ONNX/Paddle, (1/6, 0.5) in PyTorch.
    HardSigmoid {
        alpha: f32,
        beta: f32,
    },
    /// `x * clamp(x / 6 + 0.5, 0, 1)`.
    HardSwish,
    Sigmoid,
    /// `x * sigmoid(x)`, also called swish.
    Silu,
    Tanh,
}

impl Activation {
    pub const RELU6: Activation = Activation::Clip { min: 0.0, max: 6.0 };

    /// Every variant, with typical parameters: for tests that sweep activations.
    pub fn all() -> [Activation; 9] {
        [
            Activation::Identity,
            Activation::Relu,
            Activation::RELU6,
            Activation::HardSigmoid {
                alpha: 0.2,
                beta: 0.5,
            },
            Activation::HardSigmoid {
                alpha: 1.0 / 6.0,
                beta: 0.5,
            },
            Activation::HardSwish,
            Activation::Sigmoid,
            Activation::Silu,
            Activation::Tanh,
        ]
    }

    /// The ONNX-style name, as layer labels show it (`Relu6`, `HardSigmoid`, ...).
    pub fn onnx_name(&self) -> &'static str {
        match self {
            Activation::Identity => "Identity",
            Activation::Relu => "Relu",
            Activation::Clip { min, max } if *min == 0.0 && *max == 6.0 => "Relu6",
            Activation::Clip { .. } => "Clip",
            Activation::HardSigmoid { .. } => "HardSigmoid",
            Activation::HardSwish => "HardSwish",
            Activation::Sigmoid => "Sigmoid",
            Activation::Silu => "SiLU",
            Activation::Tanh => "Tanh",
        }
    }
}

/// An activation: folded when its input is a constant.
pub fn infer(a: Activation, x: &Inputs) -> InferResult<Inferred> {
    x.data_f32()?;
    let shape = x.shape(0)?.to_vec();
    if x.konst(0).is_some() {
        return Inferred::constant(Op::Act(a), shape, DType::F32);
    }
    Inferred::tensor(Op::Act(a), shape)
}

/// Clip with its bounds as attributes (opset < 11) or constant inputs 1 and 2:
/// `Relu` when it is `max(x, 0)`.
pub fn infer_clip(min: Option<f32>, max: Option<f32>, x: &Inputs) -> InferResult<Inferred> {
    let bound = |i: usize, attr: Option<f32>, default: f32| -> InferResult<f32> {
        if let Some(v) = attr {
            return Ok(v);
        }
        match x.const_input(i, "a Clip bound")? {
            None => Ok(default),
            Some(k) if k.len() == 1 => Ok(k.to_f32s()[0]),
            Some(_) => Err(x.bad("Clip bounds must be scalars")),
        }
    };
    let lo = bound(1, min, f32::MIN)?;
    let hi = bound(2, max, f32::MAX)?;
    let a = if lo == 0.0 && hi == f32::MAX {
        Activation::Relu
    } else {
        Activation::Clip { min: lo, max: hi }
    };
    infer(a, x)
}
