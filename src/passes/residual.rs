//! Fuses a residual `Add(y, r)` (+ the activation already fused into the Add) into
//! the Conv or SE block producing `y`: the kernel computes `act(conv + bias + r)` or
//! `act(x * g + r)` and the Add disappears. `r` must have `y`'s exact shape (no
//! broadcasting) and `y` must be read by the Add alone.

use super::remove_nodes;
use crate::graph::Graph;
use crate::ops::Activation;
use crate::ops::BinaryOp;
use crate::ops::Op;

/// Whether node `p` can take a residual input.
fn accepts(g: &Graph, p: usize) -> bool {
    let n = &g.nodes[p];
    match &n.op {
        Op::Conv(c) => c.act == Activation::Identity && n.inputs.len() <= 3,
        Op::SeBlock { act, .. } => *act == Activation::Identity && n.inputs.len() == 5,
        _ => false,
    }
}

pub fn run(g: &mut Graph) -> usize {
    let mut count = 0;
    loop {
        let consumers = g.consumers();
        let producers = g.producers();
        let found = (0..g.nodes.len()).find_map(|i| {
            let n = &g.nodes[i];
            let Op::Binary(BinaryOp::Add, act) = n.op else {
                return None;
            };
            let (a, b) = (n.input(0)?, n.input(1)?);
            let out = g.shape(n.outputs[0]);
            if a == b || g.shape(a) != out || g.shape(b) != out {
                return None;
            }
            // Prefer the operand computed last, so the residual is ready before it.
            let mut options: Vec<_> = [(a, b), (b, a)]
                .into_iter()
                .filter_map(|(y, r)| {
                    let p = producers[y]?;
                    let ok =
                        g.single_use(&consumers, y) && g.nodes[p].outputs[0] == y && accepts(g, p);
                    ok.then_some((p, r))
                })
                .collect();
            options.sort_by_key(|&(p, _)| std::cmp::Reverse(p));
            options.first().map(|&(p, r)| (i, p, r, act))
        });
        let Some((i, p, r, act)) = found else {
            return count;
        };
        let out = g.nodes[i].outputs[0];
        let pn = &mut g.nodes[p];
        match &mut pn.op {
            Op::Conv(c) => {
                c.act = act;
                pn.inputs.resize(3, None);
            }
            Op::SeBlock { act: a, .. } => *a = act,
            _ => return count,
        }
        pn.inputs.push(Some(r));
        pn.outputs[0] = out;
        remove_nodes(g, vec![i]);
        count += 1;
    }
}
