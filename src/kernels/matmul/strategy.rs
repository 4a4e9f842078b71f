//! The GEMM family's strategy (`matmul.wgsl`, and the 1x1 and implicit-GEMM
//! convolutions of `conv2d.wgsl`): where the operand tiles live, and the block of the
//! output each workgroup computes.

use std::fmt;

use crate::device::{AdapterProfile, DeviceClass};
use crate::error::{Error, Result};

/// Where a GEMM kernel keeps its operand tiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Staging {
    /// Tiles staged in workgroup memory, each value loaded once per workgroup.
    Workgroup,
    /// Every invocation reads its operands straight from the storage buffers.
    Direct,
}

/// The staging for `profile`'s class: workgroup memory on GPUs, direct reads on CPU
/// adapters, where workgroup memory accesses and barriers cost more than they save:
/// about 2x on lavapipe (`cargo bench --bench conv2d`).
pub fn staging(profile: &AdapterProfile) -> Staging {
    match profile.class {
        DeviceClass::Gpu => Staging::Workgroup,
        DeviceClass::Cpu => Staging::Direct,
    }
}

/// The block of the output one workgroup computes: `rows` x 4 outputs per invocation,
/// `wg_m` x `wg_n` invocations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tile {
    pub rows: u32,
    pub wg_m: u32,
    pub wg_n: u32,
}

impl Tile {
    /// Output rows per workgroup.
    pub fn m(&self) -> usize {
        (self.rows * self.wg_m) as usize
    }

    /// Output columns per workgroup.
    pub fn n(&self) -> usize {
        4 * self.wg_n as usize
    }

    pub fn invocations(&self) -> u32 {
        self.wg_m * self.wg_n
    }

    /// Workgroups along the output's rows, and in all, for an `m` x `n` output.
    pub fn workgroups(&self, m: usize, n: usize) -> (usize, usize) {
        let along_m = m.div_ceil(self.m());
        (along_m, along_m * n.div_ceil(self.n()))
    }
}

/// How a GEMM kernel covers its output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Strategy {
    pub staging: Staging,
    pub tile: Tile,
}

/// Candidate tiles (rows x columns of the output per workgroup). 64 x 64 first: it
/// wins ties.
const TILES: [(usize, usize); 9] = [
    (64, 64),
    (32, 128),
    (128, 32),
    (16, 128),
    (8, 256),
    (4, 256),
    (8, 64),
    (4, 64),
    (4, 32),
];

/// Workgroups a dispatch should have to keep every core busy: between tiles that waste
/// the same work, the one giving more workgroups (up to this many) wins. A 1 x 2048 x
/// 1000 matmul ran 3.6x faster on lavapipe as 32 workgroups than as 4.
const ENOUGH_TILES: usize = 32;

/// Depth of the K steps staged in workgroup memory (`BK` in `shaders/shared/gemm_tile.wgsl`).
const BK: u64 = 16;

impl Strategy {
    /// `staging` with the tile that wastes least work on an `m` x `n` output (a conv
    /// with 16 output channels gets tiles of 16 rows or fewer, a fully connected layer
    /// with M = 1 4-row ones) and fits `profile`'s limits.
    pub fn with_staging(
        profile: &AdapterProfile,
        staging: Staging,
        m: usize,
        n: usize,
    ) -> Result<Strategy> {
        Self::tiled(profile, staging, m, n, 0)
    }

    /// [`Strategy::with_staging`] for a kernel that keeps `column_bytes` of workgroup
    /// memory per tile column besides the operand tiles.
    pub(crate) fn tiled(
        profile: &AdapterProfile,
        staging: Staging,
        m: usize,
        n: usize,
        column_bytes: u64,
    ) -> Result<Strategy> {
        // Direct reads get 8 rows per invocation (each b load used twice as often)
        // unless the output has too few rows to fill them.
        let rows = if staging == Staging::Workgroup || m <= 4 {
            4
        } else {
            8
        };
        let candidate = |(bm, bn): (usize, usize)| Strategy {
            staging,
            tile: Tile {
                rows,
                wg_m: (bm / rows as usize) as u32,
                wg_n: (bn / 4) as u32,
            },
        };
        let cost = |s: &Strategy| {
            let (_, tiles) = s.tile.workgroups(m, n);
            let padded = tiles * s.tile.m() * s.tile.n();
            (padded, std::cmp::Reverse(tiles.min(ENOUGH_TILES)))
        };
        TILES
            .into_iter()
            .filter(|&(bm, _)| bm >= rows as usize)
            .map(candidate)
            .filter(|s| s.check(profile, column_bytes).is_ok())
            .min_by_key(cost)
            .ok_or_else(|| {
                Error::invalid(
                    "matmul",
                    "no GEMM tile fits this adapter's workgroup limits",
                )
            })
    }

    /// Fails unless the GEMM kernels can run this strategy on `profile`'s device, with
    /// `column_bytes` of workgroup memory per tile column besides the operand tiles.
    pub(crate) fn check(&self, profile: &AdapterProfile, column_bytes: u64) -> Result<()> {
        let Tile { rows, wg_m, wg_n } = self.tile;
        let why = if !(rows == 4 || rows == 8 && self.staging == Staging::Direct) {
            "rows per invocation must be 4, or 8 with direct reads"
        } else if wg_m == 0 || wg_n == 0 {
            "a tile needs at least one invocation"
        } else if self.tile.invocations() > profile.limits.invocations_per_workgroup {
            "the tile's invocations are over max_compute_invocations_per_workgroup"
        } else if 16 * BK * (wg_m + wg_n) as u64 + column_bytes * self.tile.n() as u64
            > profile.limits.workgroup_storage_bytes as u64
        {
            "the tile's workgroup memory is over max_compute_workgroup_storage_size"
        } else {
            return Ok(());
        };
        Err(Error::invalid(
            "matmul",
            format!("GEMM strategy {self}: {why}"),
        ))
    }

    /// The override constants the kernels read.
    pub(crate) fn constants(&self) -> [(&'static str, f64); 4] {
        [
            (
                "STAGED",
                f64::from(u8::from(self.staging == Staging::Workgroup)),
            ),
            ("ROWS", self.tile.rows as f64),
            ("WG_M", self.tile.wg_m as f64),
            ("WG_N", self.tile.wg_n as f64),
        ]
    }
}

impl fmt::Display for Staging {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Staging::Workgroup => "staged",
            Staging::Direct => "direct",
        })
    }
}

impl fmt::Display for Tile {
    /// `64x64`: output rows x columns per workgroup.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.m(), self.n())
    }
}

impl fmt::Display for Strategy {
    /// `staged 64x64`: the staging and the output block per workgroup.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.staging, self.tile)
    }
}

/// The strategy `matmul` takes for `a` `[..., M, K]` x `b` `[..., K, N]` on
/// `profile`'s adapter: its class's staging, then the tile for an `M` x `N` output.
pub fn strategy(profile: &AdapterProfile, a: &[usize], b: &[usize]) -> Result<Strategy> {
    let [m, _, n] = crate::ops::matmul::matrix_dims(a, b)?;
    Strategy::with_staging(profile, staging(profile), m, n)
}
