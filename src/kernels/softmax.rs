//! Numerically stable softmax along any axis (`shaders/softmax.wgsl`; CPU twin
//! `crate::cpu::softmax`). The tensor is viewed as `[outer, n, inner]` with `n` the
//! axis length; each of the `outer * inner` rows (stride `inner`) is normalised.

use super::{Dispatch, Shader, distinct_output, grid, groups, shader, uniform};
use crate::device::{AdapterProfile, DeviceClass, Runtime, Tensor};
use crate::error::{Error, Result};
use crate::ops::softmax::split_axis;

/// How the rows are normalised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// One invocation per row: three sequential passes over it.
    Rows,
    /// One 256-invocation workgroup per row, with tree reductions in workgroup memory.
    WorkgroupPerRow,
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Strategy::Rows => "rows",
            Strategy::WorkgroupPerRow => "workgroup-per-row",
        })
    }
}

impl Strategy {
    /// Rows each workgroup normalises.
    pub const fn rows_per_workgroup(&self) -> usize {
        match self {
            Strategy::Rows => 64,
            Strategy::WorkgroupPerRow => 1,
        }
    }
}

/// Axis length from which [`softmax`] reduces each row with a workgroup on a GPU.
pub const WORKGROUP_MIN_AXIS: usize = 128;

/// The strategy [`softmax`] takes for rows of length `n` on `profile`'s adapter: a
/// workgroup per row from [`WORKGROUP_MIN_AXIS`] on, so a few long rows (a batch of
/// 1000 class scores) still spread over the GPU; one invocation per row for short rows
/// and on CPU adapters (lavapipe, SwiftShader, WARP). Those emulate workgroup barriers;
/// on lavapipe (2 cores, release build) a workgroup per row takes 6.7-9.3 ms for
/// [256, 1000] against 1.2 ms per invocation, and 161-173 ms for [4096, 128] against
/// 2.6-3.2 ms.
pub fn strategy(profile: &AdapterProfile, n: usize) -> Strategy {
    if n >= WORKGROUP_MIN_AXIS && profile.class == DeviceClass::Gpu {
        Strategy::WorkgroupPerRow
    } else {
        Strategy::Rows
    }
}

pub const SHADER: Shader = shader!("softmax", ["shared/grid", "shared/x_to_y", "softmax"]);

uniform! {
    struct Params {
        rows: u32,
        n: u32,
        inner: u32,
        log: u32,
    }
}

/// `y = exp(x - max) / sum(exp(x - max))` along `axis`, with the [`strategy`] for
/// its length.
pub fn softmax(rt: &Runtime, x: &Tensor, axis: usize, y: &Tensor) -> Result<Dispatch> {
    let (_, n, _) = split_axis(x.shape(), axis)?;
    softmax_with(rt, x, axis, y, strategy(rt.profile(), n))
}

/// `y = x - max - ln(sum(exp(x - max)))` along `axis`, with the [`strategy`] for
/// its length.
pub fn log_softmax(rt: &Runtime, x: &Tensor, axis: usize, y: &Tensor) -> Result<Dispatch> {
    let (_, n, _) = split_axis(x.shape(), axis)?;
    normalise(rt, x, axis, true, y, strategy(rt.profile(), n))
}

/// [`softmax`] with the strategy chosen by the caller: for tests and tuning.
pub fn softmax_with(
    rt: &Runtime,
    x: &Tensor,
    axis: usize,
    y: &Tensor,
    strategy: Strategy,
) -> Result<Dispatch> {
    normalise(rt, x, axis, false, y, strategy)
}

/// Softmax along `axis`, or LogSoftmax with `log`, on `strategy`'s path: for tests
/// and tuning.
pub fn normalise(
    rt: &Runtime,
    x: &Tensor,
    axis: usize,
    log: bool,
    y: &Tensor,
    strategy: Strategy,
) -> Result<Dispatch> {
    let (outer, n, inner) = split_axis(x.shape(), axis)?;
    if y.shape() != x.shape() {
        return Err(Error::shape("softmax output", x.shape(), y.shape()));
    }
    distinct_output("softmax", &[x], y)?;
    // An empty axis leaves nothing to normalise (and no first element to read).
    let rows = if n == 0 { 0 } else { outer * inner };
    let params = Params {
        rows: rows as u32,
        n: n as u32,
        inner: inner as u32,
        log: log as u32,
    };
    let entry = match strategy {
        Strategy::WorkgroupPerRow => "softmax_workgroup",
        Strategy::Rows => "softmax_rows",
    };
    let wg = grid(rt, groups(rows, strategy.rows_per_workgroup()));
    rt.dispatch(SHADER, entry, &[], &params, &[x, y], wg)
        .map(|d| d.with_strategy("softmax", strategy))
}
