//! BatchNormalization at inference is a per-channel affine map
//! `y = x * s + t`, `s = gamma / sqrt(var + eps)`, `t = beta - mean * s`.
//! [`fold`] merges it into the convolution before it (`w' = w * s`, `b' = b * s + t`,
//! by [`fold_batch_norm`]);
//! [`lower`] turns the rest into a Mul and an Add by per-channel constants.

use super::{Uses, add_f32, add_tensor, binary_node, fold_into, rewrite_all};
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::ops::{Activation, BinaryOp, Op};
use crate::tensor::HostTensor;

/// `(s, t)` of the BatchNorm node `i` (its parameters are constants: checked by inference).
fn scale_shift(g: &Graph, i: usize) -> Option<(Vec<f32>, Vec<f32>)> {
    let n = &g.nodes[i];
    let Op::BatchNorm { epsilon } = n.op else {
        return None;
    };
    let p = |k: usize| g.const_f32(n.input(k)?).map(|t| &t.data);
    let (gamma, beta, mean, var) = (p(1)?, p(2)?, p(3)?, p(4)?);
    let s: Vec<f32> = gamma
        .iter()
        .zip(var)
        .map(|(&gm, &v)| gm / (v + epsilon).sqrt())
        .collect();
    let t = beta
        .iter()
        .zip(mean)
        .zip(&s)
        .map(|((&b, &m), &s)| b - m * s)
        .collect();
    Some((s, t))
}

pub fn fold(g: &mut Graph) -> usize {
    rewrite_all(g, foldable, |g, (i, c, (w, b))| {
        fold_into(g, c, i, w, b, "bn");
        true
    })
}

/// BatchNorm node `i` after a Conv it folds into: `(i, the conv, (w', b'))`.
fn foldable(g: &Graph, uses: &Uses, i: usize) -> Option<(usize, usize, (HostTensor, HostTensor))> {
    let bn = &g.nodes[i];
    let Op::BatchNorm { epsilon } = bn.op else {
        return None;
    };
    let x = bn.input(0)?;
    let c = uses.producers[x]?;
    let conv = &g.nodes[c];
    let Op::Conv(cv) = &conv.op else {
        return None;
    };
    let foldable = cv.act == Activation::Identity
        && conv.inputs.len() <= 3
        && g.single_use(&uses.consumers, x);
    if !foldable {
        return None;
    }
    let w = g.const_f32(conv.input(1)?)?;
    let b = match conv.input(2) {
        Some(b) => Some(g.const_f32(b)?),
        None => None,
    };
    let p = |k: usize| g.const_f32(bn.input(k)?);
    let (gamma, beta, mean, var) = (p(1)?, p(2)?, p(3)?, p(4)?);
    let folded = fold_batch_norm(w, b, gamma, beta, mean, var, epsilon).ok()?;
    Some((i, c, folded))
}

pub fn lower(g: &mut Graph) -> usize {
    let mut count = 0;
    while let Some(i) = g
        .nodes
        .iter()
        .position(|n| matches!(n.op, Op::BatchNorm { .. }))
    {
        let Some((s, t)) = scale_shift(g, i) else {
            // Inference guarantees constant parameters; keep the graph unchanged otherwise.
            return count;
        };
        let bn = g.nodes[i].clone();
        let x = bn.input(0).unwrap_or_default();
        let shape = g.shape(x).to_vec();
        // [C, 1, ..., 1] broadcasts against [N, C, ...].
        let mut pshape = vec![1; shape.len() - 1];
        pshape[0] = s.len();
        let sv = add_f32(
            g,
            format!("{}/scale", bn.name),
            HostTensor {
                shape: pshape.clone(),
                data: s,
            },
        );
        let tv = add_f32(
            g,
            format!("{}/shift", bn.name),
            HostTensor {
                shape: pshape,
                data: t,
            },
        );
        let mid = add_tensor(g, format!("{}/scaled", bn.name), shape);
        let mul = binary_node(format!("{}/scale", bn.name), BinaryOp::Mul, x, sv, mid);
        let add = binary_node(
            format!("{}/shift", bn.name),
            BinaryOp::Add,
            mid,
            tv,
            bn.outputs[0],
        );
        g.nodes.splice(i..=i, [mul, add]);
        count += 1;
    }
    count
}

/// Folds inference batch norm into the preceding convolution: returns `(w', b')` with
/// `conv(x, w') + b' == batch_norm(conv(x, w) + bias)`. `w` is `[Co, ...]`, `bias`
/// and the batch-norm tensors `[Co]`.
pub fn fold_batch_norm(
    w: &HostTensor,
    bias: Option<&HostTensor>,
    gamma: &HostTensor,
    beta: &HostTensor,
    mean: &HostTensor,
    var: &HostTensor,
    eps: f32,
) -> Result<(HostTensor, HostTensor)> {
    let Some(&co) = w.shape.first() else {
        return Err(Error::shape(
            "fold_batch_norm weights",
            "[Co, ...]",
            &w.shape,
        ));
    };
    let named = [
        ("bias", bias),
        ("gamma", Some(gamma)),
        ("beta", Some(beta)),
        ("mean", Some(mean)),
        ("var", Some(var)),
    ];
    for (name, t) in named {
        if let Some(t) = t
            && t.shape != [co]
        {
            return Err(Error::shape(
                format!("fold_batch_norm {name}"),
                [co],
                &t.shape,
            ));
        }
    }
    let per_channel = w.len().checked_div(co).unwrap_or(0);
    let mut folded_w = w.data.clone();
    let mut folded_b = Vec::with_capacity(co);
    for c in 0..co {
        let scale = gamma.data[c] / (var.data[c] + eps).sqrt();
        for v in &mut folded_w[c * per_channel..(c + 1) * per_channel] {
            *v *= scale;
        }
        let b = bias.map_or(0.0, |t| t.data[c]);
        folded_b.push((b - mean.data[c]) * scale + beta.data[c]);
    }
    Ok((
        HostTensor::new(&w.shape, folded_w)?,
        HostTensor::new(&[co], folded_b)?,
    ))
}
