//! Axis permutation, ONNX Transpose semantics: output axis `d` is input axis `perm[d]`
//! (GPU: `kernels::transpose`; CPU twin `cpu::transpose`).

use super::Op;
use super::infer::{InferResult, Inferred, Inputs, unsupported};
use super::view::view;
use crate::error::{Error, Result};

/// Highest rank the layout kernels (transpose, pad) accept.
pub const MAX_RANK: usize = 6;

/// The output shape of `x` permuted by `perm`, after checking `perm` is a permutation
/// of `0..rank` and the rank is at most [`MAX_RANK`].
pub fn transpose_shape(x: &[usize], perm: &[usize]) -> Result<Vec<usize>> {
    if x.len() > MAX_RANK {
        return Err(Error::invalid(
            "transpose",
            format!("rank {} is over the supported {MAX_RANK}", x.len()),
        ));
    }
    let mut seen = [false; MAX_RANK];
    let valid = perm.len() == x.len()
        && perm
            .iter()
            .all(|&a| a < x.len() && !std::mem::replace(&mut seen[a], true));
    if !valid {
        return Err(Error::invalid(
            "transpose",
            format!(
                "{perm:?} is not a permutation of the axes of a rank-{} tensor",
                x.len()
            ),
        ));
    }
    Ok(perm.iter().map(|&a| x[a]).collect())
}

/// Transpose by `perm` (default: reversed axes): folded when its input is a
/// constant, a `View` when it keeps the order.
pub fn infer(perm: Option<&[i64]>, x: &Inputs) -> InferResult<Inferred> {
    let xs = x.shape(0)?.to_vec();
    let r = xs.len();
    let perm: Vec<usize> = match perm {
        Some(p) => {
            let not_a_permutation = || x.bad(format!("perm {p:?} is not a permutation of 0..{r}"));
            let mut seen = vec![false; r];
            let mut out = Vec::with_capacity(r);
            for &a in p {
                match usize::try_from(a) {
                    Ok(a) if a < r && !seen[a] => {
                        seen[a] = true;
                        out.push(a);
                    }
                    _ => return Err(not_a_permutation()),
                }
            }
            if out.len() != r {
                return Err(not_a_permutation());
            }
            out
        }
        None => (0..r).rev().collect(),
    };
    let shape: Vec<usize> = perm.iter().map(|&p| xs[p]).collect();
    if let Some(k) = x.konst(0) {
        return Inferred::constant(Op::Transpose { perm }, shape, k.dtype());
    }
    x.floats_only()?;
    if perm.iter().enumerate().all(|(i, &p)| i == p) {
        return view(x, shape);
    }
    if r > MAX_RANK {
        unsupported!("rank {r} is over the supported {MAX_RANK}");
    }
    Inferred::tensor(Op::Transpose { perm }, shape)
}
