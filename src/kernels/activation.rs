//! The activation functions that kernels fuse into their outputs
//! (`shaders/activation.wgsl`; CPU twin `crate::cpu::activation`).

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

    /// `(kind, a, b)` as the shaders' `activate(x, kind, a, b)` takes them.
    pub fn code(self) -> (u32, f32, f32) {
        match self {
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
}
