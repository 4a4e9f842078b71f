//! Fuses an activation into the op producing its input (Conv, MatMul, an
//! elementwise Add/Sub/Mul/Div, an SE block's scale), also through a reshape in
//! between, when nothing else reads the pre-activation value: the kernels apply it
//! before writing their output.

use super::{Uses, absorb, rewrite_all};
use crate::graph::Graph;
use crate::ops::{Activation, Op};

/// The activation slot of an op that can absorb one, if it is still free.
fn slot(op: &mut Op) -> Option<&mut Activation> {
    let act = match op {
        Op::Conv(c) => &mut c.act,
        Op::MatMul { act } => act,
        Op::Binary(_, act) => act,
        Op::SeBlock { act, .. } => act,
        _ => return None,
    };
    (*act == Activation::Identity).then_some(act)
}

pub fn run(g: &mut Graph) -> usize {
    rewrite_all(g, find, |g, (i, p, view, a)| {
        if let Some(act) = slot(&mut g.nodes[p].op) {
            *act = a;
        }
        absorb(g, view.unwrap_or(p), i);
        true
    })
}

/// An activation node `i` fusable into `p`, directly or through the view `v`:
/// `(i, p, v, the activation)`.
fn find(g: &Graph, uses: &Uses, i: usize) -> Option<(usize, usize, Option<usize>, Activation)> {
    // The op that can take the activation reading `x`, directly or through one
    // view (an elementwise activation commutes with a reshape).
    let fusable = |x: usize| -> Option<usize> {
        let p = uses.producers[x]?;
        // The SE block's second output (the excitation) is not its scaled output.
        let ok = g.single_use(&uses.consumers, x)
            && g.nodes[p].outputs[0] == x
            && slot(&mut g.nodes[p].op.clone()).is_some();
        ok.then_some(p)
    };
    let Op::Act(a) = g.nodes[i].op else {
        return None;
    };
    let x = g.nodes[i].input(0)?;
    if let Some(p) = fusable(x) {
        return Some((i, p, None, a));
    }
    let v = uses.producers[x]?;
    if g.nodes[v].op != Op::View || !g.single_use(&uses.consumers, x) {
        return None;
    }
    let p = fusable(g.nodes[v].input(0)?)?;
    Some((i, p, Some(v), a))
}
