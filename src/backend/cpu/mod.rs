//! The CPU engine: a plan's steps on fast native kernels, with the same buffers,
//! outputs and excitations as the reference (`super::reference`).
//!
//! At prepare time each step is compiled once into a [`Kernel`]: convolutions become
//! matrix products (`conv.rs`, `gemm.rs`) or depthwise loops (`depthwise.rs`) with
//! their weights copied out of the plan, fully connected layers matrix products
//! (`matmul.rs`), SE blocks one fused step (`se.rs`). Every
//! other step, and any step whose operands a fast kernel does not take (weights
//! computed at run time, unusual shapes), runs on its reference twin in `src/cpu/`,
//! so every op a plan can hold runs here. Steps run one after another, each kernel
//! split over the engine's threads (a rayon pool of its own). The activation buffers
//! are kept from run to run, so a run allocates only its fallback steps' results and
//! the values it returns.

mod conv;
mod depthwise;
mod epilogue;
mod gemm;
mod matmul;
mod se;
mod simd;

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use self::conv::{GemmConv, Geometry};
use self::depthwise::Depthwise;
use self::matmul::PackedMatMul;
use self::se::{SeData, SeOut, SeParams, se_block};
pub use self::simd::Simd;
use super::reference::{Memory, run_step};
use super::{Backend, BackendSession, Inference, inference, order_inputs, read_back};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::ops::excite::excite_dims;
use crate::plan::{ConvStep, Loc, Operand, Plan, SeStep, StepOp};
use crate::tensor::HostTensor;

/// The CPU engine: it prepares [`EngineSession`]s that share its threads.
#[derive(Clone)]
pub struct CpuEngine {
    threads: usize,
    simd: Simd,
    pool: Arc<rayon::ThreadPool>,
}

impl std::fmt::Debug for CpuEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CpuEngine {{ threads: {} }}", self.threads)
    }
}

impl CpuEngine {
    /// An engine on `threads` threads (`None`: the machine's available parallelism).
    pub fn new(threads: Option<usize>) -> Result<CpuEngine> {
        let threads =
            threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        if threads == 0 {
            return Err(Error::invalid(
                "CPU engine",
                "0 threads: give at least 1, or none for the machine's core count",
            ));
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("se-runtime-cpu-{i}"))
            .build()
            .map_err(|e| Error::invalid("CPU engine", format!("cannot start its threads: {e}")))?;
        Ok(CpuEngine {
            threads,
            simd: Simd::Best,
            pool: Arc::new(pool),
        })
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The engine with its own loops limited to `simd` (all of them by default).
    pub fn with_simd(mut self, simd: Simd) -> CpuEngine {
        self.simd = simd;
        self
    }

    pub fn simd(&self) -> Simd {
        self.simd
    }
}

/// A plan prepared on the [`CpuEngine`].
pub struct EngineSession {
    plan: Plan,
    kernels: Vec<Kernel>,
    engine: CpuEngine,
    /// Buffers and scratch, kept between runs; a run holds them throughout.
    state: Mutex<State>,
}

struct State {
    buffers: Vec<Option<HostTensor>>,
    /// im2col columns, as large as the largest convolution needs.
    scratch: Vec<f32>,
}

/// How the engine runs one step.
enum Kernel {
    Conv(GemmConv),
    Depthwise(Depthwise),
    MatMul(PackedMatMul),
    SeBlock(SeParams),
    /// The step's reference twin.
    Reference,
}

impl Kernel {
    /// What the engine runs for `op`.
    fn compile(plan: &Plan, op: &StepOp) -> Kernel {
        let constant = |o: &Operand| match o.loc {
            Loc::Const(c) if plan.constants[c].len() == o.len() => Some(&plan.constants[c].data),
            _ => None,
        };
        // No bias, a constant `[len]` one, or (`None`) one the kernels do not take.
        let bias_of = |bias: &Option<Operand>, len: usize| match bias {
            None => Some(None),
            Some(o) if o.shape == [len] => constant(o).map(|d| Some(d.clone())),
            Some(_) => None,
        };
        match op {
            StepOp::Conv(ConvStep {
                x,
                w,
                bias,
                conv,
                act,
                y,
                ..
            }) => {
                let (Some(weights), [_, _, _, _], [_, _, _, _]) =
                    (constant(w), &x.shape[..], &y.shape[..])
                else {
                    return Kernel::Reference;
                };
                let Some(bias) = bias_of(bias, y.shape[1]) else {
                    return Kernel::Reference;
                };
                // A shape the convolution cannot produce gets the reference's error.
                if conv.output_shape(&x.shape, &w.shape).ok().as_ref() != Some(&y.shape) {
                    return Kernel::Reference;
                }
                let geometry = Geometry::new(&x.shape, &w.shape, &y.shape, conv);
                let (weights, act) = (weights.clone(), *act);
                if Depthwise::fits(&geometry) {
                    Kernel::Depthwise(Depthwise {
                        geometry,
                        weights,
                        bias,
                        act,
                    })
                } else {
                    Kernel::Conv(GemmConv {
                        geometry,
                        weights,
                        bias,
                        act,
                    })
                }
            }
            StepOp::SeBlock(SeStep {
                x,
                w1,
                b1,
                w2,
                b2,
                pooling,
                hidden,
                gate,
                act,
                squeezed,
                y,
                ..
            }) => {
                let weights = [w1, b1, w2, b2].iter().all(|o| constant(o).is_some());
                let dims = excite_dims(&squeezed.shape, &w1.shape, &b1.shape, &w2.shape, &b2.shape);
                match (&x.shape[..], weights, dims) {
                    ([n, c, h, w], true, Ok((dn, dc, _)))
                        if (*n, *c) == (dn, dc) && y.shape == x.shape && h * w > 0 =>
                    {
                        Kernel::SeBlock(SeParams {
                            channels: *c,
                            plane: h * w,
                            pooling: *pooling,
                            hidden: *hidden,
                            gate: *gate,
                            act: *act,
                        })
                    }
                    _ => Kernel::Reference,
                }
            }
            StepOp::MatMul { a, b, bias, act, y } => {
                let (Some(weights), Some((rows, inner, cols))) = (
                    constant(b),
                    PackedMatMul::fits(&a.shape, &b.shape, &y.shape),
                ) else {
                    return Kernel::Reference;
                };
                let Some(bias) = bias_of(bias, cols) else {
                    return Kernel::Reference;
                };
                Kernel::MatMul(PackedMatMul {
                    rows,
                    inner,
                    cols,
                    weights: weights.clone(),
                    bias,
                    act: *act,
                })
            }
            _ => Kernel::Reference,
        }
    }

