//! Adapter choice: the options read from the environment, the limit caps, and the
//! ranking that picks the best adapter.

use super::Runtime;
use crate::error::{Error, Result};

/// How to choose an adapter. `from_env` reads `SE_RUNTIME_BACKEND`
/// (vulkan, metal, dx12, gl, webgpu), `SE_RUNTIME_ADAPTER` (a case-insensitive
/// substring of the adapter name, e.g. "llvmpipe" or "nvidia") and `SE_RUNTIME_LIMITS`
/// (see [`LimitCaps::parse`]).
#[derive(Clone, Debug, Default)]
pub struct RuntimeOptions {
    pub backends: Option<wgpu::Backends>,
    pub adapter_name: Option<String>,
    /// Device limits below the adapter's, to exercise the paths a small GPU takes.
    pub caps: LimitCaps,
}

/// Upper bounds on the device limits the runtime requests (`None`: the adapter's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LimitCaps {
    pub max_storage_buffer_binding_size: Option<u64>,
    pub max_buffer_size: Option<u64>,
    pub max_compute_workgroups_per_dimension: Option<u32>,
}

impl LimitCaps {
    /// Parses `name=value` pairs separated by commas, e.g.
    /// `max_storage_buffer_binding_size=65536,max_compute_workgroups_per_dimension=16`.
    pub fn parse(spec: &str) -> Result<Self> {
        let mut caps = Self::default();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let bad = |why: &str| {
                Error::invalid(
                    "SE_RUNTIME_LIMITS",
                    format!(
                        "'{item}': {why}; use NAME=VALUE pairs with max_storage_buffer_binding_size, \
                         max_buffer_size or max_compute_workgroups_per_dimension"
                    ),
                )
            };
            let (name, value) = item.split_once('=').ok_or_else(|| bad("no '='"))?;
            let value: u64 = value
                .trim()
                .parse()
                .map_err(|_| bad("the value is not a whole number"))?;
            match name.trim() {
                "max_storage_buffer_binding_size" => {
                    caps.max_storage_buffer_binding_size = Some(value)
                }
                "max_buffer_size" => caps.max_buffer_size = Some(value),
                "max_compute_workgroups_per_dimension" => {
                    caps.max_compute_workgroups_per_dimension =
                        Some(u32::try_from(value).map_err(|_| bad("the value is too large"))?)
                }
                _ => return Err(bad("unknown limit")),
            }
        }
        Ok(caps)
    }

    /// `limits` lowered to the caps (never raised).
    pub fn apply(&self, mut limits: wgpu::Limits) -> wgpu::Limits {
        if let Some(v) = self.max_storage_buffer_binding_size {
            limits.max_storage_buffer_binding_size = limits.max_storage_buffer_binding_size.min(v);
        }
        if let Some(v) = self.max_buffer_size {
            limits.max_buffer_size = limits.max_buffer_size.min(v);
        }
        if let Some(v) = self.max_compute_workgroups_per_dimension {
            limits.max_compute_workgroups_per_dimension =
                limits.max_compute_workgroups_per_dimension.min(v.max(1));
        }
        limits
    }
}

impl RuntimeOptions {
    pub fn from_env() -> Result<Self> {
        let backends = match std::env::var("SE_RUNTIME_BACKEND") {
            Ok(name) if !name.is_empty() => Some(parse_backend(&name)?),
            _ => None,
        };
        let adapter_name = std::env::var("SE_RUNTIME_ADAPTER")
            .ok()
            .filter(|s| !s.is_empty());
        let caps = match std::env::var("SE_RUNTIME_LIMITS") {
            Ok(spec) => LimitCaps::parse(&spec)?,
            Err(_) => LimitCaps::default(),
        };
        Ok(Self {
            backends,
            adapter_name,
            caps,
        })
    }
}

