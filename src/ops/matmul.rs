//! Matrix multiplication with NumPy semantics: its shape rule (GPU: `kernels::matmul`;
//! CPU twin `cpu::matmul`).

use super::Op;
use super::binary::check_rank;
use super::infer::{InferResult, Inferred, Inputs};
use crate::error::{Error, Result};
use crate::tensor::broadcast_shapes;

/// NumPy matmul shapes: `(a as [.., M, K], b as [.., K, N], result as [.., M, N],
/// result as ONNX reports it (1-D operands drop their dimension))`.
pub type MatMulShapes = (Vec<usize>, Vec<usize>, Vec<usize>, Vec<usize>);

/// `[M, K, N]` of a product of `a` `[..., M, K]` and `b` `[..., K, N]`, the operands
/// both kernels and their CPU twin take.
pub fn matrix_dims(sa: &[usize], sb: &[usize]) -> Result<[usize; 3]> {
    if sa.len() < 2 || sb.len() < 2 {
        return Err(Error::invalid(
            "matmul",
            format!("operands need rank >= 2, got {sa:?} x {sb:?}"),
        ));
    }
    let (m, k) = (sa[sa.len() - 2], sa[sa.len() - 1]);
    let (kb, n) = (sb[sb.len() - 2], sb[sb.len() - 1]);
    if k != kb {
        return Err(Error::shape("matmul inner dimension", [m, k], [kb, n]));
    }
    Ok([m, k, n])
}

pub fn matmul_shapes(a: &[usize], b: &[usize]) -> Option<MatMulShapes> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let a2: Vec<usize> = if a.len() == 1 {
        vec![1, a[0]]
    } else {
        a.to_vec()
    };
    let b2: Vec<usize> = if b.len() == 1 {
        vec![b[0], 1]
    } else {
        b.to_vec()
    };
    let (m, k) = (a2[a2.len() - 2], a2[a2.len() - 1]);
    let (k2, n) = (b2[b2.len() - 2], b2[b2.len() - 1]);
    if k != k2 {
        return None;
    }
    let batch = broadcast_shapes(&a2[..a2.len() - 2], &b2[..b2.len() - 2]).ok()?;
    let mut full = batch.clone();
    full.extend([m, n]);
    let mut onnx = batch;
    if a.len() > 1 {
        onnx.push(m);
    }
    if b.len() > 1 {
        onnx.push(n);
    }
    Some((a2, b2, full, onnx))
}

/// MatMul `[a, b, bias?]` with NumPy semantics.
pub fn infer(op: &Op, x: &Inputs) -> InferResult<Inferred> {
    x.floats_only()?;
    let (a, b) = (x.shape(0)?, x.shape(1)?);
    let Some((_, _, _, out)) = matmul_shapes(a, b) else {
        return Err(x.bad(format!("cannot multiply {a:?} by {b:?}")));
    };
    check_rank(out.len())?;
    Inferred::tensor(op.clone(), out)
}

/// Gemm `alpha * A' @ B' + beta * C` over 2-D operands.
/// `op` is the Gemm itself, kept as it is (the `gemm` pass lowers it).
pub fn infer_gemm(op: &Op, trans_a: bool, trans_b: bool, x: &Inputs) -> InferResult<Inferred> {
    x.floats_only()?;
    let (a, b) = (x.shape(0)?, x.shape(1)?);
    if a.len() != 2 || b.len() != 2 {
        return Err(x.bad(format!("Gemm needs 2-D inputs, got {a:?} and {b:?}")));
    }
    let (m, k) = if trans_a { (a[1], a[0]) } else { (a[0], a[1]) };
    let (k2, n) = if trans_b { (b[1], b[0]) } else { (b[0], b[1]) };
    if k != k2 {
        return Err(x.bad(format!(
            "inner dimensions differ: A {a:?} (transA={trans_a}), B {b:?} (transB={trans_b})"
        )));
    }
    if let Some(c) = x.get(2)
        && broadcast_shapes(c.shape, &[m, n]).ok().as_deref() != Some(&[m, n][..])
    {
        return Err(x.bad(format!(
            "C of shape {:?} does not broadcast to [{m}, {n}]",
            c.shape
        )));
    }
    Inferred::tensor(op.clone(), vec![m, n])
}
