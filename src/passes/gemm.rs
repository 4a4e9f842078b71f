//! Gemm `alpha * A' @ B' + beta * C` -> MatMul with bias. With constant operands
//! (the usual Linear layer) the transposes and scalars fold into the weights and
//! the bias; otherwise explicit Transpose / Mul / Add nodes are inserted.

use super::{add_f32, add_scalar, add_tensor, binary_node, node};
use crate::graph::{Graph, Node, ValueId};
use crate::ops::{Activation, BinaryOp, Op};
use crate::tensor::HostTensor;

/// `t` (2-D) transposed, in 32x32 tiles: classifier weights reach 10^8 elements and
/// an untiled transpose misses the cache on every write.
pub(crate) fn transposed(t: &HostTensor) -> HostTensor {
    const TILE: usize = 32;
    let (r, c) = (t.shape[0], t.shape[1]);
    let mut data = vec![0.0; t.len()];
    for i0 in (0..r).step_by(TILE) {
        for j0 in (0..c).step_by(TILE) {
            for i in i0..(i0 + TILE).min(r) {
                for j in j0..(j0 + TILE).min(c) {
                    data[j * r + i] = t.data[i * c + j];
                }
            }
        }
    }
    HostTensor {
        shape: vec![c, r],
        data,
    }
}

fn scaled(t: HostTensor, k: f32) -> HostTensor {
    if k == 1.0 {
        return t;
    }
    HostTensor {
        data: t.data.iter().map(|v| v * k).collect(),
        ..t
    }
}

pub fn run(g: &mut Graph) -> usize {
    let mut count = 0;
    while let Some(i) = g.nodes.iter().position(|n| matches!(n.op, Op::Gemm { .. })) {
        let gemm = g.nodes.remove(i);
        let Op::Gemm {
            alpha,
            beta,
            trans_a,
            trans_b,
        } = gemm.op
        else {
            continue;
        };
        let name = gemm.name.clone();
        let out = gemm.outputs[0];
        let [m, n] = [g.shape(out)[0], g.shape(out)[1]];
        let mut nodes: Vec<Node> = Vec::new();
        let mut transpose = |g: &mut Graph, v: ValueId, what: &str| -> ValueId {
            if let Some(t) = g.const_f32(v).cloned() {
                return add_f32(g, format!("{name}/{what}_t"), transposed(&t));
            }
            let s = g.shape(v);
            let t = add_tensor(g, format!("{name}/{what}_t"), vec![s[1], s[0]]);
            nodes.push(node(
                format!("{name}/transpose_{what}"),
                "Transpose",
                Op::Transpose { perm: vec![1, 0] },
                vec![Some(v)],
                t,
            ));
            t
        };
        let mut a = gemm.input(0).unwrap_or_default();
        if trans_a {
            a = transpose(g, a, "a");
        }
        let b0 = gemm.input(1).unwrap_or_default();
        let (b, alpha_left) = match g.const_f32(b0) {
            Some(_) if !trans_b && alpha == 1.0 => (b0, 1.0),
            Some(t) => {
                // Transposed and scaled once here rather than on every inference.
                let t = scaled(if trans_b { transposed(t) } else { t.clone() }, alpha);
                (add_f32(g, format!("{name}/weight"), t), 1.0)
            }
            None if trans_b => (transpose(g, b0, "b"), alpha),
            None => (b0, alpha),
        };
        // A bias that is the same for every row becomes the MatMul's [N] bias.
        let c = gemm.input(2).filter(|_| beta != 0.0);
        let (bias, c_left) = match c.map(|c| (c, g.const_f32(c).cloned())) {
            Some((_, Some(t))) if t.len() == 1 || t.shape.iter().rev().skip(1).all(|&d| d == 1) => {
                let data = if t.len() == 1 {
                    vec![t.data[0]; n]
                } else {
                    t.data.clone()
                };
                let bias = scaled(
                    HostTensor {
                        shape: vec![n],
                        data,
                    },
                    beta,
                );
                (Some(add_f32(g, format!("{name}/bias"), bias)), None)
            }
            Some((_, Some(t))) => (None, Some(add_f32(g, format!("{name}/c"), scaled(t, beta)))),
            Some((cv, None)) if beta != 1.0 => {
                let k = add_scalar(g, format!("{name}/beta"), beta);
                let scaled_c = add_tensor(g, format!("{name}/beta_c"), g.shape(cv).to_vec());
                let (scale_c, mul) = (format!("{name}/scale_c"), BinaryOp::Mul);
                nodes.push(binary_node(scale_c, mul, cv, k, scaled_c));
                (None, Some(scaled_c))
            }
            Some((cv, None)) => (None, Some(cv)),
            None => (None, None),
        };
        let after = [alpha_left != 1.0, c_left.is_some()];
        let mm_out = if after.iter().any(|&x| x) {
            add_tensor(g, format!("{name}/matmul"), vec![m, n])
        } else {
            out
        };
        nodes.push(Node {
            name: name.clone(),
            op_type: "Gemm".into(),
            op: Op::MatMul {
                act: Activation::Identity,
            },
            inputs: vec![Some(a), Some(b), bias],
            outputs: vec![mm_out],
        });
        let mut last = mm_out;
        if alpha_left != 1.0 {
            let k = add_scalar(g, format!("{name}/alpha"), alpha_left);
            let o = if c_left.is_some() {
                add_tensor(g, format!("{name}/alpha_ab"), vec![m, n])
            } else {
                out
            };
            let scale_ab = format!("{name}/scale_ab");
            nodes.push(binary_node(scale_ab, BinaryOp::Mul, last, k, o));
            last = o;
        }
        if let Some(cv) = c_left {
            let add_c = format!("{name}/add_c");
            nodes.push(binary_node(add_c, BinaryOp::Add, last, cv, out));
        }
        g.nodes.splice(i..i, nodes);
        count += 1;
    }
    count
}
