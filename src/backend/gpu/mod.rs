//! The GPU backend. Session creation uploads the weights, allocates the plan's
//! buffers and prepares every dispatch (pipeline, bind group, uniforms) once, each
//! step lowered to its kernels by `lower.rs`; an inference writes the inputs, records
//! all dispatches and the copies of the outputs and excitation vectors into one
//! staging buffer, submits that as one command buffer, and maps the staging buffer
//! once.
//!
//! A session owns a clone of its runtime and can be shared by threads (or overlapping
//! browser calls): runs are serialised per session, since they share the input and
//! activation buffers.

mod lower;

use std::cell::RefCell;
use std::future::Future;

use super::{Backend, BackendSession, Inference, inference, order_inputs, read_back};
use crate::device::{Dispatch, HalfTensor, Runtime, Tensor};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::plan::{Loc, Operand, Plan};
use crate::tensor::HostTensor;

/// What one inference reads back of an output or excitation: the tensor at an index
/// of the session's `reads`, or a constant known on the host.
enum Readback {
    Device(usize),
    Host(HostTensor),
}

/// A model planned for a batch size on a [`Runtime`], ready to run.
pub struct Session {
    rt: Runtime,
    /// Held from writing the inputs to reading the results back: an overlapping run
    /// would otherwise overwrite the inputs or activations of the one in flight.
    turn: async_lock::Mutex<()>,
    plan: Plan,
    inputs: Vec<Tensor>,
    dispatches: Vec<Dispatch>,
    /// Where each step's dispatches end in `dispatches`, for per-step profiling.
    step_ends: Vec<usize>,
    /// One per operand of [`read_back`], in its order.
    readbacks: Vec<Readback>,
    /// The device tensors one inference reads back, in order.
    reads: Vec<Tensor>,
    /// Bytes of the weights on the device, f16 ones counted at 2 bytes per value.
    weight_bytes: usize,
    /// Keeps the weights and activation buffers alive (dispatches bind them).
    _storage: Vec<Tensor>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("batch", &self.plan.batch)
            .field("dispatches", &self.dispatches.len())
            .finish()
    }
}

impl Session {
    /// Uploads `model`'s weights for `batch` images and prepares every kernel. Fails
    /// with [`Error::LimitExceeded`] before allocating anything when a buffer of the
    /// plan is over the device's limits.
    pub fn new(rt: &Runtime, model: &Model, batch: usize) -> Result<Session> {
        Self::with_progress(rt, model, batch, |_, _| {})
    }

