//! The backend seam: a [`Plan`] is run by a backend, and callers hold one without
//! knowing which. One folder or file per backend, as in candle:
//! - `gpu/`: the GPU through wgpu ([`Runtime`](crate::Runtime) prepares a [`Session`]);
//! - `reference.rs`: the plain-Rust CPU reference ([`Reference`] prepares a
//!   [`CpuSession`]), the oracle of the tests and the fallback where WebGPU is missing;
//! - `cpu/`: the fast CPU engine, native only ([`CpuEngine`] prepares an
//!   [`EngineSession`]), for machines without a real GPU;
//! - `choice.rs`: which of the engine and the GPU runs by default ([`choose`]).
//!
//! A backend ([`Backend`]) prepares a model's plan for a batch size once (uploads
//! weights, builds kernels, packs buffers, as it needs); the prepared plan
//! ([`BackendSession`]) then runs named inputs to an [`Inference`], any number of times.
//! What every backend shares lives here: matching the caller's inputs to the plan's
//! (`order_inputs`) and assembling the [`Inference`] from the values read back.

#[cfg(not(target_arch = "wasm32"))]
mod choice;
#[cfg(not(target_arch = "wasm32"))]
mod cpu;
mod gpu;
mod reference;

#[cfg(not(target_arch = "wasm32"))]
pub use choice::{Choice, Chosen, ChosenSession, choose, is_software};
#[cfg(not(target_arch = "wasm32"))]
pub use cpu::{CpuEngine, EngineSession, Simd};
pub use gpu::Session;
pub use reference::{CpuSession, Reference};

use std::future::Future;

use crate::error::{Error, Result};
use crate::model::Model;
use crate::plan::{Operand, Plan};
use crate::tensor::HostTensor;

/// Something that runs execution plans: the GPU, the CPU reference, the CPU engine.
pub trait Backend {
    /// A model's plan prepared on this backend for one batch size.
    type Session: BackendSession;

    /// A short name for reports and errors.
    fn name(&self) -> &'static str;

    /// Plans `model` for `batch` images and prepares everything a run needs.
    fn prepare(&self, model: &Model, batch: usize) -> Result<Self::Session>;
}

/// A plan prepared by a [`Backend`], ready to run.
pub trait BackendSession {
    fn plan(&self) -> &Plan;

    /// Runs one inference on `inputs`, each named input of the plan given once with
    /// its planned shape: the outputs, and every SE block's excitations. A future
    /// because the GPU reads results back asynchronously in the browser; a CPU backend
    /// may complete without awaiting.
    fn run(&self, inputs: &[(&str, HostTensor)]) -> impl Future<Output = Result<Inference>>;
}

/// The result of one inference: the model's outputs, and the excitation vector of
/// every SE block (in network order).
#[derive(Clone, Debug, PartialEq)]
pub struct Inference {
    pub outputs: Vec<(String, HostTensor)>,
    pub excitations: Vec<Excitation>,
}

/// One SE block's channel weights for every image of the batch.
#[derive(Clone, Debug, PartialEq)]
pub struct Excitation {
    pub block: String,
    pub channels: usize,
    /// `[N, C]`: the gate applied to each channel of each image.
    pub values: HostTensor,
}

impl Inference {
    pub fn output(&self, name: &str) -> Option<&HostTensor> {
        self.outputs.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    pub fn excitation(&self, block: &str) -> Option<&Excitation> {
        self.excitations.iter().find(|e| e.block == block)
    }
}

/// Matches named inputs to the plan's, in plan order; every input exactly once,
/// with its planned shape.
fn order_inputs<'a>(plan: &Plan, inputs: &'a [(&str, HostTensor)]) -> Result<Vec<&'a HostTensor>> {
    for (name, _) in inputs {
        if !plan.inputs.iter().any(|b| b.name == *name) {
            let known: Vec<&str> = plan.inputs.iter().map(|b| b.name.as_str()).collect();
            return Err(Error::invalid(
                "run",
                format!("the model has no input '{name}' (inputs: {known:?})"),
            ));
        }
    }
    plan.inputs
        .iter()
        .map(|b| {
            let mut found = inputs.iter().filter(|(n, _)| *n == b.name);
            let (Some((_, t)), None) = (found.next(), found.next()) else {
                return Err(Error::invalid(
                    "run",
                    format!("input '{}' must be given exactly once", b.name),
                ));
            };
            if t.shape != b.operand.shape {
                return Err(Error::shape(
                    format!("input '{}'", b.name),
                    &b.operand.shape,
                    &t.shape,
                ));
            }
            Ok(t)
        })
        .collect()
}

/// The operands an inference reads back: the plan's outputs, then its excitation
/// slots, in order.
fn read_back(plan: &Plan) -> impl Iterator<Item = &Operand> {
    let outputs = plan.outputs.iter().map(|b| &b.operand);
    outputs.chain(plan.excitations.iter().map(|e| &e.operand))
}

/// The [`Inference`] of `plan` from the values of its [`read_back`] operands, in
/// that order.
fn inference(plan: &Plan, values: Vec<HostTensor>) -> Inference {
    let mut values = values.into_iter();
    let outputs = plan
        .outputs
        .iter()
        .zip(&mut values)
        .map(|(b, t)| (b.name.clone(), t))
        .collect();
    let excitations = plan
        .excitations
        .iter()
        .zip(values)
        .map(|(e, values)| Excitation {
            block: e.block.clone(),
            channels: e.channels,
            values,
        })
        .collect();
    Inference {
        outputs,
        excitations,
    }
}
