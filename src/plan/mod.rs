//! The execution plan: a compiled graph as a flat list of kernel steps over numbered
//! activation buffers and constants, independent of the backend.
//!
//! Buffers are assigned by liveness: each computed value takes a free buffer when
//! its step runs and gives it back after its last reader, so activations share
//! buffers and the peak is far below the sum of all activations. A step never
//! writes a buffer it reads. Reshape-like ops cost nothing: their output is the same
//! buffer seen with another shape ([`Operand`]). Graph outputs and the SE blocks'
//! excitation vectors keep their buffers to the end, for the readback.

mod buffers;
mod build;
mod lower;

pub use build::build;

use std::sync::Arc;

use crate::ops::reduce::ReduceKind;
use crate::ops::slice::SliceAxis;
use crate::ops::{Activation, BinaryOp, Conv2dParams, PadMode, Pool2dParams, SqueezeMode, UnaryOp};
use crate::tensor::HostTensor;

/// Where an operand's data lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    /// An activation buffer (index into [`Plan::buffers`]).
    Buffer(usize),
    /// A constant (index into [`Plan::constants`]).
    Const(usize),
}

/// A value as a step sees it: its storage and the shape to view it with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operand {
    pub loc: Loc,
    pub shape: Vec<usize>,
}

impl Operand {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum StepOp {
    /// `y = act(conv(x, w) + bias + residual)`
    Conv(ConvStep),
    /// `y = act(a @ b + bias)`, operands already viewed as `[.., M, K]`, `[.., K, N]`.
    MatMul {
        a: Operand,
        b: Operand,
        bias: Option<Operand>,
        act: Activation,
        y: Operand,
    },
    Unary {
        x: Operand,
        act: Activation,
        y: Operand,
    },
    /// `y = f(x)` elementwise.
    Math {
        x: Operand,
        op: UnaryOp,
        y: Operand,
    },
    Binary {
        op: BinaryOp,
        a: Operand,
        b: Operand,
        act: Activation,
        y: Operand,
    },
    /// Mean / max of each `[n, c]` plane of `x` (viewed as NCHW) into `y` `[N, C]`.
    Squeeze {
        x: Operand,
        mode: SqueezeMode,
        y: Operand,
    },
    /// `x` reduced over the sorted `axes`; `y` has the reduced dimensions as 1.
    Reduce {
        x: Operand,
        kind: ReduceKind,
        axes: Vec<usize>,
        y: Operand,
    },
    Pool {
        x: Operand,
        mode: SqueezeMode,
        params: Pool2dParams,
        y: Operand,
    },
    /// Softmax along `axis`, or its logarithm with `log`.
    Softmax {
        x: Operand,
        axis: usize,
        log: bool,
        y: Operand,
    },
    Concat {
        xs: Vec<Operand>,
        axis: usize,
        y: Operand,
    },
    Transpose {
        x: Operand,
        perm: Vec<usize>,
        y: Operand,
    },
    LayerNorm(LayerNormStep),
    /// The box of `x` that `axes` (one per dimension) select.
    Slice {
        x: Operand,
        axes: Vec<SliceAxis>,
        y: Operand,
    },
    /// `x` cut along `axis` into `ys`, in order.
    Split {
        x: Operand,
        axis: usize,
        ys: Vec<Operand>,
    },
    Pad {
        x: Operand,
        pads: Vec<usize>,
        kind: PadMode,
        y: Operand,
    },
    /// squeeze -> excite -> scale.
    SeBlock(SeStep),
}

/// `x` viewed as `[rows, n]`, each row normalised, times `scale`, plus `bias`; each
/// row's mean and inverse standard deviation into `mean` and `inv_std` (`[rows]`,
/// scratch when the graph does not read them).
#[derive(Clone, Debug, PartialEq)]
pub struct LayerNormStep {
    pub x: Operand,
    /// One value per row element, or one for all.
    pub scale: Operand,
    pub bias: Option<Operand>,
    pub epsilon: f32,
    pub y: Operand,
    pub mean: Operand,
    pub inv_std: Operand,
}

/// A convolution's step: `y = act(conv(x, w) + bias + residual)`.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvStep {
    pub x: Operand,
    /// `[C_out, C_in / groups, kh, kw]`.
    pub w: Operand,
    /// `[C_out]`.
    pub bias: Option<Operand>,
    /// Shaped as `y`, added before the activation.
    pub residual: Option<Operand>,
    pub conv: Conv2dParams,
    pub act: Activation,
    pub y: Operand,
}

/// An SE block's step: its operands and activations, one struct that every backend
/// reads by field.
#[derive(Clone, Debug, PartialEq)]
pub struct SeStep {
    pub x: Operand,
    pub w1: Operand,
    pub b1: Operand,
    pub w2: Operand,
    pub b2: Operand,
    pub residual: Option<Operand>,
    pub pooling: SqueezeMode,
    pub hidden: Activation,
    pub gate: Activation,
    pub act: Activation,
    /// A scratch `[N, C]` buffer for the pooled vector.
    pub squeezed: Operand,
    pub excitation: Operand,
    pub y: Operand,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The node's name (the SE block's name for SE blocks).
    pub name: String,
    /// A short description of the op and its fusions, e.g. `Conv+Relu`.
    pub label: String,
    /// The shape of the step's (first) output as the graph has it.
    pub output: Vec<usize>,
    pub op: StepOp,
}

impl Step {
    /// Multiply-accumulates of the step.
    pub fn macs(&self) -> u64 {
        let n = |s: &[usize]| s.iter().product::<usize>() as u64;
        match &self.op {
            StepOp::Conv(ConvStep { w, y, .. }) => n(&y.shape) * n(&w.shape[1..]),
            StepOp::MatMul { a, y, .. } => n(&y.shape) * a.shape[a.shape.len() - 1] as u64,
            StepOp::SeBlock(se) => {
                n(&se.excitation.shape[..1]) * (n(&se.w1.shape) + n(&se.w2.shape)) + n(&se.y.shape)
            }
            _ => 0,
        }
    }
}

/// A named value the caller writes (inputs) or reads (outputs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub name: String,
    pub operand: Operand,
}

/// An SE block's excitation buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExcitationSlot {
    pub block: String,
    pub channels: usize,
    /// `[N, C]`
    pub operand: Operand,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub batch: usize,
    pub constants: Vec<Arc<HostTensor>>,
    /// Capacity of each activation buffer, in f32 elements.
    pub buffers: Vec<usize>,
    pub steps: Vec<Step>,
    pub inputs: Vec<Binding>,
    pub outputs: Vec<Binding>,
    pub excitations: Vec<ExcitationSlot>,
    /// Sum of the sizes of all values placed in buffers, in f32 elements: what the
    /// plan would need without buffer sharing.
    pub unshared_elements: usize,
}

impl Plan {
    /// Bytes of all activation buffers together.
    pub fn buffer_bytes(&self) -> usize {
        self.buffers.iter().sum::<usize>() * 4
    }

    pub fn constant_bytes(&self) -> usize {
        self.constants.iter().map(|c| c.len() * 4).sum()
    }

    pub fn macs(&self) -> u64 {
        self.steps.iter().map(Step::macs).sum()
    }
}
