//! The GEMM crate for the CPU engine (`src/backend/cpu/`): `gemm` (sarah-quinones)
//! against `matrixmultiply` on the convolution shapes of ResNet-50 and MobileNetV3
//! as the engine lowers them (out[Co, HW] = W[Co, K] x cols[K, HW], K = Ci * kh * kw),
//! one thread, and `gemm` on two threads as well. Median GFLOP/s over ROUNDS rounds.
//! `cargo bench --bench cpu_gemm`; under `cargo test` it checks the two agree.
//!
//! Measured 2026-12-03 on the 2-core AVX-512 development VM (shared, load ~3-5), two
//! runs: matrixmultiply 1 thread 77-81 / 125-132 / 75-84 / 91-102 / 96 / 127-129
//! GFLOP/s on the six shapes in order, gemm 1 thread 31-61 / 86-89 / 71-73 / 82-85 /
//! 74-79 / 95-96, gemm 2 threads 37-60 / 91-96 / 77-109 / 82-97 / 80-102 / 93-95.
//! matrixmultiply wins every shape on one thread (1.1x to 2.6x), so the engine uses it
//! and splits the output into one tile per thread itself, which also lets each tile's
//! epilogue run while the tile is in cache. rten-gemm was not evaluated.

use std::time::Instant;

const ROUNDS: usize = 15;

/// (what, M = Co, K, N = HW)
const SHAPES: [(&str, usize, usize, usize); 6] = [
    ("resnet50 3x3 64->64 @56x56", 64, 576, 3136),
    ("resnet50 1x1 512->128 @28x28", 128, 512, 784),
    ("resnet50 1x1 512->2048 @7x7", 2048, 512, 49),
    ("mobilenetv3 1x1 24->72 @56x56", 72, 24, 3136),
    ("mobilenetv3 1x1 160->960 @7x7", 960, 160, 49),
    ("mobilenetv3 1x1 40->120 @28x28", 120, 40, 784),
];

fn with_gemm(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32], threads: usize) {
    let par = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: a is m x k, b is k x n, c is m x n, all row-major and in bounds.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            1,
            n as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            par,
        )
    }
}

fn with_matrixmultiply(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    // SAFETY: as above.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        )
    }
}

fn median_gflops(flop: f64, mut run: impl FnMut()) -> f64 {
    run();
    let mut t: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let s = Instant::now();
            run();
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    flop / t[ROUNDS / 2] / 1e9
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    println!(
        "{:<34} {:>10} {:>10} {:>10}",
        "shape (GFLOP/s)", "gemm 1t", "mm 1t", "gemm 2t"
    );
    for (what, m, k, n) in SHAPES {
        let a: Vec<f32> = (0..m * k).map(|i| (i % 13) as f32 * 0.1 - 0.6).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 7) as f32 * 0.1 - 0.3).collect();
        let (mut c1, mut c2) = (vec![0.0; m * n], vec![0.0; m * n]);
        with_gemm(m, k, n, &a, &b, &mut c1, 1);
        with_matrixmultiply(m, k, n, &a, &b, &mut c2);
        let worst = c1
            .iter()
            .zip(&c2)
            .map(|(x, y)| (x - y).abs() / y.abs().max(1.0));
        let worst = worst.fold(0.0f32, f32::max);
        assert!(
            worst < 1e-4,
            "{what}: gemm and matrixmultiply differ by {worst}"
        );
        if !bench {
            continue;
        }
        let flop = 2.0 * (m * k * n) as f64;
        let g1 = median_gflops(flop, || with_gemm(m, k, n, &a, &b, &mut c1, 1));
        let mm = median_gflops(flop, || with_matrixmultiply(m, k, n, &a, &b, &mut c2));
        let g2 = pool.install(|| median_gflops(flop, || with_gemm(m, k, n, &a, &b, &mut c1, 2)));
        println!("{what:<34} {g1:>10.1} {mm:>10.1} {g2:>10.1}");
    }
}