    /// [`new`](Self::new), calling `progress(done, total)` after each plan step's kernels
    /// are built (their pipelines compiled on first use): the page's progress bar.
    pub fn with_progress(
        rt: &Runtime,
        model: &Model,
        batch: usize,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Session> {
        rt.check_lost()?;
        let plan = model.plan(batch)?;
        check_limits(rt, &plan)?;
        let f16 = model.options().f16_weights;
        if f16 && !rt.profile().f16 {
            return Err(Error::invalid(
                "CompileOptions::f16_weights",
                format!(
                    "the adapter {} lacks the shader-f16 feature; compile the model \
                     without f16 weights",
                    rt.adapter_info().name
                ),
            ));
        }
        let buffers = plan
            .buffers
            .iter()
            .map(|&n| rt.tensor(&[n]))
            .collect::<Result<Vec<_>>>()?;
        // Constants upload on first use, in f32 or (conv and matmul weights with
        // f16_weights) f16, so a weight only an f16 kernel reads takes no f32 memory.
        let constants = RefCell::new(vec![None; plan.constants.len()]);
        let halves = RefCell::new(vec![None; plan.constants.len()]);
        let view = |o: &Operand| -> Result<Tensor> {
            match o.loc {
                Loc::Buffer(b) => buffers[b].view(&o.shape),
                Loc::Const(c) => {
                    cached(&constants, c, || rt.upload_host(&plan.constants[c]))?.reshape(&o.shape)
                }
            }
        };
        let half = |o: &Operand| -> Result<Option<HalfTensor>> {
            match o.loc {
                Loc::Const(c) if f16 => {
                    let t = &plan.constants[c];
                    let h = cached(&halves, c, || rt.upload_f16(&t.shape, &t.data))?;
                    Ok(Some(h.reshape(&o.shape)?))
                }
                _ => Ok(None),
            }
        };
        let mut dispatches = Vec::new();
        let mut step_ends = Vec::with_capacity(plan.steps.len());
        for step in &plan.steps {
            let prepared = lower::step(rt, &step.op, &view, &half).map_err(|e| match e {
                Error::Shape { .. } | Error::InvalidArgument { .. } => Error::invalid(
                    format!("step '{}' ({})", step.name, step.label),
                    e.to_string(),
                ),
                e => e,
            })?;
            dispatches.extend(prepared);
            step_ends.push(dispatches.len());
            progress(step_ends.len(), plan.steps.len());
        }
        let inputs = plan
            .inputs
            .iter()
            .map(|b| view(&b.operand))
            .collect::<Result<_>>()?;

        let mut reads = Vec::new();
        let readbacks = read_back(&plan)
            .map(|o| {
                if let Loc::Const(c) = o.loc {
                    let t = &plan.constants[c];
                    return Ok(Readback::Host(HostTensor::new(&o.shape, t.data.clone())?));
                }
                reads.push(view(o)?);
                Ok(Readback::Device(reads.len() - 1))
            })
            .collect::<Result<_>>()?;
        rt.check("creating a session")?;
        let (constants, halves) = (constants.into_inner(), halves.into_inner());
        let weight_bytes = constants
            .iter()
            .flatten()
            .map(|t| t.len() * 4)
            .sum::<usize>()
            + halves.iter().flatten().map(|h| h.len() * 2).sum::<usize>();
        Ok(Session {
            rt: rt.clone(),
            turn: async_lock::Mutex::new(()),
            plan,
            inputs,
            dispatches,
            step_ends,
            readbacks,
            reads,
            weight_bytes,
            _storage: buffers
                .into_iter()
                .chain(constants.into_iter().flatten())
                .chain(halves.into_iter().flatten().map(|h| h.packed().clone()))
                .collect(),
        })
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Bytes of the weights this session uploaded: less than the plan's constants with
    /// [`CompileOptions::f16_weights`](crate::CompileOptions::f16_weights).
    pub fn weight_bytes(&self) -> usize {
        self.weight_bytes
    }

    /// Number of prepared dispatches one inference records.
    pub fn dispatch_count(&self) -> usize {
        self.dispatches.len()
    }

    /// Each plan step's dispatches, in `plan().steps` order.
    fn step_dispatches(&self) -> impl Iterator<Item = &[Dispatch]> {
        let starts = std::iter::once(0).chain(self.step_ends.iter().copied());
        starts
            .zip(&self.step_ends)
            .map(|(start, &end)| &self.dispatches[start..end])
    }

    /// For each plan step (in `plan().steps` order), the kernel family and strategy of
    /// each of its dispatches ([`Dispatch::strategy`]).
    pub fn step_strategies(&self) -> Vec<Vec<&str>> {
        self.step_dispatches()
            .map(|step| step.iter().map(Dispatch::strategy).collect())
            .collect()
    }

    /// Runs one inference: one submission, one readback of the outputs and of every
    /// SE block's excitation vector.
    pub async fn run(&self, inputs: &[(&str, HostTensor)]) -> Result<Inference> {
        let rt = &self.rt;
        let _turn = self.turn.lock().await;
        rt.check_lost()?;
        self.write_inputs(inputs)?;
        let mut values = rt
            .submit_and_read(&self.dispatches, &self.reads, "running the model")
            .await?;
        let values = self
            .readbacks
            .iter()
            .map(|r| match r {
                Readback::Host(t) => Ok(t.clone()),
                Readback::Device(i) => {
                    HostTensor::new(self.reads[*i].shape(), std::mem::take(&mut values[*i]))
                }
            })
            .collect::<Result<_>>()?;
        Ok(inference(&self.plan, values))
    }
}

impl Session {
    /// The runtime the session runs on.
    pub fn runtime(&self) -> &Runtime {
        &self.rt
    }

    fn write_inputs(&self, inputs: &[(&str, HostTensor)]) -> Result<()> {
        let ordered = order_inputs(&self.plan, inputs)?;
        for (t, host) in self.inputs.iter().zip(ordered) {
            self.rt.write(t, bytemuck::cast_slice(&host.data));
        }
        Ok(())
    }

    /// Runs one inference with every plan step in its own timed compute pass and
    /// returns each step's GPU time in nanoseconds, in `plan().steps` order. Needs
    /// the TIMESTAMP_QUERY feature ([`Runtime::has_timestamps`]); results are not
    /// read back.
    pub async fn profile(&self, inputs: &[(&str, HostTensor)]) -> Result<Vec<f64>> {
        let _turn = self.turn.lock().await;
        self.rt.check_lost()?;
        self.write_inputs(inputs)?;
        let groups: Vec<&[Dispatch]> = self.step_dispatches().collect();
        self.rt.submit_timed(&groups).await
    }
}

/// Checks every buffer the plan needs against the device's limits before any is made.
fn check_limits(rt: &Runtime, plan: &Plan) -> Result<()> {
    let batch = plan.batch;
    for &n in &plan.buffers {
        rt.check_storage_size(
            || format!("the model's activations at batch {batch} (a buffer of {n} values)"),
            (n as u64).saturating_mul(4),
        )?;
    }
    for c in &plan.constants {
        rt.check_storage_size(
            || format!("a weight of shape {:?}", c.shape),
            (c.len() as u64).saturating_mul(4),
        )?;
    }
    let readback: u64 = read_back(plan)
        .filter(|o| matches!(o.loc, Loc::Buffer(_)))
        .map(|o| (o.len() as u64).saturating_mul(4))
        .sum();
    rt.check_staging_size(
        || format!("the readback of the outputs and excitations at batch {batch}"),
        readback,
    )
}

/// Entry `i` of `cache`, made by `make` on first use.
fn cached<T: Clone>(
    cache: &RefCell<Vec<Option<T>>>,
    i: usize,
    make: impl FnOnce() -> Result<T>,
) -> Result<T> {
    if let Some(t) = &cache.borrow()[i] {
        return Ok(t.clone());
    }
    let t = make()?;
    cache.borrow_mut()[i] = Some(t.clone());
    Ok(t)
}

/// The GPU backend: a runtime prepares [`Session`]s on its device.
impl Backend for Runtime {
    type Session = Session;

    fn name(&self) -> &'static str {
        "gpu"
    }

    fn prepare(&self, model: &Model, batch: usize) -> Result<Session> {
        Session::new(self, model, batch)
    }
}

impl BackendSession for Session {
    fn plan(&self) -> &Plan {
        Session::plan(self)
    }

    fn run(&self, inputs: &[(&str, HostTensor)]) -> impl Future<Output = Result<Inference>> {
        Session::run(self, inputs)
    }
}
