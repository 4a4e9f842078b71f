//! Recognises activations that exporters spell out with elementwise ops and turns
//! each into one `Act` node:
//! - hard-sigmoid: `Clip(x + b, 0, c) / c` (also `* (1/c)`), e.g. `relu6(x + 3) / 6`,
//!   and `Clip(x * a + b, 0, 1)` -> `HardSigmoid { alpha, beta }`;
//! - hard-swish: `x * HardSigmoid{1/6, 1/2}(x)` and `x * Clip(x + 3, 0, 6) / 6`;
//! - SiLU: `x * Sigmoid(x)`.
//!
//! Every intermediate value must be read only by the pattern, so nothing else
//! depends on the nodes it removes.

use super::{approx, remove_nodes, scalar};
use crate::graph::{Graph, ValueId};
use crate::ops::{Activation, BinaryOp, Op};

pub fn run(g: &mut Graph) -> usize {
    let mut count = 0;
    while let Some((i, x, act, dead)) = find(g) {
        g.nodes[i].op = Op::Act(act);
        g.nodes[i].op_type = act.onnx_name().into();
        g.nodes[i].inputs = vec![Some(x)];
        remove_nodes(g, dead);
        count += 1;
    }
    count
}

/// A match: (node to turn into the activation, its input, the activation, nodes to drop).
type Match = (usize, ValueId, Activation, Vec<usize>);

fn find(g: &Graph) -> Option<Match> {
    let consumers = g.consumers();
    let producers = g.producers();
    let cx = Cx {
        g,
        consumers: &consumers,
        producers: &producers,
    };
    (0..g.nodes.len()).find_map(|i| {
        cx.hard_swish(i)
            .or_else(|| cx.hard_sigmoid(i))
            .or_else(|| cx.silu(i))
    })
}

struct Cx<'a> {
    g: &'a Graph,
    consumers: &'a [Vec<usize>],
    producers: &'a [Option<usize>],
}

