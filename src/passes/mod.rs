//! Graph rewrites between shape inference and planning, one module per pass.
//!
//! Order matters: spelled-out activations are recognised before anything folds their
//! constants away; BatchNorm and per-channel affine ops fold into convolutions before
//! activations fuse into them; SE blocks are matched on fused convolutions; residual
//! adds fuse last (into convolutions and SE scales) because they take the activation
//! already fused into the Add.

pub mod activations;
pub mod affine;
pub mod batch_norm;
pub mod dead;
pub mod expand;
pub mod fuse_activation;
pub mod gemm;
pub mod identity;
pub mod pow;
pub mod residual;
pub mod se_block;

use crate::error::Result;
use crate::graph::{Graph, Node, ValueId};
use crate::ops::{Activation, BinaryOp, Op};
use crate::tensor::{Const, DType, HostTensor};

/// What the compiler did to a model: counts per rewrite.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fusions {
    /// Nodes evaluated at load time (shape arithmetic, constant subgraphs).
    pub constants_folded: usize,
    /// Identity, Dropout and no-op Cast nodes removed.
    pub identities_removed: usize,
    /// Expand nodes dropped (their readers broadcast anyway) or run as an add.
    pub expands_lowered: usize,
    /// Spelled-out activations (`x * Clip(x + 3, 0, 6) / 6`, `x * Sigmoid(x)`, ...)
    /// turned into one activation.
    pub activations_recognized: usize,
    /// BatchNormalization nodes folded into the preceding convolution.
    pub batch_norms_folded: usize,
    /// BatchNormalization nodes that follow no convolution, run as Mul + Add.
    pub batch_norms_lowered: usize,
    /// Gemm nodes turned into MatMul with bias.
    pub gemms_lowered: usize,
    /// Mul/Add/Sub/Div by per-channel constants folded into a Conv or MatMul
    /// (an "unfolded" BatchNorm, a bias add).
    pub affine_folded: usize,
    /// Activations fused into the op before them.
    pub activations_fused: usize,
    /// Squeeze-and-excitation blocks found and fused.
    pub se_blocks: usize,
    /// Residual adds fused into a convolution or an SE block's scale.
    pub residuals_fused: usize,
    /// Nodes whose results nothing used.
    pub dead_nodes_removed: usize,
}

/// Runs every pass in order.
pub fn run(g: &mut Graph, f: &mut Fusions) -> Result<()> {
    rewrite(g, f, true)
}

/// Only what planning requires: Identity removal, Expand, BatchNorm and Gemm
/// lowering, dead nodes. The graph otherwise runs op by op.
pub fn lower_only(g: &mut Graph, f: &mut Fusions) -> Result<()> {
    rewrite(g, f, false)
}

/// The passes in order; the fusions only with `fuse`.
fn rewrite(g: &mut Graph, f: &mut Fusions, fuse: bool) -> Result<()> {
    f.identities_removed += identity::run(g);
    f.expands_lowered += expand::run(g);
    pow::run(g);
    if fuse {
        f.activations_recognized += activations::run(g);
        f.batch_norms_folded += batch_norm::fold(g);
    }
    f.batch_norms_lowered += batch_norm::lower(g);
    f.gemms_lowered += gemm::run(g);
    if fuse {
        f.affine_folded += affine::run(g);
        f.activations_fused += fuse_activation::run(g);
        f.se_blocks += se_block::run(g);
        f.residuals_fused += residual::run(g);
    }
    f.dead_nodes_removed += dead::run(g);
    g.toposort()?;
    Ok(())
}

/// Who reads and who writes each value, as the graph is when a pass looks.
pub(crate) struct Uses {
    pub consumers: Vec<Vec<usize>>,
    pub producers: Vec<Option<usize>>,
}

