//! Fuses a residual `Add(y, r)` (+ the activation already fused into the Add) into
//! the Conv or SE block producing `y`: the kernel computes `act(conv + bias + r)` or
//! `act(x * g + r)` and the Add disappears. `r` must have `y`'s exact shape (no
//! broadcasting) and `y` must be read by the Add alone.

use super::{Uses, absorb, rewrite_all};
use crate::graph::{Graph, ValueId};
use crate::ops::{Activation, BinaryOp, Op};

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
    rewrite_all(g, find, |g, (i, p, r, act)| {
        let pn = &mut g.nodes[p];
        match &mut pn.op {
            Op::Conv(c) => {
                c.act = act;
                pn.inputs.resize(3, None);
            }
            Op::SeBlock { act: a, .. } => *a = act,
            _ => return false,
        }
        pn.inputs.push(Some(r));
        absorb(g, p, i);
        true
    })
}

/// An `Add` node `i` fusable into the producer `p` of one operand: `(i, p, the
/// other operand, the Add's activation)`.
fn find(g: &Graph, uses: &Uses, i: usize) -> Option<(usize, usize, ValueId, Activation)> {
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
            let p = uses.producers[y]?;
            let ok =
                g.single_use(&uses.consumers, y) && g.nodes[p].outputs[0] == y && accepts(g, p);
            ok.then_some((p, r))
        })
        .collect();
    options.sort_by_key(|&(p, _)| std::cmp::Reverse(p));
    options.first().map(|&(p, r)| (i, p, r, act))
}
