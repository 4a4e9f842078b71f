//! Axis permutation, ONNX Transpose semantics: output axis `d` is input axis `perm[d]`
//! (GPU: `kernels::transpose`; CPU twin `cpu::transpose`).

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
