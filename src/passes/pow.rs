//! Pow with an integer constant exponent (ONNX allows any numeric type there): the
//! exponent becomes an f32 constant, since the kernels read f32 only.

use crate::graph::Graph;
use crate::ops::{BinaryOp, Op};
use crate::tensor::{Const, HostTensor};

/// Gives every such Pow its exponent as an f32 constant; returns how many.
pub fn run(g: &mut Graph) -> usize {
    let mut converted = 0;
    for i in 0..g.nodes.len() {
        if !matches!(g.nodes[i].op, Op::Binary(BinaryOp::Pow, _)) {
            continue;
        }
        let Some(e) = g.nodes[i].input(1) else {
            continue;
        };
        let Some(k @ Const::I64(_)) = g.konst(e) else {
            continue;
        };
        let exponent = Const::f32(HostTensor {
            shape: k.shape().to_vec(),
            data: k.to_f32s(),
        });
        let v = g.add_const(format!("{}/exponent", g.nodes[i].name), exponent);
        g.nodes[i].inputs[1] = Some(v);
        converted += 1;
    }
    converted
}
