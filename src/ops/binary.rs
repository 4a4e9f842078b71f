//! Elementwise binary ops with NumPy broadcasting (GPU: `kernels::binary`; CPU twin
//! `cpu::binary`).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Add = 0,
    Sub = 1,
    Mul = 2,
    Div = 3,
}

impl BinaryOp {
    pub const ALL: [BinaryOp; 4] = [BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div];
}

/// Highest rank a broadcast elementwise op runs at.
pub const MAX_RANK: usize = 8;
