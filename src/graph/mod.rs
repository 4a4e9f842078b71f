//! The graph IR between ONNX and the execution plan: values with static shapes,
//! nodes with typed ops ([`crate::ops::Op`]) and parsed attributes.
//!
//! An imported graph ([`crate::onnx`]) knows only its input shapes, which may leave the
//! batch dimension symbolic. [`infer::infer`] binds the batch, infers every shape,
//! folds constants and brings each op into its canonical form; the passes
//! ([`crate::passes`]) then rewrite the graph, and [`crate::plan`] lowers it to steps.

pub mod infer;

mod fold;

use crate::error::ModelError;
use crate::ops::Op;
use crate::tensor::{Const, DType, HostTensor};

pub type ValueId = usize;

#[derive(Clone, Debug)]
pub struct Value {
    pub name: String,
    pub dtype: DType,
    /// Known for graph inputs after the batch is bound and for every value after
    /// shape inference.
    pub shape: Option<Vec<usize>>,
    pub konst: Option<Const>,
}

/// A dimension of a graph input as the model declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dim {
    Fixed(usize),
    /// `dim_param` (or a missing/zero value): only allowed for the batch dimension.
    Symbolic(String),
}

#[derive(Clone, Debug)]
pub struct Input {
    pub value: ValueId,
    pub dims: Vec<Dim>,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub name: String,
    /// The ONNX operator type this node came from (kept for messages and info).
    pub op_type: String,
    pub op: Op,
    /// `None` for an omitted optional input (an empty name in ONNX).
    pub inputs: Vec<Option<ValueId>>,
    pub outputs: Vec<ValueId>,
}

impl Node {
    /// The `i`-th input if present.
    pub fn input(&self, i: usize) -> Option<ValueId> {
        self.inputs.get(i).copied().flatten()
    }

    pub fn present_inputs(&self) -> impl Iterator<Item = ValueId> + '_ {
        self.inputs.iter().filter_map(|v| *v)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub values: Vec<Value>,
    /// In topological order.
    pub nodes: Vec<Node>,
    pub inputs: Vec<Input>,
    /// Output names as the model declares them, and the values that hold them.
    pub outputs: Vec<(String, ValueId)>,
    /// The default-domain opset the model imports.
    pub opset: i64,
}

impl Graph {
    pub fn add_value(&mut self, name: impl Into<String>, dtype: DType) -> ValueId {
        self.values.push(Value {
            name: name.into(),
            dtype,
            shape: None,
            konst: None,
        });
        self.values.len() - 1
    }

    pub fn add_const(&mut self, name: impl Into<String>, c: Const) -> ValueId {
        let v = self.add_value(name, c.dtype());
        self.values[v].shape = Some(c.shape().to_vec());
        self.values[v].konst = Some(c);
        v
    }

    /// The inferred shape of `v` (empty before inference).
    pub fn shape(&self, v: ValueId) -> &[usize] {
        self.values[v].shape.as_deref().unwrap_or(&[])
    }

    pub fn konst(&self, v: ValueId) -> Option<&Const> {
        self.values[v].konst.as_ref()
    }

    /// The f32 constant held by `v`, if it is one.
    pub fn const_f32(&self, v: ValueId) -> Option<&HostTensor> {
        self.konst(v).and_then(Const::as_f32)
    }

    pub fn is_output(&self, v: ValueId) -> bool {
        self.outputs.iter().any(|(_, o)| *o == v)
    }

    /// For each value, the nodes reading it (a node appears once per input slot).
    pub fn consumers(&self) -> Vec<Vec<usize>> {
        let mut c = vec![Vec::new(); self.values.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            for v in n.present_inputs() {
                c[v].push(i);
            }
        }
        c
    }

    /// For each value, the node producing it.
    pub fn producers(&self) -> Vec<Option<usize>> {
        let mut p = vec![None; self.values.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            for &v in &n.outputs {
                p[v] = Some(i);
            }
        }
        p
    }

    /// Whether `v` is read exactly once, by a node, and is not a graph output:
    /// the condition for fusing its producer into its consumer.
    pub fn single_use(&self, consumers: &[Vec<usize>], v: ValueId) -> bool {
        consumers[v].len() == 1 && !self.is_output(v)
    }

    /// Makes every reader of `old` (nodes and graph outputs) read `new` instead.
    pub fn replace_uses(&mut self, old: ValueId, new: ValueId) {
        for n in &mut self.nodes {
            for v in n.inputs.iter_mut().flatten() {
                if *v == old {
                    *v = new;
                }
            }
        }
        for (_, v) in &mut self.outputs {
            if *v == old {
                *v = new;
            }
        }
    }

    /// Sorts nodes so every node follows the producers of its inputs (stable: keeps
    /// the current order where it is already valid).
    pub fn toposort(&mut self) -> Result<(), ModelError> {
        let producers = self.producers();
        let n = self.nodes.len();
        let mut pending: Vec<usize> = vec![0; n];
        let mut readers: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, node) in self.nodes.iter().enumerate() {
            for v in node.present_inputs() {
                if let Some(p) = producers[v] {
                    if p == i {
                        return Err(ModelError::Cycle(vec![node.name.clone()]));
                    }
                    pending[i] += 1;
                    readers[p].push(i);
                }
            }
        }
        // A min-heap on the original index keeps the order stable.
        let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<usize>> = (0..n)
            .filter(|&i| pending[i] == 0)
            .map(std::cmp::Reverse)
            .collect();
        let mut order = Vec::with_capacity(n);
        while let Some(std::cmp::Reverse(i)) = ready.pop() {
            order.push(i);
            for &r in &readers[i] {
                pending[r] -= 1;
                if pending[r] == 0 {
                    ready.push(std::cmp::Reverse(r));
                }
            }
        }
        if order.len() < n {
            let stuck = (0..n)
                .filter(|&i| pending[i] > 0)
                .map(|i| self.nodes[i].name.clone())
                .collect();
            return Err(ModelError::Cycle(stuck));
        }
        let mut old: Vec<Option<Node>> = std::mem::take(&mut self.nodes)
            .into_iter()
            .map(Some)
            .collect();
        self.nodes = order.into_iter().filter_map(|i| old[i].take()).collect();
        Ok(())
    }
}
