//! Matrix products of the plan (fully connected layers): `y[rows, N] = act(a[rows, K]
//! x b[K, N] + bias)` with `b` a constant copied out at prepare time and `a`'s
//! leading dimensions folded into its rows. Reference twin: `cpu::matmul`.

use rayon::prelude::*;

use super::epilogue::finish;
use super::gemm::{Matrix, product};
use crate::ops::Activation;

/// Rows up to which a product runs as rows of multiply-adds over `b` (a batch-1 FC
/// layer is one row; the GEMM packing would cost more than the product).
const VECTOR_ROWS: usize = 2;

/// Columns each thread takes in the row-by-row product (a multiple of 16).
const COLUMN_CHUNK: usize = 256;

pub(super) struct PackedMatMul {
    pub rows: usize,
    pub inner: usize,
    pub cols: usize,
    /// `[K, N]`
    pub weights: Vec<f32>,
    /// `[N]`
    pub bias: Option<Vec<f32>>,
    pub act: Activation,
}

impl PackedMatMul {
    /// For `a` `[.., M, K]`, `b` `[K, N]` and `y` `[.., M, N]`, where they fit.
    pub fn fits(a: &[usize], b: &[usize], y: &[usize]) -> Option<(usize, usize, usize)> {
        let (&[.., k], &[kb, n], &[.., yn]) = (a, b, y) else {
            return None;
        };
        let rows = a.iter().product::<usize>() / k.max(1);
        let ok = a.len() >= 2 && k == kb && n == yn && y.iter().product::<usize>() == rows * n;
        ok.then_some((rows, k, n))
    }

    pub fn run(&self, threads: usize, a: &[f32], y: &mut [f32]) {
        let (m, k, n) = (self.rows, self.inner, self.cols);
        if m <= VECTOR_ROWS {
            for (a, y) in a.chunks(k).zip(y.chunks_mut(n)) {
                self.row(threads, a, y);
            }
            return;
        }
        product(
            threads,
            (m, n, k),
            Matrix { data: a, stride: k },
            Matrix {
                data: &self.weights,
                stride: n,
            },
            y,
            |_, col, out| self.finish(col, out),
        );
    }

    /// `y = a x b` for one row `a`: `y += a[k] * b[k]` over the rows of `b`, in the
    /// reference's order of `k`, columns split over the threads.
    fn row(&self, threads: usize, a: &[f32], y: &mut [f32]) {
        let n = self.cols;
        let columns = |(chunk, out): (usize, &mut [f32])| {
            let first = chunk * COLUMN_CHUNK;
            out.fill(0.0);
            for (&av, b) in a.iter().zip(self.weights.chunks(n)) {
                for (o, b) in out.iter_mut().zip(&b[first..]) {
                    *o += av * b;
                }
            }
            self.finish(first, out);
        };
        if threads > 1 && n > COLUMN_CHUNK {
            y.par_chunks_mut(COLUMN_CHUNK).enumerate().for_each(columns);
        } else {
            y.chunks_mut(COLUMN_CHUNK).enumerate().for_each(columns);
        }
    }

    /// Bias and activation on outputs `col..` of a row.
    fn finish(&self, col: usize, out: &mut [f32]) {
        if let Some(b) = &self.bias {
            for (v, b) in out.iter_mut().zip(&b[col..]) {
                *v += b;
            }
        }
        finish(out, 0.0, None, self.act);
    }
}
