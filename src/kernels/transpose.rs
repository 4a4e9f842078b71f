//! Axis permutation of tensors up to rank 6 (`shaders/transpose.wgsl`; CPU twin
//! `crate::cpu::transpose`), ONNX Transpose semantics: output axis `d` is input axis
//! `perm[d]`.

use super::{
    Dispatch, ELEMENTWISE_WORKGROUP, Shader, distinct_output, grid, groups, shader, uniform,
};
use crate::device::Runtime;
use crate::device::Tensor;
use crate::error::{Error, Result};
use crate::ops::transpose::transpose_shape;

/// An equivalent, smaller problem: size-1 axes dropped and input axes that stay
/// adjacent and in order merged (NCHW -> NHWC becomes [N, C, H*W] with perm [0, 2, 1]),
/// so the shader decodes fewer coordinates. Returns (input dims, perm).
fn simplify(shape: &[usize], perm: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let kept: Vec<usize> = (0..shape.len()).filter(|&a| shape[a] != 1).collect();
    let renumber = |a: usize| kept.iter().position(|&k| k == a).unwrap_or(0);
    let perm: Vec<usize> = perm
        .iter()
        .filter(|&&a| shape[a] != 1)
        .map(|&a| renumber(a))
        .collect();
    let dims: Vec<usize> = kept.iter().map(|&a| shape[a]).collect();
    // Runs of consecutive input axes, in output order.
    let mut runs: Vec<Vec<usize>> = Vec::new();
    for &a in &perm {
        match runs.last_mut() {
            Some(run) if run.last().map(|&l| l + 1) == Some(a) => run.push(a),
            _ => runs.push(vec![a]),
        }
    }
    // Each run becomes one input axis; runs sorted by first axis give the input order.
    let mut order: Vec<usize> = (0..runs.len()).collect();
    order.sort_by_key(|&r| runs[r][0]);
    let in_dims = order
        .iter()
        .map(|&r| runs[r].iter().map(|&a| dims[a]).product())
        .collect();
    let perm = (0..runs.len())
        .map(|r| order.iter().position(|&o| o == r).unwrap_or(0))
        .collect();
    (in_dims, perm)
}

pub const SHADER: Shader = shader!("transpose", ["shared/grid", "shared/x_to_y", "transpose"]);

uniform! {
    struct Params {
        len: u32,
        rank: u32,
        offset: u32,
        _pad: u32,
        out_dims: [u32; 8],
        src_strides: [i32; 8],
    }
}

/// The shader's gather into `y`: from `offset`, per output dimension `(size, input
/// stride)` (at most 8).
pub(super) fn gather(
    rt: &Runtime,
    x: &Tensor,
    offset: usize,
    dims: &[(usize, i64)],
    y: &Tensor,
) -> Result<Dispatch> {
    if dims.len() > 8 {
        return Err(Error::invalid(
            "transpose",
            format!("rank {} is over 8", dims.len()),
        ));
    }
    let mut params = Params {
        len: y.len() as u32,
        rank: dims.len() as u32,
        offset: offset as u32,
        _pad: 0,
        out_dims: [0; 8],
        src_strides: [0; 8],
    };
    for (d, &(n, s)) in dims.iter().enumerate() {
        params.out_dims[d] = n as u32;
        params.src_strides[d] = s as i32;
    }
    let wg = grid(rt, groups(y.len(), ELEMENTWISE_WORKGROUP));
    rt.dispatch(SHADER, "transpose", &[], &params, &[x, y], wg)
}

/// `y = transpose(x, perm)`.
pub fn transpose(rt: &Runtime, x: &Tensor, perm: &[usize], y: &Tensor) -> Result<Dispatch> {
    let shape = transpose_shape(x.shape(), perm)?;
    if y.shape() != shape.as_slice() {
        return Err(Error::shape("transpose output", &shape, y.shape()));
    }
    distinct_output("transpose", &[x], y)?;
    let (in_dims, perm) = simplify(x.shape(), perm);
    let mut in_strides = vec![1; in_dims.len()];
    for d in (0..in_dims.len().saturating_sub(1)).rev() {
        in_strides[d] = in_strides[d + 1] * in_dims[d + 1];
    }
    let dims: Vec<(usize, i64)> = perm
        .iter()
        .map(|&a| (in_dims[a], in_strides[a] as i64))
        .collect();
    gather(rt, x, 0, &dims, y)
}

#[cfg(test)]
mod tests {
    use super::simplify;

    #[test]
    fn simplify_merges_adjacent_axes_and_drops_ones() {
        // NCHW -> NHWC: H and W stay adjacent.
        assert_eq!(
            simplify(&[2, 3, 4, 5], &[0, 2, 3, 1]),
            (vec![2, 3, 20], vec![0, 2, 1])
        );
        // NHWC -> NCHW.
        assert_eq!(
            simplify(&[2, 4, 5, 3], &[0, 3, 1, 2]),
            (vec![2, 20, 3], vec![0, 2, 1])
        );
        // Identity and size-1 axes collapse to one axis; all ones to none.
        assert_eq!(simplify(&[2, 3, 4], &[0, 1, 2]), (vec![24], vec![0]));
        assert_eq!(simplify(&[1, 3, 1, 4], &[2, 1, 0, 3]), (vec![12], vec![0]));
        assert_eq!(
            simplify(&[1, 3, 1, 4], &[2, 3, 0, 1]),
            (vec![3, 4], vec![1, 0])
        );
        assert_eq!(simplify(&[1, 1], &[1, 0]), (vec![], vec![]));
        assert_eq!(
            simplify(&[2, 3, 4, 5, 6, 7], &[5, 4, 3, 2, 1, 0]).1,
            [5, 4, 3, 2, 1, 0]
        );
        assert_eq!(
            simplify(&[2, 3, 4, 5, 6, 7], &[4, 5, 0, 1, 2, 3]),
            (vec![120, 42], vec![1, 0])
        );
    }
}
