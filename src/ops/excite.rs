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
    let names = ["input", "[N, C]", "w1", "C -> R", "b1"];
    let (n, c, r) = layer_dims(names, s, w1, b1)?;
    Ok((n, c, r))
}

/// Checks the second layer's operands and returns `(N, C, R)`.
pub fn gate_dims(h: &[usize], w2: &[usize], b2: &[usize]) -> Result<(usize, usize, usize)> {
    let names = ["hidden", "[N, R]", "w2", "R -> C", "b2"];
    let (n, r, c) = layer_dims(names, h, w2, b2)?;
    Ok((n, c, r))
}

/// One fully connected layer: input `x [N, in]`, weights `w [out, in]`, bias
/// `b [out]`, named in errors by `[input, its dims, weights, in -> out, bias]`;
/// returns `(N, in, out)`.
fn layer_dims(
    [input, dims, weights, fc, bias]: [&str; 5],
    x: &[usize],
    w: &[usize],
    b: &[usize],
) -> Result<(usize, usize, usize)> {
    let [n, inputs] = *x else {
        return Err(Error::shape(format!("excite {input}"), dims, x));
    };
    let (outputs, w_inputs) = matrix(&format!("excite {weights}"), w)?;
    if n == 0 || inputs == 0 || outputs == 0 {
        return Err(Error::invalid(
            "excite",
            format!("empty operand: {input} {x:?}, {weights} {w:?}"),
        ));
    }
    if w_inputs != inputs {
        return Err(Error::shape(
            format!("excite {weights} (FC {fc})"),
            [outputs, inputs],
            w,
        ));
    }
    if b != [outputs] {
        return Err(Error::shape(format!("excite {bias}"), [outputs], b));
    }
    Ok((n, inputs, outputs))
}