    fn scratch(&self) -> usize {
        match self {
            Kernel::Conv(k) => k.geometry.scratch(),
            _ => 0,
        }
    }
}

impl EngineSession {
    pub fn new(engine: &CpuEngine, model: &Model, batch: usize) -> Result<EngineSession> {
        let plan = model.plan(batch)?;
        let kernels: Vec<Kernel> = plan
            .steps
            .iter()
            .map(|s| Kernel::compile(&plan, &s.op))
            .collect();
        let scratch = vec![0.0; kernels.iter().map(Kernel::scratch).max().unwrap_or(0)];
        let buffers = plan
            .buffers
            .iter()
            .map(|&capacity| {
                Some(HostTensor {
                    shape: Vec::new(),
                    data: Vec::with_capacity(capacity),
                })
            })
            .collect();
        Ok(EngineSession {
            plan,
            kernels,
            engine: engine.clone(),
            state: Mutex::new(State { buffers, scratch }),
        })
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The steps that have a fast kernel here, of all steps.
    pub fn fast_steps(&self) -> usize {
        let fast = |k: &&Kernel| !matches!(k, Kernel::Reference);
        self.kernels.iter().filter(fast).count()
    }

    /// Bytes of the weights the kernels keep (copied out of the plan).
    pub fn weight_bytes(&self) -> usize {
        let bytes = |k: &Kernel| match k {
            Kernel::Conv(k) => k.weights.len() + k.bias.as_ref().map_or(0, Vec::len),
            Kernel::Depthwise(k) => k.weights.len() + k.bias.as_ref().map_or(0, Vec::len),
            Kernel::MatMul(k) => k.weights.len() + k.bias.as_ref().map_or(0, Vec::len),
            _ => 0,
        };
        self.kernels.iter().map(bytes).sum::<usize>() * 4
    }

    /// Runs one inference. Async only to match the other backends; it completes
    /// without awaiting anything.
    pub async fn run(&self, inputs: &[(&str, HostTensor)]) -> Result<Inference> {
        self.run_now(inputs, None)
    }

    /// Runs one inference and returns each step's wall time, in milliseconds.
    pub fn profile(&self, inputs: &[(&str, HostTensor)]) -> Result<Vec<f64>> {
        let mut times = Vec::with_capacity(self.plan.steps.len());
        self.run_now(inputs, Some(&mut times))?;
        Ok(times)
    }

    /// Which kernel runs each step: `gemm`, `im2col+gemm`, `depthwise`, `se-fused`
    /// or `reference`.
    pub fn step_kernels(&self) -> Vec<&'static str> {
        let name = |k: &Kernel| match k {
            Kernel::Conv(c) if c.geometry.scratch() == 0 => "gemm",
            Kernel::Conv(_) => "im2col+gemm",
            Kernel::Depthwise(_) => "depthwise",
            Kernel::MatMul(_) => "gemm",
            Kernel::SeBlock(_) => "se-fused",
            Kernel::Reference => "reference",
        };
        self.kernels.iter().map(name).collect()
    }

