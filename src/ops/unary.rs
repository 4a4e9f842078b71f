//! Elementwise math functions that are not fused activations: rounding, roots,
//! exponentials, Erf and Gelu (GPU: `kernels::unary::unary_op`; CPU twin
//! `cpu::unary::unary_op`).

use super::Op;
use super::infer::{InferResult, Inferred, Inputs};
use crate::tensor::DType;

/// An elementwise function; its discriminant (declaration order) is the shader's `kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Ceil,
    Floor,
    /// Half to even, as ONNX rounds.
    Round,
    Sqrt,
    Reciprocal,
    Exp,
    Log,
    Neg,
    Abs,
    Erf,
    /// `0.5 x (1 + erf(x / sqrt 2))` (Gelu, approximate = "none").
    Gelu,
    /// `0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))` (approximate = "tanh").
    GeluTanh,
}

impl UnaryOp {
    pub const ALL: [UnaryOp; 12] = {
        use UnaryOp::*;
        [
            Ceil, Floor, Round, Sqrt, Reciprocal, Exp, Log, Neg, Abs, Erf, Gelu, GeluTanh,
        ]
    };
}

/// A unary function: folded when its input is a constant.
pub fn infer(u: UnaryOp, x: &Inputs) -> InferResult<Inferred> {
    let input = x.input(0)?;
    let shape = input.shape.to_vec();
    if input.value.is_some() {
        return Inferred::constant(Op::Unary(u), shape, DType::F32);
    }
    x.data_f32()?;
    Inferred::tensor(Op::Unary(u), shape)
}
