//! Removes Identity, Dropout (inference) and no-op Cast nodes: their readers read
//! the input directly; graph outputs keep their names.

use crate::graph::Graph;
use crate::ops::Op;

pub fn run(g: &mut Graph) -> usize {
    let mut removed = 0;
    while let Some(i) = g.nodes.iter().position(|n| n.op == Op::Identity) {
        let n = g.nodes.remove(i);
        if let Some(x) = n.input(0) {
            g.replace_uses(n.outputs[0], x);
        }
        removed += 1;
    }
    removed
}
