//! Dead-node elimination: drops nodes none of whose outputs is read by another node
//! or is a graph output, until none is left.

use crate::graph::Graph;

pub fn run(g: &mut Graph) -> usize {
    let mut removed = 0;
    loop {
        let consumers = g.consumers();
        let before = g.nodes.len();
        g.nodes.retain(|n| {
            n.outputs
                .iter()
                .any(|&v| !consumers[v].is_empty() || g.outputs.iter().any(|(_, o)| *o == v))
        });
        if g.nodes.len() == before {
            return removed;
        }
        removed += before - g.nodes.len();
    }
}
