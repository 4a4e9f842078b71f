//! The execution plan: a compiled graph as a flat list of kernel steps over numbered
//! activation buffers and constants, independent of the backend.
//!
//! Buffers are assigned by liveness: each computed value takes a free buffer when
//! its step runs and gives it back after its last reader, so activations share
//! buffers and the peak is far below the sum of all activations. A step never
//! writes a buffer it reads. Reshape-like ops cost nothing: their output is the same
//! buffer seen with another shape ([`Operand`]). Graph outputs and the SE blocks'
//! excitation vectors keep their buffers to the end, for the readback.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Error, Result};

use crate::graph::{Const, Graph, Op, PadMode, SqueezeMode, ValueId};
use crate::ops::Activation;
use crate::ops::BinaryOp;
use crate::ops::Conv2dParams;
use crate::ops::Pool2dParams;
use crate::ops::matmul::matmul_shapes;
use crate::tensor::HostTensor;

/// Where an operand's data lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    /// An activation buffer (index into [`Plan::buffers`]).
    Buffer(usize),
    /// A constant (index into [`Plan::constants`]).
    Const(usize),
}

/// A value as a step sees it: its storage and the shape to view it with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operand {
    pub loc: Loc,
    pub shape: Vec<usize>,
}

impl Operand {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum StepOp {
    /// `y = act(conv(x, w) + bias + residual)`
    Conv {
        x: Operand,
        w: Operand,
        bias: Option<Operand>,
        residual: Option<Operand>,
        conv: Conv2dParams,
        act: Activation,
        y: Operand,
    },
    /// `y = act(a @ b + bias)`, operands already viewed as `[.., M, K]`, `[.., K, N]`.
    MatMul {
        a: Operand,
        b: Operand,
        bias: Option<Operand>,
        act: Activation,
        y: Operand,
    },
    Unary {
        x: Operand,
        act: Activation,
        y: Operand,
    },
    Binary {
        op: BinaryOp,
        a: Operand,
        b: Operand,
        act: Activation,
        y: Operand,
    },
    /// Mean / max of each `[n, c]` plane of `x` (viewed as NCHW) into `y` `[N, C]`.
    Squeeze {
        x: Operand,
        mode: SqueezeMode,
        y: Operand,
    },
    Pool {
        x: Operand,
        mode: SqueezeMode,
        params: Pool2dParams,
        y: Operand,
    },
    Softmax {
        x: Operand,
        axis: usize,
        y: Operand,
    },
    Concat {
        xs: Vec<Operand>,
        axis: usize,
        y: Operand,
    },
    Transpose {
        x: Operand,
        perm: Vec<usize>,
        y: Operand,
    },
    Pad {
        x: Operand,
        pads: Vec<usize>,
        kind: PadMode,
        y: Operand,
    },
    /// squeeze -> excite -> scale; `squeezed` is a scratch `[N, C]` buffer.
    SeBlock {
        x: Operand,
        w1: Operand,
        b1: Operand,
        w2: Operand,
        b2: Operand,
        residual: Option<Operand>,
        pooling: SqueezeMode,
        hidden: Activation,
        gate: Activation,
        act: Activation,
        squeezed: Operand,
        excitation: Operand,
        y: Operand,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The node's name (the SE block's name for SE blocks).
    pub name: String,
    /// A short description of the op and its fusions, e.g. `Conv+Relu`.
    pub label: String,
    /// The shape of the step's (first) output as the graph has it.
    pub output: Vec<usize>,
    pub op: StepOp,
}

impl Step {
    /// Multiply-accumulates of the step.
    pub fn macs(&self) -> u64 {
        let n = |s: &[usize]| s.iter().product::<usize>() as u64;
        match &self.op {
            StepOp::Conv { w, y, .. } => n(&y.shape) * n(&w.shape[1..]),
            StepOp::MatMul { a, y, .. } => n(&y.shape) * a.shape[a.shape.len() - 1] as u64,
            StepOp::SeBlock {
                w1,
                w2,
                excitation,
                y,
                ..
            } => n(&excitation.shape[..1]) * (n(&w1.shape) + n(&w2.shape)) + n(&y.shape),
            _ => 0,
        }
    }
}

/// A named value the caller writes (inputs) or reads (outputs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub name: String,
    pub operand: Operand,
}

/// An SE block's excitation buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExcitationSlot {
    pub block: String,
    pub channels: usize,
    /// `[N, C]`
    pub operand: Operand,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub batch: usize,
    pub constants: Vec<Arc<HostTensor>>,
    /// Capacity of each activation buffer, in f32 elements.
    pub buffers: Vec<usize>,
    pub steps: Vec<Step>,
    pub inputs: Vec<Binding>,
    pub outputs: Vec<Binding>,
    pub excitations: Vec<ExcitationSlot>,
    /// Sum of the sizes of all values placed in buffers, in f32 elements: what the
    /// plan would need without buffer sharing.
    pub unshared_elements: usize,
}

