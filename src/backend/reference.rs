//! The CPU reference backend: runs a plan's steps with the plain-Rust twins of the
//! kernels, in the same buffers the GPU uses. The reference in tests, and the fallback
//! where WebGPU is missing.

use std::borrow::Cow;
use std::future::Future;

use super::{Backend, BackendSession, Inference, inference, order_inputs, read_back};
use crate::cpu;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::ops::SqueezeMode;
use crate::plan::{Loc, Operand, Plan, StepOp};
use crate::tensor::HostTensor;

/// The CPU reference backend: it prepares [`CpuSession`]s.
#[derive(Clone, Copy, Debug, Default)]
pub struct Reference;

/// A model planned for a batch size, run on the CPU.
#[derive(Clone, Debug)]
pub struct CpuSession {
    plan: Plan,
}

/// Buffer contents during a run: each buffer holds the last value written to it.
/// The CPU engine (`super::cpu`) runs its fallback steps in the same memory.
pub(super) struct Memory<'p> {
    pub(super) plan: &'p Plan,
    pub(super) buffers: Vec<Option<HostTensor>>,
}

impl Memory<'_> {
    pub(super) fn get(&self, o: &Operand) -> Result<Cow<'_, HostTensor>> {
        let t = match o.loc {
            Loc::Const(c) => &*self.plan.constants[c],
            Loc::Buffer(b) => self.buffers[b].as_ref().ok_or_else(|| {
                Error::invalid(
                    "CpuSession",
                    format!("buffer {b} is read before it is written"),
                )
            })?,
        };
        if t.shape == o.shape {
            return Ok(Cow::Borrowed(t));
        }
        if t.len() != o.len() {
            return Err(Error::shape("CpuSession operand", &o.shape, &t.shape));
        }
        Ok(Cow::Owned(HostTensor {
            shape: o.shape.clone(),
            data: t.data.clone(),
        }))
    }

    fn opt(&self, o: &Option<Operand>) -> Result<Option<Cow<'_, HostTensor>>> {
        o.as_ref().map(|o| self.get(o)).transpose()
    }

    pub(super) fn set(&mut self, o: &Operand, t: HostTensor) -> Result<()> {
        if t.shape != o.shape {
            return Err(Error::shape("CpuSession result", &o.shape, &t.shape));
        }
        match o.loc {
            // Into the buffer's allocation when it is large enough: the engine keeps
            // its buffers from run to run.
            Loc::Buffer(b) => match &mut self.buffers[b] {
                Some(old) if old.data.capacity() >= t.data.len() => {
                    old.data.clear();
                    old.data.extend_from_slice(&t.data);
                    old.shape = t.shape;
                }
                slot => *slot = Some(t),
            },
            Loc::Const(_) => return Err(Error::invalid("CpuSession", "a step writes a constant")),
        }
        Ok(())
    }
}

impl CpuSession {
    pub fn new(model: &Model, batch: usize) -> Result<CpuSession> {
        Ok(CpuSession {
            plan: model.plan(batch)?,
        })
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Runs one inference. Async only to match [`Session::run`](super::Session::run);
    /// it completes without awaiting anything.
    pub async fn run(&self, inputs: &[(&str, HostTensor)]) -> Result<Inference> {
        self.run_now(inputs)
    }

    fn run_now(&self, inputs: &[(&str, HostTensor)]) -> Result<Inference> {
        let plan = &self.plan;
        let ordered = order_inputs(plan, inputs)?;
        let mut mem = Memory {
            plan,
            buffers: vec![None; plan.buffers.len()],
        };
        for (b, t) in plan.inputs.iter().zip(ordered) {
            mem.set(&b.operand, t.clone())?;
        }
        for step in &plan.steps {
            run_step(&mut mem, &step.op)?;
        }
        let values = read_back(plan)
            .map(|o| Ok(mem.get(o)?.into_owned()))
            .collect::<Result<_>>()?;
        Ok(inference(plan, values))
    }
}

impl Backend for Reference {
    type Session = CpuSession;

    fn name(&self) -> &'static str {
        "cpu-reference"
    }

    fn prepare(&self, model: &Model, batch: usize) -> Result<CpuSession> {
        CpuSession::new(model, batch)
    }
}

impl BackendSession for CpuSession {
    fn plan(&self) -> &Plan {
        CpuSession::plan(self)
    }

