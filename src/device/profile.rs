//! The adapter profile: what the kernel strategies know of the adapter, computed once
//! when a [`Runtime`] is made. A plain value, so strategy tests can build one by hand
//! and strategies stay pure functions of (profile, shape).

use super::Runtime;

/// The kind of adapter the strategies size their kernels for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceClass {
    /// A hardware GPU, and every adapter that does not say it is a CPU (a browser's).
    Gpu,
    /// A CPU or software adapter (lavapipe, SwiftShader, WARP): workgroups run as SIMD
    /// chunks on CPU threads, with workgroup memory and barriers emulated.
    Cpu,
}

impl std::fmt::Display for DeviceClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DeviceClass::Gpu => "gpu",
            DeviceClass::Cpu => "cpu",
        })
    }
}

/// The smallest and largest subgroup sizes the adapter reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubgroupSizes {
    pub min: u32,
    pub max: u32,
}

/// The device limits that bound a kernel's tiling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TilingLimits {
    pub invocations_per_workgroup: u32,
    pub workgroup_storage_bytes: u32,
    pub workgroups_per_dimension: u32,
    pub storage_binding_bytes: u64,
}

impl From<&wgpu::Limits> for TilingLimits {
    fn from(l: &wgpu::Limits) -> Self {
        TilingLimits {
            invocations_per_workgroup: l.max_compute_invocations_per_workgroup,
            workgroup_storage_bytes: l.max_compute_workgroup_storage_size,
            workgroups_per_dimension: l.max_compute_workgroups_per_dimension,
            storage_binding_bytes: l.max_storage_buffer_binding_size,
        }
    }
}

/// What the kernel strategies see of an adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdapterProfile {
    pub class: DeviceClass,
    /// The subgroup sizes where shaders can use subgroup operations: the device has
    /// the `subgroups` feature and the build is native (browsers want an
    /// `enable subgroups;` that naga rejects natively).
    pub subgroups: Option<SubgroupSizes>,
    /// Whether shaders can read f16 values (the `shader-f16` feature).
    pub f16: bool,
    /// The device's limits, after any caps.
    pub limits: TilingLimits,
    /// Threads a CPU adapter runs workgroups on: lavapipe runs one per core, so the
    /// host's available parallelism; 4 where the host does not say (browsers).
    pub cpu_threads: usize,
}

impl AdapterProfile {
    /// The profile of a device made with `features` and `limits` on the adapter `info`.
    pub fn new(info: &wgpu::AdapterInfo, features: wgpu::Features, limits: &wgpu::Limits) -> Self {
        let class = match info.device_type {
            wgpu::DeviceType::Cpu => DeviceClass::Cpu,
            _ => DeviceClass::Gpu,
        };
        let subgroups = (cfg!(not(target_arch = "wasm32"))
            && features.contains(wgpu::Features::SUBGROUP))
        .then_some(SubgroupSizes {
            min: info.subgroup_min_size,
            max: info.subgroup_max_size,
        });
        AdapterProfile {
            class,
            subgroups,
            f16: features.contains(wgpu::Features::SHADER_F16),
            limits: TilingLimits::from(limits),
            cpu_threads: std::thread::available_parallelism().map_or(4, |n| n.get()),
        }
    }
}

impl Runtime {
    /// What the kernel strategies see of this runtime's adapter.
    pub fn profile(&self) -> &AdapterProfile {
        &self.shared.profile
    }
}