impl Plan {
    /// Bytes of all activation buffers together.
    pub fn buffer_bytes(&self) -> usize {
        self.buffers.iter().sum::<usize>() * 4
    }

    pub fn constant_bytes(&self) -> usize {
        self.constants.iter().map(|c| c.len() * 4).sum()
    }

    pub fn macs(&self) -> u64 {
        self.steps.iter().map(Step::macs).sum()
    }
}

/// Free buffers, reused best-fit.
#[derive(Default)]
struct Allocator {
    capacity: Vec<usize>,
    free: Vec<usize>,
    total: usize,
}

impl Allocator {
    fn take(&mut self, len: usize) -> usize {
        self.total += len;
        let fit = self
            .free
            .iter()
            .enumerate()
            .filter(|&(_, &b)| self.capacity[b] >= len)
            .min_by_key(|&(_, &b)| self.capacity[b]);
        // Else grow the largest free buffer (capacities are only fixed at the end).
        let pick = fit.or_else(|| {
            self.free
                .iter()
                .enumerate()
                .max_by_key(|&(_, &b)| self.capacity[b])
        });
        match pick.map(|(i, _)| i) {
            Some(i) => {
                let b = self.free.swap_remove(i);
                self.capacity[b] = self.capacity[b].max(len);
                b
            }
            None => {
                self.capacity.push(len);
                self.capacity.len() - 1
            }
        }
    }

    fn give_back(&mut self, b: usize) {
        self.free.push(b);
    }
}

