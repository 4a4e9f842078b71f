//! Which backend runs a model natively: the CPU engine or the GPU, from the
//! [`RuntimeOptions`]. By default the GPU runs only where it is a real one: an
//! adapter that renders in software (lavapipe, llvmpipe, SwiftShader, WARP, any
//! adapter of the CPU type) is slower than the CPU engine on the same cores, and a
//! machine without any GPU API gets the engine too.

use std::future::Future;

use super::{Backend, BackendSession, CpuEngine, EngineSession, Inference, Session};
use crate::device::{BackendPreference, Runtime, RuntimeOptions, list_adapters};
use crate::error::Result;
use crate::model::Model;
use crate::plan::Plan;
use crate::tensor::HostTensor;

/// The backend chosen, ready to prepare models.
pub enum Chosen {
    Cpu(CpuEngine),
    Gpu(Runtime),
}

/// A [`Chosen`] backend and why it was chosen, in words for `info` and `bench`.
pub struct Choice {
    pub backend: Chosen,
    pub reason: String,
}

/// Whether an adapter renders in software on the CPU.
pub fn is_software(info: &wgpu::AdapterInfo) -> bool {
    let name = info.name.to_lowercase();
    info.device_type == wgpu::DeviceType::Cpu
        || [
            "llvmpipe",
            "lavapipe",
            "swiftshader",
            "warp",
            "basic render",
        ]
        .iter()
        .any(|s| name.contains(s))
}

/// The backend `options` ask for (see [`BackendPreference`]).
pub async fn choose(options: RuntimeOptions) -> Result<Choice> {
    let cpu = |reason: String| -> Result<Choice> {
        Ok(Choice {
            backend: Chosen::Cpu(CpuEngine::new(options.threads)?),
            reason,
        })
    };
    let named = options.backends.is_some() || options.adapter_name.is_some();
    let reason = match options.preference {
        BackendPreference::Cpu => return cpu("asked for (cpu)".into()),
        BackendPreference::Gpu => "asked for (gpu)".to_string(),
        BackendPreference::Auto if named => "a GPU backend or adapter was named".to_string(),
        BackendPreference::Auto => {
            let adapters = list_adapters(wgpu::Backends::all()).await;
            match adapters.iter().find(|a| !is_software(a)) {
                Some(a) => format!("hardware adapter {} found", a.name),
                None if adapters.is_empty() => return cpu("no GPU adapter found".into()),
                None => {
                    let mut names: Vec<&str> = adapters.iter().map(|a| a.name.as_str()).collect();
                    names.dedup();
                    return cpu(format!(
                        "only software adapters found ({}); SE_RUNTIME_BACKEND=gpu runs on them",
                        names.join(", ")
                    ));
                }
            }
        }
    };
    Ok(Choice {
        backend: Chosen::Gpu(Runtime::with_options(options).await?),
        reason,
    })
}

impl Chosen {
    /// `cpu engine (2 threads)`, or the adapter's name.
    pub fn describe(&self) -> String {
        match self {
            Chosen::Cpu(e) => format!("cpu engine ({} threads)", e.threads()),
            Chosen::Gpu(rt) => rt.adapter_info().name.clone(),
        }
    }

    pub fn prepare(&self, model: &Model, batch: usize) -> Result<ChosenSession> {
        Ok(match self {
            Chosen::Cpu(e) => ChosenSession::Cpu(e.prepare(model, batch)?),
            Chosen::Gpu(rt) => ChosenSession::Gpu(rt.prepare(model, batch)?),
        })
    }
}

/// A model prepared on the [`Chosen`] backend.
pub enum ChosenSession {
    Cpu(EngineSession),
    Gpu(Session),
}

impl ChosenSession {
    pub fn plan(&self) -> &Plan {
        match self {
            ChosenSession::Cpu(s) => s.plan(),
            ChosenSession::Gpu(s) => s.plan(),
        }
    }

    pub async fn run(&self, inputs: &[(&str, HostTensor)]) -> Result<Inference> {
        match self {
            ChosenSession::Cpu(s) => s.run(inputs).await,
            ChosenSession::Gpu(s) => s.run(inputs).await,
        }
    }
}

impl BackendSession for ChosenSession {
    fn plan(&self) -> &Plan {
        ChosenSession::plan(self)
    }

    fn run(&self, inputs: &[(&str, HostTensor)]) -> impl Future<Output = Result<Inference>> {
        ChosenSession::run(self, inputs)
    }
}
