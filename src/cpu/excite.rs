//! CPU twin of `shaders/excite.wgsl`: the same sums (the shader splits each FC1 dot
//! product over a few invocations, so those may differ in the last bits).

// Index loops on purpose: they read line by line like the shader's.
#![allow(clippy::needless_range_loop)]

use super::activation::activate;
use crate::error::Result;
use crate::ops::Activation;
use crate::ops::excite::{excite_dims, gate_dims, hidden_dims};
use crate::tensor::HostTensor;
use crate::tensor::check_host;

pub fn excite(
    s: &HostTensor,
    w1: &HostTensor,
    b1: &HostTensor,
    hidden: Activation,
    w2: &HostTensor,
    b2: &HostTensor,
    gate: Activation,
) -> Result<HostTensor> {
    let (n_items, c_len, r_len) =
        excite_dims(&s.shape, &w1.shape, &b1.shape, &w2.shape, &b2.shape)?;
    for t in [s, w1, b1, w2, b2] {
        check_host("excite operand", t)?;
    }
    let mut out = vec![0.0f32; n_items * c_len];
    let mut h = vec![0.0f32; r_len];
    for n in 0..n_items {
        let row = n * c_len;
        for r in 0..r_len {
            let mut acc = 0.0;
            for c in 0..c_len {
                acc += w1.data[r * c_len + c] * s.data[row + c];
            }
            h[r] = activate(acc + b1.data[r], hidden);
        }
        for c in 0..c_len {
            let mut acc = b2.data[c];
            for r in 0..r_len {
                acc += w2.data[c * r_len + r] * h[r];
            }
            out[row + c] = activate(acc, gate);
        }
    }
    HostTensor::new(&[n_items, c_len], out)
}

/// CPU twin of `excite_layer`: `y[n, o] = act(w[o] . x[n] + bias[o])`, `[N, outputs]`.
fn layer(
    x: &HostTensor,
    w: &HostTensor,
    bias: &HostTensor,
    act: Activation,
    (n_items, inputs, outputs): (usize, usize, usize),
) -> Result<HostTensor> {
    for t in [x, w, bias] {
        check_host("excite operand", t)?;
    }
    let mut y = vec![0.0f32; n_items * outputs];
    for n in 0..n_items {
        for o in 0..outputs {
            let mut acc = 0.0;
            for j in 0..inputs {
                acc += w.data[o * inputs + j] * x.data[n * inputs + j];
            }
            y[n * outputs + o] = activate(acc + bias.data[o], act);
        }
    }
    HostTensor::new(&[n_items, outputs], y)
}

/// CPU twin of `excite_hidden`: `out[n, r] = hidden(w1[r] . s[n] + b1[r])`, `[N, R]`.
pub fn excite_hidden(
    s: &HostTensor,
    w1: &HostTensor,
    b1: &HostTensor,
    hidden: Activation,
) -> Result<HostTensor> {
    let (n, c, r) = hidden_dims(&s.shape, &w1.shape, &b1.shape)?;
    layer(s, w1, b1, hidden, (n, c, r))
}

/// CPU twin of `excite_gate`: `out[n, c] = gate(w2[c] . h[n] + b2[c])`, `[N, C]`.
pub fn excite_gate(
    h: &HostTensor,
    w2: &HostTensor,
    b2: &HostTensor,
    gate: Activation,
) -> Result<HostTensor> {
    let (n, c, r) = gate_dims(&h.shape, &w2.shape, &b2.shape)?;
    layer(h, w2, b2, gate, (n, r, c))
}
