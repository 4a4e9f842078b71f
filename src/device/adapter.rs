//! Adapter choice: the options read from the environment, the limit caps, and the
//! ranking that picks the best adapter.

use super::{DeviceClass, Runtime};
use crate::error::{Error, Result};

/// How to choose a backend and adapter and shape its device. `from_env` reads
/// `SE_RUNTIME_BACKEND` (cpu, gpu, vulkan, metal, dx12, gl, webgpu),
/// `SE_RUNTIME_ADAPTER` (a case-insensitive substring of the adapter name, e.g.
/// "llvmpipe" or "nvidia"), `SE_RUNTIME_LIMITS` (see [`LimitCaps::parse`]),
/// `SE_RUNTIME_DEVICE_CLASS` (`gpu` or `cpu`) and `SE_RUNTIME_THREADS` (the CPU
/// engine's thread count).
#[derive(Clone, Debug, Default)]
pub struct RuntimeOptions {
    /// The CPU engine or the GPU, or (`Auto`) the GPU only where it is a real one;
    /// see `backend::choose`.
    pub preference: BackendPreference,
    /// Threads of the CPU engine (`None`: the machine's available parallelism).
    pub threads: Option<usize>,
    pub backends: Option<wgpu::Backends>,
    pub adapter_name: Option<String>,
    /// Device limits below the adapter's, to exercise the paths a small GPU takes.
    pub caps: LimitCaps,
    /// The class the kernel strategies size for, instead of the adapter's own: `Gpu`
    /// on a software adapter runs the kernel variants a real GPU takes.
    pub device_class: Option<DeviceClass>,
}

/// Which kind of backend runs models.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BackendPreference {
    /// The GPU when a hardware adapter exists (or a GPU backend or adapter is named),
    /// else the CPU engine.
    #[default]
    Auto,
    Cpu,
    Gpu,
}

/// Upper bounds on the device limits the runtime requests (`None`: the adapter's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LimitCaps {
    /// Start from the WebGPU specification's default limits (what a browser grants a
    /// page that asks for nothing more), then apply the other caps.
    pub webgpu: bool,
    pub max_storage_buffer_binding_size: Option<u64>,
    pub max_buffer_size: Option<u64>,
    pub max_compute_workgroups_per_dimension: Option<u32>,
    pub max_compute_workgroup_storage_size: Option<u32>,
    pub max_compute_invocations_per_workgroup: Option<u32>,
    pub max_storage_buffers_per_shader_stage: Option<u32>,
}

/// The caps `SE_RUNTIME_LIMITS` can name, for its error message.
const CAP_NAMES: &str = "max_storage_buffer_binding_size, max_buffer_size, \
    max_compute_workgroups_per_dimension, max_compute_workgroup_storage_size, \
    max_compute_invocations_per_workgroup or max_storage_buffers_per_shader_stage";