    fn run_now(
        &self,
        inputs: &[(&str, HostTensor)],
        mut times: Option<&mut Vec<f64>>,
    ) -> Result<Inference> {
        let plan = &self.plan;
        let ordered = order_inputs(plan, inputs)?;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let State { buffers, scratch } = &mut *state;
        let mut mem = Memory {
            plan,
            buffers: std::mem::take(buffers),
        };
        let result = self.engine.pool.install(|| {
            for (b, t) in plan.inputs.iter().zip(ordered) {
                let mut slot = take(&mut mem, &b.operand)?;
                slot.data.copy_from_slice(&t.data);
                put(&mut mem, &b.operand, slot);
            }
            for (step, kernel) in plan.steps.iter().zip(&self.kernels) {
                let started = std::time::Instant::now();
                self.run_step(&mut mem, &step.op, kernel, scratch)?;
                if let Some(times) = times.as_deref_mut() {
                    times.push(started.elapsed().as_secs_f64() * 1e3);
                }
            }
            read_back(plan)
                .map(|o| Ok(mem.get(o)?.into_owned()))
                .collect::<Result<Vec<_>>>()
        });
        // Kept for the next run even when this one failed.
        *buffers = mem.buffers;
        Ok(inference(plan, result?))
    }

    fn run_step(
        &self,
        mem: &mut Memory,
        op: &StepOp,
        kernel: &Kernel,
        scratch: &mut [f32],
    ) -> Result<()> {
        let threads = self.engine.threads;
        match (kernel, op) {
            (Kernel::Conv(k), StepOp::Conv(ConvStep { x, residual, y, .. })) => {
                let mut out = take(mem, y)?;
                let r = residual.as_ref().map(|r| read(mem, r)).transpose()?;
                k.run(threads, read(mem, x)?, r, &mut out.data, scratch);
                put(mem, y, out);
            }
            (Kernel::Depthwise(k), StepOp::Conv(ConvStep { x, residual, y, .. })) => {
                let mut out = take(mem, y)?;
                let r = residual.as_ref().map(|r| read(mem, r)).transpose()?;
                let avx2 = self.engine.simd.avx2();
                k.run((threads, avx2), read(mem, x)?, r, &mut out.data);
                put(mem, y, out);
            }
            (Kernel::MatMul(k), StepOp::MatMul { a, y, .. }) => {
                let mut out = take(mem, y)?;
                k.run(threads, read(mem, a)?, &mut out.data);
                put(mem, y, out);
            }
            (Kernel::SeBlock(p), StepOp::SeBlock(se)) => {
                let (mut s, mut e, mut out) = (
                    take(mem, &se.squeezed)?,
                    take(mem, &se.excitation)?,
                    take(mem, &se.y)?,
                );
                let data = SeData {
                    x: read(mem, &se.x)?,
                    w1: read(mem, &se.w1)?,
                    b1: read(mem, &se.b1)?,
                    w2: read(mem, &se.w2)?,
                    b2: read(mem, &se.b2)?,
                    residual: se.residual.as_ref().map(|r| read(mem, r)).transpose()?,
                };
                let outputs = SeOut {
                    squeezed: &mut s.data,
                    excitation: &mut e.data,
                    y: &mut out.data,
                };
                se_block(threads, p, &data, outputs);
                put(mem, &se.squeezed, s);
                put(mem, &se.excitation, e);
                put(mem, &se.y, out);
            }
            _ => run_step(mem, op)?,
        }
        Ok(())
    }
}

/// The data of `o`, which must hold exactly its planned number of elements.
fn read<'m>(mem: &'m Memory, o: &Operand) -> Result<&'m [f32]> {
    let data = match o.loc {
        Loc::Const(c) => &mem.plan.constants[c].data,
        Loc::Buffer(b) => match &mem.buffers[b] {
            Some(t) => &t.data,
            None => {
                return Err(Error::invalid(
                    "CPU engine",
                    format!("buffer {b} is in use"),
                ));
            }
        },
    };
    if data.len() != o.len() {
        return Err(Error::shape("CPU engine operand", &o.shape, [data.len()]));
    }
    Ok(data)
}

/// The buffer `o` is written to, taken out of `mem` (so its inputs can be read
/// meanwhile) and sized to `o`; [`put`] gives it back. Its allocation is reused.
fn take(mem: &mut Memory, o: &Operand) -> Result<HostTensor> {
    let Loc::Buffer(b) = o.loc else {
        return Err(Error::invalid("CPU engine", "a step writes a constant"));
    };
    let mut t = mem.buffers[b].take().unwrap_or(HostTensor {
        shape: Vec::new(),
        data: Vec::new(),
    });
    t.data.resize(o.len(), 0.0);
    t.shape.clear();
    t.shape.extend_from_slice(&o.shape);
    Ok(t)
}

fn put(mem: &mut Memory, o: &Operand, t: HostTensor) {
    if let Loc::Buffer(b) = o.loc {
        mem.buffers[b] = Some(t);
    }
}

impl Backend for CpuEngine {
    type Session = EngineSession;

    fn name(&self) -> &'static str {
        "cpu"
    }

    fn prepare(&self, model: &Model, batch: usize) -> Result<EngineSession> {
        EngineSession::new(self, model, batch)
    }
}

impl BackendSession for EngineSession {
    fn plan(&self) -> &Plan {
        EngineSession::plan(self)
    }

    fn run(&self, inputs: &[(&str, HostTensor)]) -> impl Future<Output = Result<Inference>> {
        EngineSession::run(self, inputs)
    }
}
