//! Building a [`Plan`]: the liveness of every value, the placement of values in
//! constants and shared buffers, and one step per node ([`super::lower`]).

use std::collections::HashMap;
use std::sync::Arc;

use super::buffers::Allocator;
use super::lower::lower;
use super::{Binding, ExcitationSlot, Loc, Operand, Plan, SeStep, Step, StepOp};
use crate::error::Result;
use crate::graph::{Graph, ValueId};
use crate::ops::Op;
use crate::tensor::{Const, HostTensor};

/// The last step of a value that lives to the end of the plan.
const FOREVER: usize = usize::MAX;

/// How long each value's storage lives.
struct Liveness {
    /// The value whose storage each value uses: views share their input's.
    root: Vec<ValueId>,
    /// Per root, the last step reading it; outputs and excitations live [`FOREVER`].
    last: Vec<usize>,
    consumers: Vec<Vec<usize>>,
}

impl Liveness {
    fn of(g: &Graph) -> Self {
        let mut root: Vec<ValueId> = (0..g.values.len()).collect();
        for n in &g.nodes {
            if n.op == Op::View
                && let Some(x) = n.input(0)
            {
                root[n.outputs[0]] = root[x];
            }
        }
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
            if let Op::SeBlock { .. } = n.op {
                last[n.outputs[1]] = FOREVER;
            }
        }
        Self {
            root,
            last,
            consumers: g.consumers(),
        }
    }

    /// Whether nothing reads `v` and it need not outlive its step.
    fn unread(&self, v: ValueId) -> bool {
        self.consumers[v].is_empty() && self.last[self.root[v]] != FOREVER
    }
}

/// Where every value lives: constants by index, computed values in buffers taken
/// from the allocator when first placed.
struct Placement<'g> {
    g: &'g Graph,
    live: Liveness,
    constants: Vec<Arc<HostTensor>>,
    const_index: HashMap<ValueId, usize>,
    alloc: Allocator,
    placed: HashMap<ValueId, usize>,
}

impl Placement<'_> {
    fn operand(&mut self, v: ValueId) -> Operand {
        let r = self.live.root[v];
        let loc = if let Some(Const::F32(t)) = self.g.konst(r) {
            let i = *self.const_index.entry(r).or_insert_with(|| {
                self.constants.push(t.clone());
                self.constants.len() - 1
            });
            Loc::Const(i)
        } else {
            let (g, alloc) = (self.g, &mut self.alloc);
            Loc::Buffer(
                *self
                    .placed
                    .entry(r)
                    .or_insert_with(|| alloc.take(g.shape(r).iter().product())),
            )
        };
        Operand {
            loc,
            shape: self.g.shape(v).to_vec(),
        }
    }

    /// Gives back the buffer of root `r`, if it has one.
    fn release(&mut self, r: ValueId) {
        if let Some(&b) = self.placed.get(&r) {
            self.alloc.give_back(b);
        }
    }

    fn binding(&mut self, name: &str, v: ValueId) -> Binding {
        Binding {
            name: name.to_string(),
            operand: self.operand(v),
        }
    }
}

/// Builds the plan of an inferred, optimised graph.
pub fn build(g: &Graph, batch: usize) -> Result<Plan> {
    let mut p = Placement {
        g,
        live: Liveness::of(g),
        constants: Vec::new(),
        const_index: HashMap::new(),
        alloc: Allocator::default(),
        placed: HashMap::new(),
    };
    let inputs: Vec<Binding> = g
        .inputs
        .iter()
        .map(|i| p.binding(&g.values[i.value].name, i.value))
        .collect();
    // Inputs nothing reads free their buffer at once.
    for i in &g.inputs {
        if p.live.unread(i.value) {
            p.release(i.value);
        }
    }

    let mut steps = Vec::new();
    let mut excitations = Vec::new();
    for (t, n) in g.nodes.iter().enumerate() {
        if n.op == Op::View {
            continue;
        }
        // Inputs first (already placed), then outputs (fresh buffers).
        let ins: Vec<Option<Operand>> = n.inputs.iter().map(|v| v.map(|v| p.operand(v))).collect();
        let outs: Vec<Operand> = n.outputs.iter().map(|&v| p.operand(v)).collect();
        let step = lower(n, &ins, &outs, &mut p.alloc)?;
        if let (Op::SeBlock { name, .. }, StepOp::SeBlock(SeStep { excitation, .. })) =
            (&n.op, &step)
        {
            excitations.push(ExcitationSlot {
                block: name.clone(),
                channels: excitation.shape[1],
                operand: excitation.clone(),
            });
        }
        // Release the buffers whose last reader was this step.
        let mut released: Vec<ValueId> = n.present_inputs().map(|v| p.live.root[v]).collect();
        released.sort_unstable();
        released.dedup();
        for r in released {
            if p.live.last[r] == t {
                p.release(r);
            }
        }
        // Outputs nothing reads (dead ends kept by an SE block) free at once.
        for &v in &n.outputs {
            if p.live.unread(v) {
                p.release(p.live.root[v]);
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
        .map(|(name, v)| p.binding(name, *v))
        .collect();
    Ok(Plan {
        batch,
        constants: p.constants,
        unshared_elements: p.alloc.total,
        buffers: p.alloc.capacity,
        steps,
        inputs,
        outputs,
        excitations,
    })
}