impl LimitCaps {
    /// Parses `webgpu` and `name=value` pairs separated by commas, e.g.
    /// `webgpu,max_compute_workgroup_storage_size=8192`.
    pub fn parse(spec: &str) -> Result<Self> {
        let mut caps = Self::default();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let bad = |why: &str| {
                Error::invalid(
                    "SE_RUNTIME_LIMITS",
                    format!("'{item}': {why}; use `webgpu` or NAME=VALUE pairs with {CAP_NAMES}"),
                )
            };
            if item == "webgpu" {
                caps.webgpu = true;
                continue;
            }
            let (name, value) = item.split_once('=').ok_or_else(|| bad("no '='"))?;
            let value: u64 = value
                .trim()
                .parse()
                .map_err(|_| bad("the value is not a whole number"))?;
            let small = || u32::try_from(value).map_err(|_| bad("the value is too large"));
            match name.trim() {
                "max_storage_buffer_binding_size" => {
                    caps.max_storage_buffer_binding_size = Some(value)
                }
                "max_buffer_size" => caps.max_buffer_size = Some(value),
                "max_compute_workgroups_per_dimension" => {
                    caps.max_compute_workgroups_per_dimension = Some(small()?)
                }
                "max_compute_workgroup_storage_size" => {
                    caps.max_compute_workgroup_storage_size = Some(small()?)
                }
                "max_compute_invocations_per_workgroup" => {
                    caps.max_compute_invocations_per_workgroup = Some(small()?)
                }
                "max_storage_buffers_per_shader_stage" => {
                    caps.max_storage_buffers_per_shader_stage = Some(small()?)
                }
                _ => return Err(bad("unknown limit")),
            }
        }
        Ok(caps)
    }

    /// `limits` lowered to the caps (never raised).
    pub fn apply(&self, mut limits: wgpu::Limits) -> wgpu::Limits {
        if self.webgpu {
            limits = limits.or_worse_values_from(&wgpu::Limits::defaults());
        }
        let cap64 = |limit: &mut u64, cap: Option<u64>| {
            if let Some(v) = cap {
                *limit = (*limit).min(v);
            }
        };
        cap64(
            &mut limits.max_storage_buffer_binding_size,
            self.max_storage_buffer_binding_size,
        );
        cap64(&mut limits.max_buffer_size, self.max_buffer_size);
        // Each count stays at least 1: a device with none cannot run anything.
        let cap32 = |limit: &mut u32, cap: Option<u32>| {
            if let Some(v) = cap {
                *limit = (*limit).min(v.max(1));
            }
        };
        cap32(
            &mut limits.max_compute_workgroups_per_dimension,
            self.max_compute_workgroups_per_dimension,
        );
        cap32(
            &mut limits.max_compute_workgroup_storage_size,
            self.max_compute_workgroup_storage_size,
        );
        cap32(
            &mut limits.max_compute_invocations_per_workgroup,
            self.max_compute_invocations_per_workgroup,
        );
        // No workgroup dimension may exceed the invocations a workgroup may have.
        let invocations = limits.max_compute_invocations_per_workgroup;
        limits.max_compute_workgroup_size_x = limits.max_compute_workgroup_size_x.min(invocations);
        limits.max_compute_workgroup_size_y = limits.max_compute_workgroup_size_y.min(invocations);
        limits.max_compute_workgroup_size_z = limits.max_compute_workgroup_size_z.min(invocations);
        cap32(
            &mut limits.max_storage_buffers_per_shader_stage,
            self.max_storage_buffers_per_shader_stage,
        );
        limits
    }
}

/// Parses `SE_RUNTIME_DEVICE_CLASS`: `gpu` or `cpu`.
pub fn parse_device_class(name: &str) -> Result<DeviceClass> {
    match name.to_ascii_lowercase().as_str() {
        "gpu" => Ok(DeviceClass::Gpu),
        "cpu" => Ok(DeviceClass::Cpu),
        other => Err(Error::invalid(
            "SE_RUNTIME_DEVICE_CLASS",
            format!("unknown device class '{other}'; use gpu or cpu"),
        )),
    }
}

impl RuntimeOptions {
    pub fn from_env() -> Result<Self> {
        let (mut preference, mut backends) = (BackendPreference::Auto, None);
        match std::env::var("SE_RUNTIME_BACKEND") {
            Ok(name) if name.eq_ignore_ascii_case("cpu") => preference = BackendPreference::Cpu,
            Ok(name) if name.eq_ignore_ascii_case("gpu") => preference = BackendPreference::Gpu,
            Ok(name) if !name.is_empty() => backends = Some(parse_backend(&name)?),
            _ => {}
        }
        let threads = match std::env::var("SE_RUNTIME_THREADS") {
            Ok(n) if !n.is_empty() => Some(parse_threads(&n)?),
            _ => None,
        };
        let adapter_name = std::env::var("SE_RUNTIME_ADAPTER")
            .ok()
            .filter(|s| !s.is_empty());
        let caps = match std::env::var("SE_RUNTIME_LIMITS") {
            Ok(spec) => LimitCaps::parse(&spec)?,
            Err(_) => LimitCaps::default(),
        };
        let device_class = match std::env::var("SE_RUNTIME_DEVICE_CLASS") {
            Ok(name) if !name.is_empty() => Some(parse_device_class(&name)?),
            _ => None,
        };
        Ok(Self {
            preference,
            threads,
            backends,
            adapter_name,
            caps,
            device_class,
        })
    }
}

/// Parses a CPU engine thread count (`SE_RUNTIME_THREADS`, `--threads`): 1 or more.
pub fn parse_threads(text: &str) -> Result<usize> {
    match text.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(Error::invalid(
            "SE_RUNTIME_THREADS",
            format!("'{text}' is not a thread count; use a whole number of 1 or more"),
        )),
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
                format!(
                    "unknown backend '{other}'; use cpu, gpu, vulkan, metal, dx12, gl or webgpu"
                ),
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
        Self::from_adapter_with(adapter, &options).await
    }
}