pub fn parse_backend(name: &str) -> Result<wgpu::Backends> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "vulkan" | "vk" => wgpu::Backends::VULKAN,
        "metal" => wgpu::Backends::METAL,
        "dx12" | "d3d12" => wgpu::Backends::DX12,
        "gl" | "gles" | "opengl" => wgpu::Backends::GL,
        "webgpu" | "browser" => wgpu::Backends::BROWSER_WEBGPU,
        other => {
            return Err(Error::invalid(
                "SE_RUNTIME_BACKEND",
                format!("unknown backend '{other}'; use vulkan, metal, dx12, gl or webgpu"),
            ));
        }
    })
}

fn type_rank(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

fn backend_rank(b: wgpu::Backend) -> u8 {
    match b {
        wgpu::Backend::Vulkan | wgpu::Backend::Metal | wgpu::Backend::Dx12 => 0,
        wgpu::Backend::BrowserWebGpu => 0,
        _ => 1,
    }
}

/// The order adapters are preferred in: discrete GPUs first, modern backends first.
fn rank(i: &wgpu::AdapterInfo) -> (u8, u8) {
    (type_rank(i.device_type), backend_rank(i.backend))
}

fn no_adapter_hint() -> String {
    if cfg!(target_arch = "wasm32") {
        "this browser exposes no WebGPU adapter: use a recent Chrome or Edge, serve the page \
         over https or localhost, or enable WebGPU in the browser's flags"
            .into()
    } else if cfg!(target_os = "linux") {
        "install a Vulkan driver (for a software one: apt-get install mesa-vulkan-drivers \
         libvulkan1), or unset SE_RUNTIME_BACKEND / SE_RUNTIME_ADAPTER"
            .into()
    } else {
        "install or update the GPU driver, or unset SE_RUNTIME_BACKEND / SE_RUNTIME_ADAPTER".into()
    }
}

fn make_instance(backends: wgpu::Backends) -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    })
}

/// All adapters the backends offer, best first.
pub async fn list_adapters(backends: wgpu::Backends) -> Vec<wgpu::AdapterInfo> {
    let mut infos: Vec<_> = candidate_adapters(&make_instance(backends), backends)
        .await
        .iter()
        .map(|a| a.get_info())
        .collect();
    infos.sort_by_key(rank);
    infos
}

#[cfg(not(target_arch = "wasm32"))]
async fn candidate_adapters(
    instance: &wgpu::Instance,
    backends: wgpu::Backends,
) -> Vec<wgpu::Adapter> {
    instance.enumerate_adapters(backends).await
}

#[cfg(target_arch = "wasm32")]
async fn candidate_adapters(instance: &wgpu::Instance, _: wgpu::Backends) -> Vec<wgpu::Adapter> {
    let opts = wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        ..Default::default()
    };
    instance.request_adapter(&opts).await.into_iter().collect()
}

impl Runtime {
    /// The best adapter, honouring `SE_RUNTIME_BACKEND` and `SE_RUNTIME_ADAPTER`.
    pub async fn new() -> Result<Self> {
        Self::with_options(RuntimeOptions::from_env()?).await
    }

    pub async fn with_options(options: RuntimeOptions) -> Result<Self> {
        let backends = options.backends.unwrap_or(if cfg!(target_arch = "wasm32") {
            wgpu::Backends::BROWSER_WEBGPU
        } else {
            wgpu::Backends::all()
        });
        let instance = make_instance(backends);
        let mut adapters = candidate_adapters(&instance, backends).await;
        if let Some(name) = &options.adapter_name {
            let name = name.to_lowercase();
            adapters.retain(|a| a.get_info().name.to_lowercase().contains(&name));
        }
        adapters.sort_by_key(|a| rank(&a.get_info()));
        let Some(adapter) = adapters.into_iter().next() else {
            let mut tried = format!("backends {backends:?}");
            if let Some(n) = &options.adapter_name {
                tried += &format!(", name containing '{n}'");
            }
            return Err(Error::NoAdapter {
                tried,
                hint: no_adapter_hint(),
            });
        };
        Self::from_adapter_with(adapter, options.caps).await
    }
}
