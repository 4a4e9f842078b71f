//! Expand (`y.expand_as(x)` in PyTorch, e.g. the original SENet's gating) is a
//! broadcast. Read only by elementwise ops that broadcast by themselves, it is
//! dropped (`x * g.expand_as(x)` is `x * g`); otherwise it runs as `x + 0` with a
//! zero constant shaped to broadcast `x` to the target.

use super::{add_f32, remove_nodes};
use crate::graph::Graph;
use crate::ops::{Activation, BinaryOp, Op};
use crate::tensor::{HostTensor, broadcast_shapes};

pub fn run(g: &mut Graph) -> usize {
    let mut count = 0;
    while let Some(i) = g.nodes.iter().position(|n| n.op == Op::Expand) {
        let consumers = g.consumers();
        let n = &g.nodes[i];
        let (Some(x), y) = (n.input(0), n.outputs[0]) else {
            return count;
        };
        // Every reader must be a binary op whose output keeps its shape when it reads
        // x instead of y.
        let bypass = !g.is_output(y)
            && consumers[y].iter().all(|&c| {
                let r = &g.nodes[c];
                let s: Vec<&[usize]> = r
                    .present_inputs()
                    .map(|u| if u == y { g.shape(x) } else { g.shape(u) })
                    .collect();
                matches!(r.op, Op::Binary(..))
                    && s.len() == 2
                    && broadcast_shapes(s[0], s[1]).ok().as_deref() == Some(g.shape(r.outputs[0]))
            });
        if bypass {
            g.replace_uses(y, x);
            remove_nodes(g, vec![i]);
        } else {
            let (xs, out) = (g.shape(x).to_vec(), g.shape(y).to_vec());
            // 1 where x already has the full size, the target size elsewhere.
            let offset = out.len() - xs.len();
            let zshape: Vec<usize> = out
                .iter()
                .enumerate()
                .map(|(d, &o)| {
                    if d >= offset && xs[d - offset] == o {
                        1
                    } else {
                        o
                    }
                })
                .collect();
            let n = zshape.iter().product();
            let name = g.nodes[i].name.clone();
            let z = add_f32(
                g,
                format!("{name}/zeros"),
                HostTensor {
                    shape: zshape,
                    data: vec![0.0; n],
                },
            );
            let node = &mut g.nodes[i];
            node.op = Op::Binary(BinaryOp::Add, Activation::Identity);
            node.inputs = vec![Some(x), Some(z)];
        }
        count += 1;
    }
    count
}
