//! The GPU device: adapter choice, device creation, error capture, pipeline cache,
//! command submission and readback. Everything else talks to wgpu through here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::tensor::BufferPool;

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

/// A WGSL program: its name (for caching and error messages) and full source.
#[derive(Clone, Copy, Debug)]
pub struct Shader {
    pub name: &'static str,
    pub source: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct PipelineKey {
    shader: &'static str,
    entry: &'static str,
    constants: Vec<(&'static str, u64)>,
}

/// Errors wgpu reports outside an error scope; checked after every submission.
#[derive(Default)]
struct ErrorSink {
    lost: Option<String>,
    oom: Option<String>,
    validation: Option<String>,
}

/// The GPU runtime: one adapter, one device and queue, and the caches built on them.
/// A handle: clones share the device, caches and buffer pool (a few reference counts
/// to copy), so sessions own one and can move between threads. All methods take `&self`.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) pool: BufferPool,
    shared: Arc<Shared>,
}

/// The part of a [`Runtime`] its clones share.
struct Shared {
    info: wgpu::AdapterInfo,
    limits: wgpu::Limits,
    features: wgpu::Features,
    errors: Arc<Mutex<ErrorSink>>,
    modules: Mutex<HashMap<&'static str, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<PipelineKey, wgpu::ComputePipeline>>,
}

/// Optional features used when the adapter has them.
const WANTED_FEATURES: wgpu::Features = wgpu::Features::SHADER_F16
    .union(wgpu::Features::TIMESTAMP_QUERY)
    .union(wgpu::Features::SUBGROUP);

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
    infos.sort_by_key(|i| (type_rank(i.device_type), backend_rank(i.backend)));
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
        adapters.sort_by_key(|a| {
            let i = a.get_info();
            (type_rank(i.device_type), backend_rank(i.backend))
        });
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

    pub async fn from_adapter(adapter: wgpu::Adapter) -> Result<Self> {
        Self::from_adapter_with(adapter, LimitCaps::default()).await
    }

    /// A runtime on `adapter` whose device gets the adapter's limits lowered to `caps`.
    pub async fn from_adapter_with(adapter: wgpu::Adapter, caps: LimitCaps) -> Result<Self> {
        let info = adapter.get_info();
        let features = adapter.features() & WANTED_FEATURES;
        // Ask for everything the adapter allows: big models need big storage buffers.
        let limits = caps.apply(adapter.limits());
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("se-runtime"),
                required_features: features,
                required_limits: limits.clone(),
                memory_hints: wgpu::MemoryHints::Performance,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::RequestDevice {
                adapter: info.name.clone(),
                reason: e.to_string(),
            })?;

        let errors = Arc::new(Mutex::new(ErrorSink::default()));
        let sink = errors.clone();
        device.set_device_lost_callback(move |reason, message| {
            sink.lock().unwrap().lost = Some(format!("{reason:?}: {message}"));
        });
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            let mut s = sink.lock().unwrap();
            match e {
                wgpu::Error::OutOfMemory { .. } => s.oom.get_or_insert(e.to_string()),
                _ => s.validation.get_or_insert(e.to_string()),
            };
        }));

        Ok(Self {
            pool: BufferPool::new(device.clone()),
            device,
            queue,
            shared: Arc::new(Shared {
                info,
                limits,
                features,
                errors,
                modules: Mutex::default(),
                pipelines: Mutex::default(),
            }),
        })
    }

    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.shared.info
    }

    pub fn limits(&self) -> &wgpu::Limits {
        &self.shared.limits
    }

    pub fn features(&self) -> wgpu::Features {
        self.shared.features
    }

    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// Fails with [`Error::DeviceLost`] once the device is lost, so callers stop before
    /// touching it.
    pub fn check_lost(&self) -> Result<()> {
        match &self.shared.errors.lock().unwrap().lost {
            Some(reason) => Err(Error::DeviceLost {
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Turns any error wgpu reported since the last check into an `Error`.
    pub fn check(&self, during: &str) -> Result<()> {
        let mut s = self.shared.errors.lock().unwrap();
        if let Some(reason) = s.lost.clone() {
            return Err(Error::DeviceLost { reason });
        }
        if s.oom.take().is_some() {
            return Err(Error::OutOfMemory {
                during: during.into(),
            });
        }
        if let Some(message) = s.validation.take() {
            return Err(Error::Validation {
                during: during.into(),
                message,
            });
        }
        Ok(())
    }

    /// A compute pipeline for `entry` in `shader`, specialised by WGSL override
    /// `constants`; built once and cached for the lifetime of the runtime.
    pub fn pipeline(
        &self,
        shader: Shader,
        entry: &'static str,
        constants: &[(&'static str, f64)],
    ) -> Result<wgpu::ComputePipeline> {
        let key = PipelineKey {
            shader: shader.name,
            entry,
            constants: constants.iter().map(|(k, v)| (*k, v.to_bits())).collect(),
        };
        if let Some(p) = self.shared.pipelines.lock().unwrap().get(&key) {
            return Ok(p.clone());
        }
        let module = {
            let mut modules = self.shared.modules.lock().unwrap();
            modules
                .entry(shader.name)
                .or_insert_with(|| {
                    self.device
                        .create_shader_module(wgpu::ShaderModuleDescriptor {
                            label: Some(shader.name),
                            source: wgpu::ShaderSource::Wgsl(shader.source.into()),
                        })
                })
                .clone()
        };
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: None,
                module: &module,
                entry_point: Some(entry),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants,
                    // Every kernel writes its workgroup memory before reading it.
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            });
        self.check(&format!("building pipeline {}::{entry}", shader.name))?;
        self.shared
            .pipelines
            .lock()
            .unwrap()
            .insert(key, pipeline.clone());
        Ok(pipeline)
    }

    /// Records `dispatches` into one compute pass and submits them as one command buffer.
    pub fn submit<'a>(&self, dispatches: impl IntoIterator<Item = &'a crate::kernels::Dispatch>) {
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            for d in dispatches {
                d.record(&mut pass);
            }
        }
        self.queue.submit([encoder.finish()]);
    }

    /// Copies `size` bytes of `buffer` back to the host.
    pub(crate) async fn read_bytes(&self, buffer: &wgpu::Buffer, size: u64) -> Result<Vec<u8>> {
        self.check_lost()?;
        self.check_staging_size(|| "a readback".into(), size)?;
        let mut staging = self.pool.take(size, crate::tensor::STAGING_USAGE)?;
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        encoder.copy_buffer_to_buffer(buffer, 0, staging.buffer(), 0, size);
        self.queue.submit([encoder.finish()]);
        staging.read_mapped(self, size, "running kernels").await
    }

    /// Waits until the GPU has finished all submitted work (native only; a no-op in browsers).
    pub fn wait(&self) -> Result<()> {
        #[cfg(not(target_arch = "wasm32"))]
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Readback(e.to_string()))?;
        self.check("running kernels")
    }
}
