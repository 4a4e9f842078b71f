//! BatchNormalization at inference: a per-channel affine map with constant
//! statistics, folded into a convolution or lowered to Mul + Add by the passes.

use super::Op;
use super::infer::{InferResult, Inferred, Inputs, unsupported};

/// `[x, scale, bias, mean, var]`: every parameter a constant `[C]`.
pub fn infer(op: &Op, x: &Inputs) -> InferResult<Inferred> {
    x.floats_only()?;
    let xs = x.shape(0)?.to_vec();
    if xs.len() < 2 {
        return Err(x.bad(format!("input of shape {xs:?} has no channel dimension")));
    }
    for i in 1..5 {
        if x.shape(i)? != [xs[1]] {
            return Err(x.bad(format!(
                "parameter {i} has shape {:?}, expected [{}]",
                x.shape(i)?,
                xs[1]
            )));
        }
        if x.konst(i).is_none() {
            unsupported!(
                "parameter {i} is computed at run time; only constant statistics are supported"
            );
        }
    }
    Inferred::tensor(op.clone(), xs)
}