/// Rewrites one match at a time until none is left: `find` tries node `i` of the
/// graph as it is, `apply` rewrites the first match (and may decline, which stops
/// the pass). Returns how many matches were rewritten.
pub(crate) fn rewrite_all<M>(
    g: &mut Graph,
    find: impl Fn(&Graph, &Uses, usize) -> Option<M>,
    mut apply: impl FnMut(&mut Graph, M) -> bool,
) -> usize {
    let mut count = 0;
    loop {
        let uses = Uses {
            consumers: g.consumers(),
            producers: g.producers(),
        };
        let Some(m) = (0..g.nodes.len()).find_map(|i| find(g, &uses, i)) else {
            return count;
        };
        if !apply(g, m) {
            return count;
        }
        count += 1;
    }
}

/// Node `p` takes over the output of node `i`, which goes: what fusing `i` into
/// `p` leaves.
pub(crate) fn absorb(g: &mut Graph, p: usize, i: usize) {
    g.nodes[p].outputs[0] = g.nodes[i].outputs[0];
    remove_nodes(g, vec![i]);
}

/// Folds node `i` into the Conv or MatMul `p` before it: `p` gets the constant
/// weights `w` and bias `b` (named after it with `suffix`) and `i`'s output.
pub(crate) fn fold_into(
    g: &mut Graph,
    p: usize,
    i: usize,
    w: HostTensor,
    b: HostTensor,
    suffix: &str,
) {
    let name = g.nodes[p].name.clone();
    let wv = add_f32(g, format!("{name}/weight_{suffix}"), w);
    let bv = add_f32(g, format!("{name}/bias_{suffix}"), b);
    let pn = &mut g.nodes[p];
    pn.inputs = vec![pn.inputs[0], Some(wv), Some(bv)];
    pn.outputs.truncate(1);
    absorb(g, p, i);
}

/// The value of a one-element constant.
pub(crate) fn scalar(g: &Graph, v: ValueId) -> Option<f32> {
    match g.konst(v) {
        Some(c) if c.len() == 1 => Some(c.to_f32s()[0]),
        _ => None,
    }
}

/// Whether two floats read from a model mean the same constant (exporters write
/// 1/6 as 0.16666667 or 0.1666666716).
pub(crate) fn approx(a: f32, b: f32) -> bool {
    (a - b).abs() <= 1e-5 * b.abs().max(1.0)
}

/// Removes the nodes at `indices` (any order, duplicates allowed).
pub(crate) fn remove_nodes(g: &mut Graph, mut indices: Vec<usize>) {
    indices.sort_unstable();
    indices.dedup();
    for i in indices.into_iter().rev() {
        g.nodes.remove(i);
    }
}

/// Adds an f32 constant value.
pub(crate) fn add_f32(g: &mut Graph, name: String, t: HostTensor) -> ValueId {
    g.add_const(name, Const::f32(t))
}

/// Adds a one-element f32 constant.
pub(crate) fn add_scalar(g: &mut Graph, name: String, v: f32) -> ValueId {
    let t = HostTensor {
        shape: vec![],
        data: vec![v],
    };
    add_f32(g, name, t)
}

/// Adds a computed f32 value of a known shape.
pub(crate) fn add_tensor(g: &mut Graph, name: String, shape: Vec<usize>) -> ValueId {
    let v = g.add_value(name, DType::F32);
    g.values[v].shape = Some(shape);
    v
}

/// An `a OP b` node created by a pass.
pub(crate) fn binary_node(
    name: String,
    op: BinaryOp,
    a: ValueId,
    b: ValueId,
    output: ValueId,
) -> Node {
    let onnx = format!("{op:?}");
    let op = Op::Binary(op, Activation::Identity);
    node(name, &onnx, op, vec![Some(a), Some(b)], output)
}

/// A node created by a pass.
pub(crate) fn node(
    name: String,
    op_type: &str,
    op: Op,
    inputs: Vec<Option<ValueId>>,
    output: ValueId,
) -> Node {
    Node {
        name,
        op_type: op_type.into(),
        op,
        inputs,
        outputs: vec![output],
    }
}
