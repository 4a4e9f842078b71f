//! The GPU device: the only code that talks to wgpu. A [`Runtime`] is one adapter's
//! device and queue with the caches built on them; its methods are spread over:
//! - `adapter.rs`: adapter choice (environment options, limit caps, ranking);
//! - `profile.rs`: the [`AdapterProfile`] the kernel strategies read;
//! - `mod.rs`: device creation and the capture of wgpu's errors: per piece of work in
//!   error scopes ([`ErrorScope`]), the rest in one sink ([`Runtime::check`]);
//! - `pipeline.rs`: shaders, the pipeline cache, prepared [`Dispatch`]es;
//! - `buffer.rs`: tensors, the buffer pool, uploads, readback mapping, size checks;
//! - `submit.rs`: the command encoders (made nowhere else), submission, readback
//!   copies, timestamp profiling.

mod adapter;
mod buffer;
mod pipeline;
mod profile;
mod submit;

pub use adapter::{
    BackendPreference, LimitCaps, RuntimeOptions, list_adapters, parse_backend, parse_device_class,
    parse_threads,
};
pub use buffer::{HalfTensor, PoolStats, Tensor};
pub use pipeline::{Dispatch, Shader, grid};
pub(crate) use pipeline::{distinct_output, groups};
pub use profile::{AdapterProfile, DeviceClass, SubgroupSizes, TilingLimits};

use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use buffer::BufferPool;
use pipeline::PipelineCache;

/// Errors wgpu reports outside an error scope; checked after one-off work.
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
    device: wgpu::Device,
    queue: wgpu::Queue,
    pool: BufferPool,
    shared: Arc<Shared>,
}

/// The part of a [`Runtime`] its clones share.
struct Shared {
    info: wgpu::AdapterInfo,
    limits: wgpu::Limits,
    features: wgpu::Features,
    profile: AdapterProfile,
    errors: Arc<Mutex<ErrorSink>>,
    pipelines: PipelineCache,
}

/// Optional features used when the adapter has them.
const WANTED_FEATURES: wgpu::Features = wgpu::Features::SHADER_F16
    .union(wgpu::Features::TIMESTAMP_QUERY)
    .union(wgpu::Features::SUBGROUP);

impl Runtime {
    pub async fn from_adapter(adapter: wgpu::Adapter) -> Result<Self> {
        Self::from_adapter_with(adapter, &RuntimeOptions::default()).await
    }

    /// A runtime on `adapter` whose device gets the adapter's limits lowered to the
    /// options' caps and whose strategies see the options' device class, if any.
    pub async fn from_adapter_with(
        adapter: wgpu::Adapter,
        options: &RuntimeOptions,
    ) -> Result<Self> {
        let info = adapter.get_info();
        let features = adapter.features() & WANTED_FEATURES;
        // Ask for everything the adapter allows: big models need big storage buffers.
        let limits = options.caps.apply(adapter.limits());
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

        let profile = AdapterProfile::new(&info, features, &limits);
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
                profile: AdapterProfile {
                    class: options.device_class.unwrap_or(profile.class),
                    ..profile
                },
                info,
                limits,
                features,
                errors,
                pipelines: PipelineCache::default(),
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

    /// Opens error scopes for one piece of work: the validation and out-of-memory errors
    /// its wgpu calls raise on this thread are returned by [`ErrorScope::close`], to
    /// the run that caused them. Without them every error went to the device's one
    /// sink, where a session sharing the device could take another's error as its own.
    pub(crate) fn scope(&self) -> ErrorScope {
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        ErrorScope { validation, oom }
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
}

/// The error scopes of one piece of work ([`Runtime::scope`]); closed on the thread
/// that opened them, with no await between opening and closing, so that in the browser
/// (one device-wide scope stack) no other run's work falls inside them either.
/// Fields in pop order: dropped unclosed (an early error return), they pop in it.
pub(crate) struct ErrorScope {
    validation: wgpu::ErrorScopeGuard,
    oom: wgpu::ErrorScopeGuard,
}

impl ErrorScope {
    /// Pops both scopes (innermost first) and reports what they caught as met `during`
    /// the work.
    pub(crate) async fn close(self, rt: &Runtime, during: &str) -> Result<()> {
        let validation = self.validation.pop();
        let oom = self.oom.pop();
        let (validation, oom) = (validation.await, oom.await);
        rt.check_lost()?;
        if oom.is_some() {
            return Err(Error::OutOfMemory {
                during: during.into(),
            });
        }
        match validation {
            Some(e) => Err(Error::Validation {
                during: during.into(),
                message: e.to_string(),
            }),
            None => Ok(()),
        }
    }
}
