//! Global average / max pooling over each channel's H x W plane, the "squeeze" of an
//! SE block (`shaders/squeeze.wgsl`; CPU twin `crate::cpu::squeeze`).

use super::{Dispatch, Shader, grid, groups, shader, uniform};
use crate::device::{AdapterProfile, DeviceClass, Runtime, Tensor};
use crate::error::{Error, Result};
use crate::ops::squeeze::{SqueezeMode, nchw};

/// Invocations per workgroup; `WG` in the shader (tests/shaders.rs checks).
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

/// The shared-memory tree, and the subgroup reduction where the adapter has subgroups.
pub const SHADER_TREE: Shader = shader!("squeeze", ["shared/grid", "squeeze"]);
pub const SHADER_SUBGROUP: Shader =
    shader!("squeeze_subgroup", ["shared/grid", "squeeze_subgroup"]);

uniform! {
    struct Params {
        planes: u32,
        hw: u32,
        /// Invocations per plane (shared-memory tree), planes per workgroup (subgroups).
        lanes | planes_per_group: u32,
        _pad: u32,
    }
}

/// How the planes are reduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// A subgroup per plane, `planes_per_workgroup` planes to a workgroup (where the
    /// adapter has subgroups).
    Subgroups { planes_per_workgroup: usize },
    /// A shared-memory tree over `lanes` invocations per plane (a power of two up to
    /// [`WORKGROUP`]).
    Tree { lanes: usize },
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Strategy::Subgroups {
                planes_per_workgroup: 1,
            } => f.write_str("subgroups 1 plane"),
            Strategy::Subgroups {
                planes_per_workgroup: n,
            } => write!(f, "subgroups {n} planes"),
            Strategy::Tree { lanes: 1 } => f.write_str("tree 1 lane"),
            Strategy::Tree { lanes } => write!(f, "tree {lanes} lanes"),
        }
    }
}

impl Strategy {
    /// Planes each workgroup of [`WORKGROUP`] invocations reduces.
    pub fn planes_per_workgroup(&self) -> usize {
        match *self {
            Strategy::Subgroups {
                planes_per_workgroup,
            } => planes_per_workgroup,
            // At least one lane: a forced 0 is refused by `squeeze_with`, not here.
            Strategy::Tree { lanes } => WORKGROUP / lanes.max(1),
        }
    }

    /// The subgroup reduction laid out for `profile`'s adapter: a subgroup per plane at
    /// the smallest subgroup size it reports; larger subgroups deal the workgroup's
    /// planes out among themselves. `None` where shaders cannot use subgroups.
    pub fn subgroups(profile: &AdapterProfile) -> Option<Strategy> {
        let size = (profile.subgroups?.min as usize).clamp(1, WORKGROUP);
        Some(Strategy::Subgroups {
            planes_per_workgroup: WORKGROUP / size,
        })
    }

    /// The tree with invocations per plane by the lane policy of `profile`'s class
    /// (above) for input `[n, c, h, w]`; a power of two.
    pub fn tree(profile: &AdapterProfile, [n, c, h, w]: [usize; 4]) -> Strategy {
        let (planes, hw) = (n * c, h * w);
        let loads = if vec4_planes(hw) { hw / 4 } else { hw };
        if profile.class == DeviceClass::Gpu {
            let lanes = loads
                .div_ceil(GPU_LOADS_PER_LANE)
                .next_power_of_two()
                .min(WORKGROUP);
            return Strategy::Tree { lanes };
        }
        let mut lanes = 1;
        while lanes < CPU_MAX_LANES
            && lanes * 2 <= loads
            && planes.div_ceil(WORKGROUP / lanes) < profile.cpu_threads
        {
            lanes *= 2;
        }
        Strategy::Tree { lanes }
    }
}

/// Whether the vec4 entry applies: every plane must start on a 16-byte boundary.
fn vec4_planes(hw: usize) -> bool {
    hw.is_multiple_of(4)
}

/// The strategy [`squeeze`] takes for input `[n, c, h, w]` on `profile`'s adapter: the
/// subgroup reduction on GPUs with subgroups, else the tree. Not subgroups on CPU
/// adapters: there the lane policy above already gives most planes one lane and next to
/// no barriers, and on lavapipe the subgroup path measured slower (batch 8 at the
/// SE-ResNet-50 shapes: 1.4-1.5x; `cargo bench --bench se_block`).
pub fn strategy(profile: &AdapterProfile, shape: [usize; 4]) -> Strategy {
    match profile.class {
        DeviceClass::Gpu => Strategy::subgroups(profile),
        DeviceClass::Cpu => None,
    }
    .unwrap_or_else(|| Strategy::tree(profile, shape))
}

/// `out[n, c]` = mean or max of `x[n, c, :, :]`, with the [`strategy`] for its shape.
pub fn squeeze(rt: &Runtime, x: &Tensor, mode: SqueezeMode, out: &Tensor) -> Result<Dispatch> {
    let shape = nchw("squeeze input", x.shape())?;
    squeeze_with(rt, x, mode, strategy(rt.profile(), shape), out)
}

/// [`squeeze`] with the strategy chosen by the caller: for tests of every tree depth
/// and of both reductions, and for benchmarks.
pub fn squeeze_with(
    rt: &Runtime,
    x: &Tensor,
    mode: SqueezeMode,
    strategy: Strategy,
    out: &Tensor,
) -> Result<Dispatch> {
    let [n, c, h, w] = nchw("squeeze input", x.shape())?;
    if out.shape() != [n, c] {
        return Err(Error::shape("squeeze output", [n, c], out.shape()));
    }
    let (planes, hw) = (n * c, h * w);
    let (shader, entry, lanes) = match strategy {
        Strategy::Tree { lanes } => {
            if !lanes.is_power_of_two() || lanes > WORKGROUP {
                return Err(Error::invalid(
                    "squeeze",
                    format!("{lanes} lanes per plane: need a power of two up to {WORKGROUP}"),
                ));
            }
            let entry = if vec4_planes(hw) {
                "squeeze_vec4"
            } else {
                "squeeze"
            };
            (SHADER_TREE, entry, lanes)
        }
        Strategy::Subgroups {
            planes_per_workgroup,
        } => {
            if rt.profile().subgroups.is_none() {
                return Err(Error::invalid(
                    "squeeze",
                    format!(
                        "{} has no usable subgroups: use the shared-memory reduction",
                        rt.adapter_info().name
                    ),
                ));
            }
            if planes_per_workgroup == 0 {
                return Err(Error::invalid(
                    "squeeze",
                    "the subgroup reduction needs at least one plane per workgroup",
                ));
            }
            let entry = if vec4_planes(hw) {
                "squeeze_subgroup_vec4"
            } else {
                "squeeze_subgroup"
            };
            (SHADER_SUBGROUP, entry, planes_per_workgroup)
        }
    };
    let params = Params {
        planes: planes as u32,
        hw: hw as u32,
        lanes: lanes as u32,
        _pad: 0,
    };
    let max = f64::from(u8::from(mode == SqueezeMode::Max));
    rt.dispatch(
        shader,
        entry,
        &[("MAX_POOL", max)],
        &params,
        &[x, out],
        grid(rt, groups(planes, strategy.planes_per_workgroup())),
    )
    .map(|d| d.with_strategy("squeeze", strategy))
}
