//! Elementwise binary ops with NumPy broadcasting (GPU: `kernels::binary`; CPU twin
//! `cpu::binary`).

use super::infer::{InferResult, Inferred, Inputs, unsupported};
use super::view::view;
use super::{Activation, Op};
use crate::tensor::{Const, DType, broadcast_shapes, check_elements};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Add = 0,
    Sub = 1,
    Mul = 2,
    Div = 3,
    /// `a ^ b`; a negative base needs an integral exponent (else NaN).
    Pow = 4,
    Max = 5,
    Min = 6,
}

impl BinaryOp {
    pub const ALL: [BinaryOp; 7] = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Pow,
        BinaryOp::Max,
        BinaryOp::Min,
    ];

    /// The four arithmetic operations, which folding into a producer's weights and
    /// bias understands.
    pub fn is_arithmetic(self) -> bool {
        matches!(
            self,
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div
        )
    }
}

/// Highest rank a broadcast elementwise op runs at.
pub const MAX_RANK: usize = 8;

/// `a OP b` with broadcasting: folded when both operands are constants (integer
/// ones included: shape arithmetic).
pub fn infer(op: BinaryOp, act: Activation, x: &Inputs) -> InferResult<Inferred> {
    let (sa, sb) = (x.shape(0)?, x.shape(1)?);
    let shape = broadcast_shapes(sa, sb)
        .map_err(|_| x.bad(format!("cannot broadcast {sa:?} with {sb:?}")))?;
    if let (Some(a), Some(b)) = (x.konst(0), x.konst(1)) {
        let dtype = common_dtype([a, b]);
        return Inferred::constant(Op::Binary(op, act), shape, dtype);
    }
    // Pow's exponent may be an integer constant (`passes::pow` makes it f32).
    if op == BinaryOp::Pow {
        x.data_f32()?;
    } else {
        x.floats_only()?;
    }
    check_rank(shape.len())?;
    Inferred::tensor(Op::Binary(op, act), shape)
}

/// The element type of an op over constants: i64 when all are, else f32.
pub fn common_dtype<'a>(consts: impl IntoIterator<Item = &'a Const>) -> DType {
    if consts.into_iter().all(|k| k.dtype() == DType::I64) {
        DType::I64
    } else {
        DType::F32
    }
}

/// Elementwise kernels index at most [`MAX_RANK`] dimensions.
pub fn check_rank(rank: usize) -> InferResult<()> {
    if rank > MAX_RANK {
        unsupported!("rank {rank} is over the supported {MAX_RANK}");
    }
    Ok(())
}

/// Expand `[x, shape]`: a NumPy broadcast of `x` to the constant target shape.
pub fn infer_expand(x: &Inputs) -> InferResult<Inferred> {
    let xs = x.shape(0)?.to_vec();
    let Some(target) = x.const_input(1, "the target shape")? else {
        return Err(x.bad("the shape input is missing"));
    };
    let target: Vec<usize> = target
        .to_i64s()
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| x.bad(format!("negative dimension {d}"))))
        .collect::<InferResult<_>>()?;
    check_elements("Expand target", &target)?;
    let shape = broadcast_shapes(&xs, &target)
        .map_err(|_| x.bad(format!("cannot expand {xs:?} to {target:?}")))?;
    if let Some(k) = x.konst(0) {
        return Inferred::constant(Op::Expand, shape, k.dtype());
    }
    x.data_f32()?;
    if shape == xs {
        return view(x, shape);
    }
    check_rank(shape.len())?;
    Inferred::tensor(Op::Expand, shape)
}
