//! Elementwise math functions that are not fused activations: rounding, roots,
//! exponentials, Erf and Gelu (GPU: `kernels::unary::unary_op`; CPU twin
//! `cpu::unary::unary_op`).

use super::Op;
use super::infer::{InferResult, Inferred, Inputs};
use crate::tensor::DType;

/// An elementwise function; the discriminant is the shader's `kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Ceil = 0,
    Floor = 1,
    /// Half to even, as ONNX rounds.
    Round = 2,
    Sqrt = 3,
    Reciprocal = 4,
    Exp = 5,
    Log = 6,
    Neg = 7,
    Abs = 8,
    Erf = 9,
    /// `0.5 x (1 + erf(x / sqrt 2))` (Gelu, approximate = "none").
    Gelu = 10,
    /// `0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))` (approximate = "tanh").
    GeluTanh = 11,
}

impl UnaryOp {
    pub const ALL: [UnaryOp; 12] = [
        UnaryOp::Ceil,
        UnaryOp::Floor,
        UnaryOp::Round,
        UnaryOp::Sqrt,
        UnaryOp::Reciprocal,
        UnaryOp::Exp,
        UnaryOp::Log,
        UnaryOp::Neg,
        UnaryOp::Abs,
        UnaryOp::Erf,
        UnaryOp::Gelu,
        UnaryOp::GeluTanh,
    ];
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
