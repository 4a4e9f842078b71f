//! Shape rules of the SE excitation MLP `gate(w2 . hidden(w1 . s + b1) + b2)`, shared by
//! the GPU kernels (`kernels::excite`) and their CPU twins (`cpu::excite`) so both accept
//! exactly the same inputs.

use crate::error::{Error, Result};

/// `(rows, cols)` of a weight given as `[rows, cols]` or as a 1x1 convolution kernel
/// `[rows, cols, 1, 1]` (how ONNX stores SE weights).
pub fn matrix(what: &str, shape: &[usize]) -> Result<(usize, usize)> {
    match *shape {
        [rows, cols] | [rows, cols, 1, 1] => Ok((rows, cols)),
        _ => Err(Error::shape(what, "[R, C] or [R, C, 1, 1]", shape)),
    }
}

/// Checks the excitation operands' shapes and returns `(N, C, R)`.
pub fn excite_dims(
    s: &[usize],
    w1: &[usize],
    b1: &[usize],
    w2: &[usize],
    b2: &[usize],
) -> Result<(usize, usize, usize)> {
    let (n, c, r) = hidden_dims(s, w1, b1)?;
    if matrix("excite w2", w2)? != (c, r) {
        return Err(Error::shape("excite w2 (FC R -> C)", [c, r], w2));
    }
    if b2 != [c] {
        return Err(Error::shape("excite b2", [c], b2));
    }
    Ok((n, c, r))
}

/// Checks the first layer's operands and returns `(N, C, R)`.
pub fn hidden_dims(s: &[usize], w1: &[usize], b1: &[usize]) -> Result<(usize, usize, usize)> {
    let [n, c] = *s else {
        return Err(Error::shape("excite input", "[N, C]", s));
    };
    let (r, c1) = matrix("excite w1", w1)?;
    if n == 0 || c == 0 || r == 0 {
        return Err(Error::invalid(
            "excite",
            format!("empty operand: input {s:?}, w1 {w1:?}"),
        ));
    }
    if c1 != c {
        return Err(Error::shape("excite w1 (FC C -> R)", [r, c], w1));
    }
    if b1 != [r] {
        return Err(Error::shape("excite b1", [r], b1));
    }
    Ok((n, c, r))
}

/// Checks the second layer's operands and returns `(N, C, R)`.
pub fn gate_dims(h: &[usize], w2: &[usize], b2: &[usize]) -> Result<(usize, usize, usize)> {
    let [n, r] = *h else {
        return Err(Error::shape("excite hidden", "[N, R]", h));
    };
    let (c, r2) = matrix("excite w2", w2)?;
    if n == 0 || c == 0 || r == 0 {
        return Err(Error::invalid(
            "excite",
            format!("empty operand: hidden {h:?}, w2 {w2:?}"),
        ));
    }
    if r2 != r {
        return Err(Error::shape("excite w2 (FC R -> C)", [c, r], w2));
    }
    if b2 != [c] {
        return Err(Error::shape("excite b2", [c], b2));
    }
    Ok((n, c, r))
}
