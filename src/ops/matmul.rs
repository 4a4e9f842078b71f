//! Matrix multiplication with NumPy semantics: its shape rule (GPU: `kernels::matmul`;
//! CPU twin `cpu::matmul`).

use crate::tensor::broadcast_shapes;

/// NumPy matmul shapes: `(a as [.., M, K], b as [.., K, N], result as [.., M, N],
/// result as ONNX reports it (1-D operands drop their dimension))`.
pub type MatMulShapes = (Vec<usize>, Vec<usize>, Vec<usize>, Vec<usize>);

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
