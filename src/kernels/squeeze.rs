//! Global average / max pooling over each channel's H x W plane, the "squeeze" of an
//! SE block (`shaders/squeeze.wgsl`; CPU twin `crate::cpu::squeeze`).

use super::{Dispatch, grid, groups, shader};
use crate::device::Runtime;
use crate::device::Tensor;
use crate::error::{Error, Result};
use crate::ops::squeeze::{SqueezeMode, nchw};

/// Invocations per workgroup; must match `WG` in the shader.
pub const WORKGROUP: usize = 64;

/// Lane policy on GPUs: a lane per ~4 loads (scalar or vec4), up to a workgroup,
/// so even a few large planes fill the device.
const GPU_LOADS_PER_LANE: usize = 4;

/// Lane policy on CPU adapters (lavapipe, SwiftShader), where a workgroup runs as
/// 8-wide SIMD chunks, every storage load is executed lane by lane, and each barrier
/// switches between the chunks: extra lanes add no bandwidth, only barriers. So one
/// lane per plane, with more (up to one chunk) only while there would be fewer
/// workgroups than CPU threads. Measured on lavapipe, 64 lanes per plane ran 2-3x
/// slower (C=256, 56x56) to 50x slower (C=2048, 7x7) than one.
const CPU_MAX_LANES: usize = 8;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    planes: u32,
    hw: u32,
    /// Invocations per plane (shared-memory tree), planes per workgroup (subgroups).
    lanes: u32,
    pad: u32,
}

/// Invocations per plane, for `planes` planes of `loads` loads each (scalar or vec4),
/// by the adapter's lane policy above; a power of two for the tree.
pub fn lanes_per_plane(rt: &Runtime, planes: usize, loads: usize) -> usize {
    if rt.adapter_info().device_type != wgpu::DeviceType::Cpu {
        return loads
            .div_ceil(GPU_LOADS_PER_LANE)
            .next_power_of_two()
            .min(WORKGROUP);
    }
    // The driver runs a thread per core; browsers do not say, so assume 4.
    let threads = std::thread::available_parallelism().map_or(4, |n| n.get());
    let mut lanes = 1;
    while lanes < CPU_MAX_LANES
        && lanes * 2 <= loads
        && planes.div_ceil(WORKGROUP / lanes) < threads
    {
        lanes *= 2;
    }
    lanes
}

/// Whether the vec4 entry applies: every plane must start on a 16-byte boundary.
fn vec4_planes(hw: usize) -> bool {
    hw.is_multiple_of(4)
}

/// Whether [`squeeze`] takes the subgroup path: on GPUs with subgroups, natively
/// (browsers want an `enable subgroups;` that naga 30 rejects natively). Not on CPU
/// adapters: there the lane policy above already gives most planes one lane and next
/// to no barriers, and on lavapipe the subgroup path measured slower (batch 8 at the
/// SE-ResNet-50 shapes: 1.4-1.5x; `cargo bench --bench se_block`).
pub fn prefers_subgroups(rt: &Runtime) -> bool {
    cfg!(not(target_arch = "wasm32"))
        && rt.features().contains(wgpu::Features::SUBGROUP)
        && rt.adapter_info().device_type != wgpu::DeviceType::Cpu
}

/// `out[n, c]` = mean or max of `x[n, c, :, :]`.
pub fn squeeze(rt: &Runtime, x: &Tensor, mode: SqueezeMode, out: &Tensor) -> Result<Dispatch> {
    squeeze_with(rt, x, mode, prefers_subgroups(rt), out)
}

/// [`squeeze`] with the reduction chosen by the caller: `subgroups` (only where the
/// adapter has them) or the shared-memory tree, for tests of both and for benchmarks.
pub fn squeeze_with(
    rt: &Runtime,
    x: &Tensor,
    mode: SqueezeMode,
    subgroups: bool,
    out: &Tensor,
) -> Result<Dispatch> {
    let [n, c, h, w] = nchw("squeeze input", x.shape())?;
    let hw = h * w;
    if !subgroups {
        let lanes = lanes_per_plane(rt, n * c, if vec4_planes(hw) { hw / 4 } else { hw });
        return squeeze_with_lanes(rt, x, mode, lanes, out);
    }
    if !rt.features().contains(wgpu::Features::SUBGROUP) {
        return Err(Error::invalid(
            "squeeze",
            format!(
                "{} has no SUBGROUP feature: use the shared-memory reduction",
                rt.adapter_info().name
            ),
        ));
    }
    if out.shape() != [n, c] {
        return Err(Error::shape("squeeze output", [n, c], out.shape()));
    }
    // A subgroup per plane at the smallest subgroup size the adapter reports; larger
    // subgroups deal the workgroup's planes out among themselves.
    let size = (rt.adapter_info().subgroup_min_size as usize).clamp(1, WORKGROUP);
    let per_group = WORKGROUP / size;
    let planes = n * c;
    let params = Params {
        planes: planes as u32,
        hw: hw as u32,
        lanes: per_group as u32,
        pad: 0,
    };
    let entry = if vec4_planes(hw) {
        "squeeze_subgroup_vec4"
    } else {
        "squeeze_subgroup"
    };
    let max = f64::from(u8::from(mode == SqueezeMode::Max));
    rt.dispatch(
        shader!("squeeze_subgroup"),
        entry,
        &[("MAX_POOL", max)],
        &params,
        &[x, out],
        grid(rt, groups(planes, per_group)),
    )
}

/// [`squeeze`] with an explicit number of invocations per plane (a power of two up to
/// [`WORKGROUP`]): for tests of every tree depth, and for benchmarks.
pub fn squeeze_with_lanes(
    rt: &Runtime,
    x: &Tensor,
    mode: SqueezeMode,
    lanes: usize,
    out: &Tensor,
) -> Result<Dispatch> {
    let [n, c, h, w] = nchw("squeeze input", x.shape())?;
    if out.shape() != [n, c] {
        return Err(Error::shape("squeeze output", [n, c], out.shape()));
    }
    if !lanes.is_power_of_two() || lanes > WORKGROUP {
        return Err(Error::invalid(
            "squeeze",
            format!("{lanes} lanes per plane: need a power of two up to {WORKGROUP}"),
        ));
    }
    let (planes, hw) = (n * c, h * w);
    let vec4 = vec4_planes(hw);
    let params = Params {
        planes: planes as u32,
        hw: hw as u32,
        lanes: lanes as u32,
        pad: 0,
    };
    let entry = if vec4 { "squeeze_vec4" } else { "squeeze" };
    let max = f64::from(u8::from(mode == SqueezeMode::Max));
    let wg = grid(rt, groups(planes, WORKGROUP / lanes));
    rt.dispatch(
        shader!("squeeze"),
        entry,
        &[("MAX_POOL", max)],
        &params,
        &[x, out],
        wg,
    )
}