    fn run(&self, inputs: &[(&str, HostTensor)]) -> impl Future<Output = Result<Inference>> {
        CpuSession::run(self, inputs)
    }
}

pub(super) fn run_step(mem: &mut Memory, op: &StepOp) -> Result<()> {
    let (out, result) = match op {
        StepOp::Split { x, axis, ys } => {
            let sizes: Vec<usize> = ys.iter().map(|y| y.shape[*axis]).collect();
            let parts = cpu::slice::split(&*mem.get(x)?, *axis, &sizes)?;
            return ys.iter().zip(parts).try_for_each(|(y, t)| mem.set(y, t));
        }
        StepOp::LayerNorm(l) => {
            let (x, scale, b) = (mem.get(&l.x)?, mem.get(&l.scale)?, mem.opt(&l.bias)?);
            let (t, m, s) = cpu::layer_norm::layer_norm(&x, &scale, b.as_deref(), 1, l.epsilon)?;
            mem.set(&l.mean, m)?;
            mem.set(&l.inv_std, s)?;
            (&l.y, t)
        }
        StepOp::Slice { x, axes, y } => (y, cpu::slice::slice(&*mem.get(x)?, axes)?),
        StepOp::Conv(c) => {
            let (b, r) = (mem.opt(&c.bias)?, mem.opt(&c.residual)?);
            let (x, w) = (mem.get(&c.x)?, mem.get(&c.w)?);
            let t = cpu::conv2d::conv2d(&x, &w, b.as_deref(), r.as_deref(), &c.conv, c.act)?;
            (&c.y, t)
        }
        StepOp::MatMul { a, b, bias, act, y } => {
            let bias = mem.opt(bias)?;
            (
                y,
                cpu::matmul::matmul(&*mem.get(a)?, &*mem.get(b)?, bias.as_deref(), *act)?,
            )
        }
        StepOp::Unary { x, act, y } => (y, cpu::unary::unary(&*mem.get(x)?, *act)),
        StepOp::Math { x, op, y } => (y, cpu::unary::unary_op(&*mem.get(x)?, *op)),
        StepOp::Binary { op, a, b, act, y } => (
            y,
            cpu::binary::binary(*op, &*mem.get(a)?, &*mem.get(b)?, *act)?,
        ),
        StepOp::Squeeze { x, mode, y } => (y, cpu::squeeze::squeeze(&*mem.get(x)?, *mode)?),
        StepOp::Reduce { x, kind, axes, y } => {
            (y, cpu::reduce::reduce(&*mem.get(x)?, *kind, axes)?)
        }
        StepOp::Pool { x, mode, params, y } => {
            let x = mem.get(x)?;
            let t = match mode {
                SqueezeMode::Max => cpu::pool::max_pool2d(&x, params)?,
                SqueezeMode::Avg => cpu::pool::avg_pool2d(&x, params)?,
            };
            (y, t)
        }
        StepOp::Softmax { x, axis, log, y } => {
            (y, cpu::softmax::normalise(&*mem.get(x)?, *axis, *log)?)
        }
        StepOp::Concat { xs, axis, y } => {
            let parts = xs.iter().map(|x| mem.get(x)).collect::<Result<Vec<_>>>()?;
            let refs: Vec<&HostTensor> = parts.iter().map(|p| &**p).collect();
            (y, cpu::concat::concat(&refs, *axis)?)
        }
        StepOp::Transpose { x, perm, y } => (y, cpu::transpose::transpose(&*mem.get(x)?, perm)?),
        StepOp::Pad { x, pads, kind, y } => (y, cpu::pad::pad(&*mem.get(x)?, pads, *kind)?),
        StepOp::SeBlock(se) => {
            let xv = mem.get(&se.x)?.into_owned();
            let s = cpu::squeeze::squeeze(&xv, se.pooling)?;
            let e = cpu::excite::excite(
                &s,
                &*mem.get(&se.w1)?,
                &*mem.get(&se.b1)?,
                se.hidden,
                &*mem.get(&se.w2)?,
                &*mem.get(&se.b2)?,
                se.gate,
            )?;
            let r = mem.opt(&se.residual)?.map(Cow::into_owned);
            let t = cpu::scale::scale(&xv, &e, r.as_ref(), se.act)?;
            mem.set(&se.squeezed, s)?;
            mem.set(&se.excitation, e)?;
            (&se.y, t)
        }
    };
    mem.set(out, result)
}