impl Cx<'_> {
    /// The node producing `v` if `v` is read only once (by the pattern).
    fn inner(&self, v: ValueId) -> Option<usize> {
        if !self.g.single_use(self.consumers, v) {
            return None;
        }
        self.producers[v]
    }

    /// `(x, k)` if node `i` is `x OP k` (or `k OP x` for commutative ops) with a
    /// scalar constant `k`.
    fn with_scalar(&self, i: usize, op: BinaryOp) -> Option<(ValueId, f32)> {
        let n = &self.g.nodes[i];
        if n.op != Op::Binary(op, Activation::Identity) {
            return None;
        }
        let (a, b) = (n.input(0)?, n.input(1)?);
        if let Some(k) = scalar(self.g, b) {
            return Some((a, k));
        }
        let commutes = matches!(op, BinaryOp::Add | BinaryOp::Mul);
        match scalar(self.g, a) {
            Some(k) if commutes => Some((b, k)),
            _ => None,
        }
    }

    /// `(t, f)` if node `i` is `t / k` (f = 1/k) or `t * f`.
    fn scaled(&self, i: usize) -> Option<(ValueId, f32)> {
        self.with_scalar(i, BinaryOp::Div)
            .map(|(t, k)| (t, 1.0 / k))
            .or_else(|| self.with_scalar(i, BinaryOp::Mul))
    }

    /// `(x, alpha, beta, nodes)` if `v` is `Clip(x + b, 0, c) * f` with `c * f == 1`
    /// (computed by node `i`), or `Clip(x * a + b, 0, 1)`.
    fn hard_sigmoid_parts(&self, i: usize) -> Option<(ValueId, f32, f32, Vec<usize>)> {
        let n = &self.g.nodes[i];
        if let Op::Act(Activation::Clip { min, max }) = n.op
            && min == 0.0
            && max == 1.0
        {
            let add = self.inner(n.input(0)?)?;
            let (m, b) = self.with_scalar(add, BinaryOp::Add)?;
            let mul = self.inner(m)?;
            let (x, a) = self.with_scalar(mul, BinaryOp::Mul)?;
            return Some((x, a, b, vec![add, mul]));
        }
        let (t, f) = self.scaled(i)?;
        let clip = self.inner(t)?;
        let Op::Act(Activation::Clip { min, max }) = self.g.nodes[clip].op else {
            return None;
        };
        if min != 0.0 || !approx(max * f, 1.0) {
            return None;
        }
        let add = self.inner(self.g.nodes[clip].input(0)?)?;
        let (x, b) = self.with_scalar(add, BinaryOp::Add)?;
        Some((x, f, b * f, vec![clip, add]))
    }

    fn hard_sigmoid(&self, i: usize) -> Option<Match> {
        let (x, alpha, beta, dead) = self.hard_sigmoid_parts(i)?;
        Some((i, x, Activation::HardSigmoid { alpha, beta }, dead))
    }

    /// `x * gate(x)` for `Mul` node `i`: `(x, node computing gate(x))`.
    fn self_gated(&self, i: usize) -> Option<Vec<(ValueId, usize)>> {
        let n = &self.g.nodes[i];
        if n.op != Op::Binary(BinaryOp::Mul, Activation::Identity) {
            return None;
        }
        let (a, b) = (n.input(0)?, n.input(1)?);
        let mut out = Vec::new();
        for (x, gate) in [(a, b), (b, a)] {
            if let Some(p) = self.inner(gate)
                && self.g.nodes[p].input(0) == Some(x)
            {
                out.push((x, p));
            }
        }
        Some(out)
    }

    fn hard_swish(&self, i: usize) -> Option<Match> {
        let is_hswish_gate = |alpha: f32, beta: f32| approx(alpha, 1.0 / 6.0) && approx(beta, 0.5);
        // x * HardSigmoid{1/6, 1/2}(x), or x * Clip(x + 3, 0, 6) / 6 as gate.
        for (x, p) in self.self_gated(i).unwrap_or_default() {
            if let Op::Act(Activation::HardSigmoid { alpha, beta }) = self.g.nodes[p].op
                && is_hswish_gate(alpha, beta)
            {
                return Some((i, x, Activation::HardSwish, vec![p]));
            }
            if let Some((x2, alpha, beta, mut dead)) = self.hard_sigmoid_parts(p)
                && x2 == x
                && is_hswish_gate(alpha, beta)
            {
                dead.push(p);
                return Some((i, x, Activation::HardSwish, dead));
            }
        }
        // (x * Clip(x + 3, 0, 6)) / 6
        let (t, f) = self.scaled(i)?;
        let mul = self.inner(t)?;
        let m = &self.g.nodes[mul];
        if m.op != Op::Binary(BinaryOp::Mul, Activation::Identity) {
            return None;
        }
        let (a, b) = (m.input(0)?, m.input(1)?);
        for (x, clip_out) in [(a, b), (b, a)] {
            let Some(clip) = self.inner(clip_out) else {
                continue;
            };
            let Op::Act(Activation::Clip { min, max }) = self.g.nodes[clip].op else {
                continue;
            };
            let Some(add) = self.g.nodes[clip].input(0).and_then(|v| self.inner(v)) else {
                continue;
            };
            let Some((x2, k)) = self.with_scalar(add, BinaryOp::Add) else {
                continue;
            };
            if x2 == x && min == 0.0 && approx(max * f, 1.0) && is_hswish_gate(f, k * f) {
                return Some((i, x, Activation::HardSwish, vec![mul, clip, add]));
            }
        }
        None
    }

    fn silu(&self, i: usize) -> Option<Match> {
        self.self_gated(i)?
            .into_iter()
            .find(|&(_, p)| self.g.nodes[p].op == Op::Act(Activation::Sigmoid))
            .map(|(x, p)| (i, x, Activation::Silu, vec![p]))
    }
}
