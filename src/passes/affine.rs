//! Folds a Mul / Div / Add / Sub by a per-output-channel constant into the Conv or
//! MatMul before it: an "unfolded" BatchNorm (`conv * s + t`), a separate bias add,
//! a scale. The constant may vary along the output channel only (Conv: dim 1 of
//! NCHW, MatMul: the last dim).

use super::{Uses, fold_into, rewrite_all};
use crate::graph::Graph;
use crate::ops::{Activation, BinaryOp, Op};
use crate::tensor::HostTensor;

/// The per-channel values of constant `k` against an output of shape `out` whose
/// channel dimension is `axis`, or `None` if `k` varies along another dimension.
fn per_channel(k: &HostTensor, out: &[usize], axis: usize) -> Option<Vec<f32>> {
    let channels = out[axis];
    if k.shape.len() > out.len() {
        return None;
    }
    let offset = out.len() - k.shape.len();
    for (i, &d) in k.shape.iter().enumerate() {
        let along = i + offset == axis;
        if d != 1 && !(along && d == channels) {
            return None;
        }
    }
    Some(if k.len() == 1 {
        vec![k.data[0]; channels]
    } else {
        k.data.clone()
    })
}

/// A match: the Binary node, the Conv or MatMul before it, the op, its per-channel
/// constant and the producer's weights.
type Match = (usize, usize, BinaryOp, Vec<f32>, HostTensor);

pub fn run(g: &mut Graph) -> usize {
    rewrite_all(g, find, apply)
}

fn find(g: &Graph, uses: &Uses, i: usize) -> Option<Match> {
    let n = &g.nodes[i];
    let Op::Binary(op, Activation::Identity) = n.op else {
        return None;
    };
    if !op.is_arithmetic() {
        return None;
    }
    let (a, b) = (n.input(0)?, n.input(1)?);
    // (producer output, constant, whether the producer's output is the left operand)
    let candidates = [(a, b, true), (b, a, false)];
    candidates.into_iter().find_map(|(y, k, left)| {
        let commutes = matches!(op, BinaryOp::Add | BinaryOp::Mul);
        if !left && !commutes {
            return None;
        }
        let p = uses.producers[y]?;
        if !g.single_use(&uses.consumers, y) {
            return None;
        }
        let k = g.const_f32(k)?;
        let pn = &g.nodes[p];
        let (axis, w) = match &pn.op {
            Op::Conv(c) if c.act == Activation::Identity && pn.inputs.len() <= 3 => {
                (1, pn.input(1)?)
            }
            Op::MatMul {
                act: Activation::Identity,
            } if g.shape(pn.input(1)?).len() == 2 => (g.shape(y).len() - 1, pn.input(1)?),
            _ => return None,
        };
        let w = g.const_f32(w)?;
        if pn.input(2).is_some_and(|b| g.const_f32(b).is_none()) {
            return None;
        }
        let ch = per_channel(k, g.shape(y), axis)?;
        Some((i, p, op, ch, w.clone()))
    })
}

fn apply(g: &mut Graph, (i, p, op, ch, mut w): Match) -> bool {
    let pn = &g.nodes[p];
    let channels = ch.len();
    let mut bias = match pn.input(2).and_then(|b| g.const_f32(b)) {
        Some(b) => b.data.clone(),
        None => vec![0.0; channels],
    };
    let is_conv = matches!(pn.op, Op::Conv(_));
    // Conv weights are [Co, ...] (channel-major); MatMul weights [K, N] (channel-minor).
    let mut scale_w = |f: &dyn Fn(f32, f32) -> f32| {
        let per = w.len() / channels;
        for (idx, v) in w.data.iter_mut().enumerate() {
            let c = if is_conv { idx / per } else { idx % channels };
            *v = f(*v, ch[c]);
        }
    };
    match op {
        BinaryOp::Mul => scale_w(&|v, k| v * k),
        BinaryOp::Div => scale_w(&|v, k| v / k),
        _ => {}
    }
    for (b, &k) in bias.iter_mut().zip(&ch) {
        *b = match op {
            BinaryOp::Mul => *b * k,
            BinaryOp::Div => *b / k,
            BinaryOp::Add => *b + k,
            BinaryOp::Sub => *b - k,
            // `find` matches only the arithmetic ops.
            BinaryOp::Pow | BinaryOp::Max | BinaryOp::Min => *b,
        };
    }
    let bias = HostTensor {
        shape: vec![channels],
        data: bias,
    };
    fold_into(g, p, i, w, bias, "affine");
    true
}
