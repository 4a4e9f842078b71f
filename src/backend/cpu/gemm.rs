//! Matrix products for the engine through the `matrixmultiply` crate (1.1x to 2.6x
//! the `gemm` crate's single-thread GFLOP/s on ResNet-50 and MobileNetV3 conv shapes
//! in `benches/cpu_gemm.rs`), split into tiles over the engine's threads, each tile
//! finished by the caller's epilogue while it is still in cache.

use rayon::prelude::*;

/// Products below this many multiply-adds run on one thread: splitting costs more.
const PARALLEL_MACS: usize = 1 << 17;

/// A row-major matrix operand: its data and its row stride.
#[derive(Clone, Copy)]
pub(super) struct Matrix<'a> {
    pub data: &'a [f32],
    pub stride: usize,
}

/// The output pointer shared by the tiles, each writing its own rectangle.
#[derive(Clone, Copy)]
struct Out(*mut f32);
// SAFETY: tiles are disjoint rectangles of the output, so no two threads write
// the same element, and the output outlives the parallel loop.
unsafe impl Send for Out {}
unsafe impl Sync for Out {}

impl Out {
    /// The element `i` of the output (a method, so closures capture all of `Out`).
    ///
    /// # Safety
    /// `i` must lie within the output.
    unsafe fn at(self, i: usize) -> *mut f32 {
        // SAFETY: the caller keeps `i` in bounds.
        unsafe { self.0.add(i) }
    }
}

/// `c[m, n] = a[m, k] x b[k, n]` (c row-major, `n` wide), on up to `threads`
/// threads; then `finish(row, first column, that row's part of the tile)` on every
/// row of every tile.
#[allow(clippy::too_many_arguments)]
pub(super) fn product(
    threads: usize,
    (m, n, k): (usize, usize, usize),
    a: Matrix,
    b: Matrix,
    c: &mut [f32],
    finish: impl Fn(usize, usize, &mut [f32]) + Sync,
) {
    assert!(c.len() >= m * n, "gemm output too small");
    assert!(
        m == 0 || a.data.len() >= (m - 1) * a.stride + k,
        "gemm lhs too small"
    );
    assert!(
        k == 0 || b.data.len() >= (k - 1) * b.stride + n,
        "gemm rhs too small"
    );
    let tiles = tiles(threads, m, n, k);
    let out = Out(c.as_mut_ptr());
    let run = |&(m0, m1, n0, n1): &(usize, usize, usize, usize)| {
        // SAFETY: the asserts above keep every read in bounds; the tile's rows
        // m0..m1 and columns n0..n1 of c are written by this tile only.
        unsafe {
            matrixmultiply::sgemm(
                m1 - m0,
                k,
                n1 - n0,
                1.0,
                a.data.as_ptr().add(m0 * a.stride),
                a.stride as isize,
                1,
                b.data.as_ptr().add(n0),
                b.stride as isize,
                1,
                0.0,
                out.at(m0 * n + n0),
                n as isize,
                1,
            );
            for r in m0..m1 {
                let row = std::slice::from_raw_parts_mut(out.at(r * n + n0), n1 - n0);
                finish(r, n0, row);
            }
        }
    };
    if tiles.len() == 1 {
        run(&tiles[0]);
    } else {
        tiles.par_iter().for_each(run);
    }
}

/// One tile per thread, split along the longer side of the output in multiples of
/// 16 (the microkernels' widths); one tile for small products.
fn tiles(threads: usize, m: usize, n: usize, k: usize) -> Vec<(usize, usize, usize, usize)> {
    if threads <= 1 || m * n * k < PARALLEL_MACS {
        return vec![(0, m, 0, n)];
    }
    let along = |len: usize| {
        let step = len.div_ceil(threads).next_multiple_of(16).max(16);
        (0..len)
            .step_by(step)
            .map(move |s| (s, (s + step).min(len)))
    };
    if m >= n {
        along(m).map(|(m0, m1)| (m0, m1, 0, n)).collect()
    } else {
        along(n).map(|(n0, n1)| (0, m, n0, n1)).collect()
    }
}
