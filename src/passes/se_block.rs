//! Squeeze-and-excitation block detection.
//!
//! Matches, in whatever form exporters write it,
//! `x [N,C,H,W] -> pool -> [views] -> FC1 -> act -> [views] -> FC2 -> gate -> [views] -> Mul with x`
//! where pool is GlobalAveragePool / GlobalMaxPool / ReduceMean over H,W (canonical
//! `Reduce` from dimension 2), an FC is a 1x1 Conv on `[N,C,1,1]` or a MatMul by a
//! constant (Gemm and MatMul + bias were lowered to that already, activations and
//! spelled-out hard-sigmoid gates fused into it), and views are Reshape / Flatten /
//! Squeeze / Unsqueeze. Every intermediate value must be read only by the block.
//! The match becomes one `SeBlock` node with outputs `[y, excitation [N,C]]`, run by
//! the squeeze / excite / scale kernels; a residual add after it fuses later.

use std::collections::HashSet;

use super::{add_f32, add_tensor, remove_nodes};
use crate::graph::{Graph, Node, ValueId};
use crate::ops::{Activation, BinaryOp, Op, SqueezeMode};
use crate::tensor::HostTensor;

pub fn run(g: &mut Graph) -> usize {
    let mut names: HashSet<String> = g
        .nodes
        .iter()
        .filter_map(|n| match &n.op {
            Op::SeBlock { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    let mut count = 0;
    while let Some(f) = find(g) {
        let mut name = block_name(g, &f.nodes, f.mul);
        if name.is_empty() {
            name = format!("se{}", names.len());
        }
        while names.contains(&name) {
            name = format!("{name}#{}", names.len());
        }
        names.insert(name.clone());

        let [n, c] = f.nc;
        let w1 = add_f32(g, format!("{name}/w1"), f.fc1.w);
        let b1 = add_f32(g, format!("{name}/b1"), f.fc1.b);
        let w2 = add_f32(g, format!("{name}/w2"), f.fc2.w);
        let b2 = add_f32(g, format!("{name}/b2"), f.fc2.b);
        let excitation = add_tensor(g, format!("{name}/excitation"), vec![n, c]);
        let Op::Binary(_, act) = g.nodes[f.mul].op else {
            return count;
        };
        let y = g.nodes[f.mul].outputs[0];
        g.nodes[f.mul] = Node {
            name: name.clone(),
            op_type: "SeBlock".into(),
            op: Op::SeBlock {
                name,
                pooling: f.pooling,
                hidden: f.fc1.act,
                gate: f.fc2.act,
                act,
            },
            inputs: vec![Some(f.x), Some(w1), Some(b1), Some(w2), Some(b2)],
            outputs: vec![y, excitation],
        };
        remove_nodes(g, f.nodes);
        count += 1;
    }
    count
}

/// The longest common `/`-separated prefix of the block's node names, e.g.
/// `layer1/layer1.0/se` for PyTorch exports; empty if there is none.
fn block_name(g: &Graph, nodes: &[usize], mul: usize) -> String {
    let names: Vec<&str> = nodes
        .iter()
        .chain([&mul])
        .map(|&i| g.nodes[i].name.as_str())
        .collect();
    let first = names[0];
    let mut len = first.len();
    for n in &names[1..] {
        len = len.min(
            first
                .bytes()
                .zip(n.bytes())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    let prefix = &first[..len];
    let cut = prefix.rfind('/').unwrap_or(0);
    prefix[..cut].trim_matches('/').to_string()
}

/// One fully connected layer of the excitation: `act(w @ s + b)`, `w` as [out, in].
struct Fc {
    w: HostTensor,
    b: HostTensor,
    act: Activation,
}

struct Found {
    mul: usize,
    x: ValueId,
    nc: [usize; 2],
    pooling: SqueezeMode,
    fc1: Fc,
    fc2: Fc,
    /// Nodes the block replaces, besides the Mul.
    nodes: Vec<usize>,
}

struct Cx<'a> {
    g: &'a Graph,
    consumers: Vec<Vec<usize>>,
    producers: Vec<Option<usize>>,
}

/// Whether `shape` holds `n` rows of `ch` values: `[n, ch, 1, ...]`, or `[ch]` when n = 1.
fn rows(shape: &[usize], n: usize, ch: usize) -> bool {
    (shape.len() >= 2 && shape[0] == n && shape[1] == ch && shape[2..].iter().all(|&d| d == 1))
        || (n == 1 && shape == [ch])
}

impl Cx<'_> {
    /// Follows `v` back through views to the value a non-view node produced. Every
    /// value on the way must be read once and hold `[n, ch]` rows.
    fn through_views(
        &self,
        mut v: ValueId,
        n: usize,
        ch: usize,
        chain: &mut Vec<usize>,
    ) -> Option<(ValueId, usize)> {
        loop {
            if !self.g.single_use(&self.consumers, v) || !rows(self.g.shape(v), n, ch) {
                return None;
            }
            let p = self.producers[v]?;
            if self.g.nodes[p].op != Op::View {
                return Some((v, p));
            }
            chain.push(p);
            v = self.g.nodes[p].input(0)?;
        }
    }

    /// Node `p` as an FC layer with `ch_out` outputs: `(its input, the layer)`.
    fn fc(&self, p: usize, n: usize, ch_out: usize) -> Option<(ValueId, Fc)> {
        let node = &self.g.nodes[p];
        let x = node.input(0)?;
        let b_of = |out: usize| -> Option<HostTensor> {
            match node.input(2) {
                Some(b) => self.g.const_f32(b).cloned(),
                None => Some(HostTensor {
                    shape: vec![out],
                    data: vec![0.0; out],
                }),
            }
        };
        match &node.op {
            Op::Conv(c) => {
                let w = self.g.const_f32(node.input(1)?)?;
                let [o, i] = [w.shape[0], w.shape[1]];
                let plain =
                    c.params.groups == 1 && c.params.padding == [0; 4] && node.inputs.len() <= 3;
                if !plain
                    || w.shape[2..] != [1, 1]
                    || o != ch_out
                    || self.g.shape(x) != [n, i, 1, 1]
                {
                    return None;
                }
                let w = HostTensor {
                    shape: vec![o, i],
                    data: w.data.clone(),
                };
                Some((
                    x,
                    Fc {
                        w,
                        b: b_of(o)?,
                        act: c.act,
                    },
                ))
            }
            Op::MatMul { act } => {
                let w = self.g.const_f32(node.input(1)?)?;
                if w.shape.len() != 2
                    || w.shape[1] != ch_out
                    || !rows(self.g.shape(x), n, w.shape[0])
                {
                    return None;
                }
                Some((
                    x,
                    Fc {
                        w: super::gemm::transposed(w),
                        b: b_of(w.shape[1])?,
                        act: *act,
                    },
                ))
            }
            _ => None,
        }
    }

    fn at(&self, mul: usize) -> Option<Found> {
        let m = &self.g.nodes[mul];
        let Op::Binary(BinaryOp::Mul, _) = m.op else {
            return None;
        };
        let (a, b) = (m.input(0)?, m.input(1)?);
        [(a, b), (b, a)].into_iter().find_map(|(x, gate)| {
            let xs = self.g.shape(x);
            if xs.len() != 4 || self.g.shape(m.outputs[0]) != xs {
                return None;
            }
            let (n, c) = (xs[0], xs[1]);
            let mut nodes = Vec::new();
            let (_, p2) = self.through_views(gate, n, c, &mut nodes)?;
            let (h, fc2) = self.fc(p2, n, c)?;
            if fc2.act == Activation::Identity {
                return None;
            }
            let r = fc2.w.shape[1];
            let (_, p1) = self.through_views(h, n, r, &mut nodes)?;
            let (s, fc1) = self.fc(p1, n, r)?;
            if fc1.w.shape[1] != c {
                return None;
            }
            let (_, pool) = self.through_views(s, n, c, &mut nodes)?;
            let Op::Reduce { mode, axis: 2 } = self.g.nodes[pool].op else {
                return None;
            };
            if self.g.nodes[pool].input(0) != Some(x) {
                return None;
            }
            nodes.extend([p2, p1, pool]);
            Some(Found {
                mul,
                x,
                nc: [n, c],
                pooling: mode,
                fc1,
                fc2,
                nodes,
            })
        })
    }
}

fn find(g: &Graph) -> Option<Found> {
    let cx = Cx {
        g,
        consumers: g.consumers(),
        producers: g.producers(),
    };
    (0..g.nodes.len()).find_map(|i| cx.at(i))
}