/// Builds the plan of an inferred, optimised graph.
pub fn build(g: &Graph, batch: usize) -> Result<Plan> {
    let consumers = g.consumers();

    // The value whose storage each value uses: views share their input's.
    let mut root: Vec<ValueId> = (0..g.values.len()).collect();
    for n in &g.nodes {
        if n.op == Op::View
            && let Some(x) = n.input(0)
        {
            root[n.outputs[0]] = root[x];
        }
    }

    // Last step reading each root; outputs and excitations live to the end.
    const FOREVER: usize = usize::MAX;
    let mut last = vec![0usize; g.values.len()];
    for (t, n) in g.nodes.iter().enumerate() {
        for v in n.present_inputs() {
            last[root[v]] = last[root[v]].max(t);
        }
    }
    for (_, v) in &g.outputs {
        last[root[*v]] = FOREVER;
    }
    for n in &g.nodes {
        if let Op::SeBlock(_) = n.op {
            last[n.outputs[1]] = FOREVER;
        }
    }

    let mut constants: Vec<Arc<HostTensor>> = Vec::new();
    let mut const_index: HashMap<ValueId, usize> = HashMap::new();
    let mut alloc = Allocator::default();
    let mut placed: HashMap<ValueId, usize> = HashMap::new();

    let mut loc =
        |v: ValueId, alloc: &mut Allocator, placed: &mut HashMap<ValueId, usize>| -> Loc {
            let r = root[v];
            if let Some(Const::F32(t)) = g.konst(r) {
                let i = *const_index.entry(r).or_insert_with(|| {
                    constants.push(t.clone());
                    constants.len() - 1
                });
                return Loc::Const(i);
            }
            Loc::Buffer(
                *placed
                    .entry(r)
                    .or_insert_with(|| alloc.take(g.shape(r).iter().product())),
            )
        };
    let op = |l: Loc, shape: &[usize]| Operand {
        loc: l,
        shape: shape.to_vec(),
    };

    let inputs: Vec<Binding> = g
        .inputs
        .iter()
        .map(|i| Binding {
            name: g.values[i.value].name.clone(),
            operand: op(loc(i.value, &mut alloc, &mut placed), g.shape(i.value)),
        })
        .collect();
    // Inputs nothing reads free their buffer at once.
    for i in &g.inputs {
        if consumers[i.value].is_empty()
            && last[i.value] != FOREVER
            && let Some(&b) = placed.get(&i.value)
        {
            alloc.give_back(b);
        }
    }

    let mut steps = Vec::new();
    let mut excitations = Vec::new();
    for (t, n) in g.nodes.iter().enumerate() {
        if n.op == Op::View {
            continue;
        }
        let mut operand = |v: ValueId| op(loc(v, &mut alloc, &mut placed), g.shape(v));
        // Inputs first (already placed), then outputs (fresh buffers).
        let ins: Vec<Option<Operand>> = n.inputs.iter().map(|v| v.map(&mut operand)).collect();
        let outs: Vec<Operand> = n.outputs.iter().map(|&v| operand(v)).collect();
        let input = |i: usize| {
            ins.get(i)
                .cloned()
                .flatten()
                .ok_or_else(|| Error::invalid("plan", format!("node '{}' lacks input {i}", n.name)))
        };
        let opt = |i: usize| ins.get(i).cloned().flatten();
        let y = outs[0].clone();
        let step = match &n.op {
            Op::Conv(c) => StepOp::Conv {
                x: input(0)?,
                w: input(1)?,
                bias: opt(2),
                residual: opt(3),
                conv: c.params,
                act: c.act,
                y,
            },
            Op::MatMul { act } => {
                let (a, b) = (input(0)?, input(1)?);
                let (a2, b2, full, _) = matmul_shapes(&a.shape, &b.shape)
                    .ok_or_else(|| Error::shape("matmul operands", &a.shape, &b.shape))?;
                StepOp::MatMul {
                    a: Operand { shape: a2, ..a },
                    b: Operand { shape: b2, ..b },
                    bias: opt(2),
                    act: *act,
                    y: Operand { shape: full, ..y },
                }
            }
            Op::Act(a) => StepOp::Unary {
                x: input(0)?,
                act: *a,
                y,
            },
            Op::Binary(b, act) => StepOp::Binary {
                op: *b,
                a: input(0)?,
                b: input(1)?,
                act: *act,
                y,
            },
            Op::Reduce { mode, axis } => {
                let x = input(0)?;
                let outer: usize = x.shape[..*axis].iter().product();
                let inner: usize = x.shape[*axis..].iter().product();
                let nchw = if *axis == 2 && x.shape.len() == 4 {
                    x.shape.clone()
                } else {
                    vec![1, outer, inner, 1]
                };
                let [nn, cc] = [nchw[0], nchw[1]];
                StepOp::Squeeze {
                    x: Operand { shape: nchw, ..x },
                    mode: *mode,
                    y: Operand {
                        shape: vec![nn, cc],
                        ..y
                    },
                }
            }
            Op::Pool(p) => StepOp::Pool {
                x: input(0)?,
                mode: p.mode,
                params: p.params,
                y,
            },
            Op::Softmax { axis, coerce_2d } => {
                let x = input(0)?;
                if *coerce_2d {
                    let shape = vec![
                        x.shape[..*axis].iter().product(),
                        x.shape[*axis..].iter().product(),
                    ];
                    StepOp::Softmax {
                        x: Operand {
                            shape: shape.clone(),
                            ..x
                        },
                        axis: 1,
                        y: Operand { shape, ..y },
                    }
                } else {
                    StepOp::Softmax { x, axis: *axis, y }
                }
            }
            Op::Concat { axis } => StepOp::Concat {
                xs: ins.iter().flatten().cloned().collect(),
                axis: *axis,
                y,
            },
            Op::Transpose { perm } => StepOp::Transpose {
                x: input(0)?,
                perm: perm.clone(),
                y,
            },
            Op::Pad { pads, kind } => StepOp::Pad {
                x: input(0)?,
                pads: pads.clone(),
                kind: *kind,
                y,
            },
            Op::SeBlock(se) => {
                let excitation = outs[1].clone();
                let squeezed = Operand {
                    loc: Loc::Buffer(alloc.take(excitation.len())),
                    shape: excitation.shape.clone(),
                };
                excitations.push(ExcitationSlot {
                    block: se.name.clone(),
                    channels: excitation.shape[1],
                    operand: excitation.clone(),
                });
                StepOp::SeBlock {
                    x: input(0)?,
                    w1: input(1)?,
                    b1: input(2)?,
                    w2: input(3)?,
                    b2: input(4)?,
                    residual: opt(5),
                    pooling: se.pooling,
                    hidden: se.hidden,
                    gate: se.gate,
                    act: se.act,
                    squeezed,
                    excitation,
                    y,
                }
            }
            other => {
                return Err(Error::invalid(
                    "plan",
                    format!(
                        "node '{}': {} was not lowered before planning",
                        n.name,
                        other.label()
                    ),
                ));
            }
        };
        if let StepOp::SeBlock {
            squeezed:
                Operand {
                    loc: Loc::Buffer(b),
                    ..
                },
            ..
        } = &step
        {
            alloc.give_back(*b);
        }
        // Release the buffers whose last reader was this step.
        let mut released: Vec<ValueId> = n.present_inputs().map(|v| root[v]).collect();
        released.sort_unstable();
        released.dedup();
        for r in released {
            if last[r] == t
                && let Some(&b) = placed.get(&r)
            {
                alloc.give_back(b);
            }
        }
        // Outputs nothing reads (dead ends kept by an SE block) free at once.
        for &v in &n.outputs {
            if consumers[v].is_empty()
                && last[root[v]] != FOREVER
                && let Some(&b) = placed.get(&root[v])
            {
                alloc.give_back(b);
            }
        }
        steps.push(Step {
            name: n.name.clone(),
            label: n.op.label(),
            output: g.shape(n.outputs[0]).to_vec(),
            op: step,
        });
    }
    let outputs = g
        .outputs
        .iter()
        .map(|(name, v)| Binding {
            name: name.clone(),
            operand: op(loc(*v, &mut alloc, &mut placed), g.shape(*v)),
        })
        .collect();
    Ok(Plan {
        batch,
        constants,
        unshared_elements: alloc.total,
        buffers: alloc.capacity,
        steps,
        inputs,
        outputs,
        excitations,
    })
}
