//! GFLOP/s of matmul and of SE-ResNet-50-like convolutions (batch 1) on the default
//! adapter, with the strategy chosen for the adapter and with the other GEMM tile
//! staging (workgroup memory vs direct reads, see `Staging`), and for convolutions against a naive
//! one-invocation-per-output kernel defined here (the runtime ships no such kernel).
//! Each measurement warms up, then records N dispatches into one submission and times
//! it to completion on the wall clock.
//!
//! Run: `cargo bench --bench conv2d`.

use std::time::Instant;

use se_runtime::device::Shader;
use se_runtime::device::{Dispatch, grid};
use se_runtime::kernels::conv2d::{self, conv2d, conv2d_f16, conv2d_with};
use se_runtime::kernels::matmul::{self, Staging, matmul, matmul_f16, matmul_with};
use se_runtime::ops::Conv2dParams;
use se_runtime::{Activation, Runtime, Tensor};

const NAIVE: Shader = Shader {
    name: "bench_naive_conv2d",
    source: r#"
struct Params {
    batch: u32, ci: u32, h: u32, w: u32,
    co: u32, oh: u32, ow: u32, groups: u32,
    kh: u32, kw: u32, stride: u32, pad: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn naive(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
    let i = (wid.x + wid.y * nwg.x) * 64u + lid;
    if i >= p.batch * p.co * p.oh * p.ow {
        return;
    }
    let ox = i % p.ow;
    let oy = (i / p.ow) % p.oh;
    let c = (i / (p.ow * p.oh)) % p.co;
    let n = i / (p.ow * p.oh * p.co);
    let cg = p.ci / p.groups;
    let g = c / (p.co / p.groups);
    var acc = bias[c];
    for (var ic = 0u; ic < cg; ic++) {
        for (var ky = 0u; ky < p.kh; ky++) {
            let iy = i32(oy * p.stride + ky) - i32(p.pad);
            for (var kx = 0u; kx < p.kw; kx++) {
                let ix = i32(ox * p.stride + kx) - i32(p.pad);
                if iy >= 0 && u32(iy) < p.h && ix >= 0 && u32(ix) < p.w {
                    let xv = x[((n * p.ci + g * cg + ic) * p.h + u32(iy)) * p.w + u32(ix)];
                    acc += w[((c * cg + ic) * p.kh + ky) * p.kw + kx] * xv;
                }
            }
        }
    }
    y[i] = max(acc, 0.0);
}
"#,
};

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct NaiveParams {
    dims: [u32; 12],
}

/// Seconds per run of `d`: one warm-up submission, then enough runs in one submission
/// to take about half a second.
fn time(rt: &Runtime, d: &Dispatch) -> f64 {
    let once = |n: usize| {
        let start = Instant::now();
        rt.submit(std::iter::repeat_n(d, n));
        rt.wait().expect("kernels run");
        start.elapsed().as_secs_f64()
    };
    once(1);
    let estimate = once(1);
    let n = (0.5 / estimate).clamp(2.0, 200.0) as usize;
    once(n) / n as f64
}

fn random_data(len: usize, seed: u32) -> Vec<f32> {
    (0..len)
        .map(|i| {
            ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) as f32 / 16_777_216.0
                - 0.5
        })
        .collect()
}

fn random(rt: &Runtime, shape: &[usize], seed: u32) -> Tensor {
    let data = random_data(shape.iter().product(), seed);
    rt.upload(shape, &data).expect("upload")
}

struct Layer {
    name: &'static str,
    x: [usize; 4],
    co: usize,
    k: usize,
    stride: usize,
    pad: usize,
    groups: usize,
}

fn main() {
    // `cargo test --all-targets` runs bench binaries too; only `cargo bench` measures.
    if !std::env::args().any(|a| a == "--bench") {
        println!("conv2d bench: skipped (run `cargo bench --bench conv2d`)");
        return;
    }
    let rt = pollster::block_on(Runtime::new()).expect("a GPU adapter");
    let info = rt.adapter_info();
    println!("adapter: {} ({:?})\n", info.name, info.backend);
    // The staging the strategies do not pick on this adapter.
    let other = match matmul::staging(rt.profile()) {
        Staging::Workgroup => Staging::Direct,
        Staging::Direct => Staging::Workgroup,
    };
    println!(
        "GFLOP/s; \"{other:?}\": the other GEMM staging; ratio: auto / naive \
         (\"f16 weights\" rows: f32-weight time / f16-weight time, auto)\n"
    );
    let f16 = rt.profile().f16;
    println!(
        "{:<34} {:>14} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "layer",
        "algorithm",
        "ms",
        "auto",
        format!("{other:?}"),
        "naive",
        "ratio"
    );

    for (m, k, n) in [(1024, 1024, 1024), (1, 2048, 1000), (8, 2048, 1000)] {
        let (a, b) = (random(&rt, &[m, k], 1), random(&rt, &[k, n], 2));
        let out = rt.tensor(&[m, n]).unwrap();
        let d = matmul(&rt, &a, &b, None, Activation::Identity, &out).unwrap();
        let t = time(&rt, &d);
        let forced = matmul::Strategy::with_staging(rt.profile(), other, m, n).unwrap();
        let d = matmul_with(&rt, forced, &a, &b, None, Activation::Identity, &out).unwrap();
        let to = time(&rt, &d);
        let flops = 2.0 * (m * k * n) as f64;
        println!(
            "{:<34} {:>14} {:>9.2} {:>9.2} {:>9.2}",
            format!("matmul {m}x{k} * {k}x{n}"),
            "gemm",
            t * 1e3,
            flops / t / 1e9,
            flops / to / 1e9
        );
        // The same product with b (the weights) stored as f16, the adapter's strategy.
        if f16 {
            let bh = rt
                .upload_f16(&[k, n], &random_data(k * n, 2))
                .expect("upload");
            let d = matmul_f16(
                &rt,
                matmul::strategy(rt.profile(), &[m, k], &[k, n]).unwrap(),
                &a,
                &bh,
                None,
                Activation::Identity,
                &out,
            )
            .unwrap();
            let th = time(&rt, &d);
            println!(
                "{:<34} {:>14} {:>9.2} {:>9.2} {:>9} {:>9} {:>7.2}",
                format!("matmul {m}x{k} * {k}x{n}"),
                "f16 weights",
                th * 1e3,
                flops / th / 1e9,
                "",
                "",
                t / th
            );
        }
    }

    let layers = [
        Layer {
            name: "1x1 256->64 @56",
            x: [1, 256, 56, 56],
            co: 64,
            k: 1,
            stride: 1,
            pad: 0,
            groups: 1,
        },
        Layer {
            name: "3x3 64->64 @56",
            x: [1, 64, 56, 56],
            co: 64,
            k: 3,
            stride: 1,
            pad: 1,
            groups: 1,
        },
        Layer {
            name: "1x1 64->256 @56",
            x: [1, 64, 56, 56],
            co: 256,
            k: 1,
            stride: 1,
            pad: 0,
            groups: 1,
        },
        Layer {
            name: "3x3/2 128->128 @56->28",
            x: [1, 128, 56, 56],
            co: 128,
            k: 3,
            stride: 2,
            pad: 1,
            groups: 1,
        },
        Layer {
            name: "7x7/2 stem 3->64 @224",
            x: [1, 3, 224, 224],
            co: 64,
            k: 7,
            stride: 2,
            pad: 3,
            groups: 1,
        },
        Layer {
            name: "3x3 g32 128->128 @56 (ResNeXt)",
            x: [1, 128, 56, 56],
            co: 128,
            k: 3,
            stride: 1,
            pad: 1,
            groups: 32,
        },
        Layer {
            name: "depthwise 3x3 96 @56",
            x: [1, 96, 56, 56],
            co: 96,
            k: 3,
            stride: 1,
            pad: 1,
            groups: 96,
        },
        Layer {
            name: "1x1 1024->2048 @7",
            x: [1, 1024, 7, 7],
            co: 2048,
            k: 1,
            stride: 1,
            pad: 0,
            groups: 1,
        },
    ];
    for l in &layers {
        let p = Conv2dParams {
            stride: [l.stride; 2],
            padding: [l.pad; 4],
            groups: l.groups,
            ..Default::default()
        };
        let w_shape = [l.co, l.x[1] / l.groups, l.k, l.k];
        let out = p.output_shape(&l.x, &w_shape).unwrap();
        let (x, w, bias) = (
            random(&rt, &l.x, 3),
            random(&rt, &w_shape, 4),
            random(&rt, &[l.co], 5),
        );
        let y = rt.tensor(&out).unwrap();
        let flops = 2.0 * (out.iter().product::<usize>() * w_shape[1] * l.k * l.k) as f64;

        let d = conv2d(&rt, &x, &w, Some(&bias), None, &p, Activation::Relu, &y).unwrap();
        let t = time(&rt, &d);
        let algo = conv2d::strategy(rt.profile(), &l.x, &w_shape, &p).unwrap();
        let forced = match algo {
            conv2d::Strategy::Gemm1x1(_) => Some(conv2d::Strategy::Gemm1x1(other)),
            conv2d::Strategy::ImplicitGemm(_) => Some(conv2d::Strategy::ImplicitGemm(other)),
            conv2d::Strategy::Depthwise => None,
        };
        let to = forced.map(|a| {
            let act = Activation::Relu;
            time(
                &rt,
                &conv2d_with(&rt, a, &x, &w, Some(&bias), None, &p, act, &y).unwrap(),
            )
        });

        let dims = [
            l.x[0], l.x[1], l.x[2], l.x[3], l.co, out[2], out[3], l.groups, l.k, l.k, l.stride,
            l.pad,
        ];
        let params = NaiveParams {
            dims: dims.map(|v| v as u32),
        };
        let groups = out.iter().product::<usize>().div_ceil(64) as u32;
        let naive = rt
            .dispatch(
                NAIVE,
                "naive",
                &[],
                &params,
                &[&x, &w, &bias, &y],
                grid(&rt, groups),
            )
            .unwrap();
        let tn = time(&rt, &naive);

        let name = match algo {
            conv2d::Strategy::Gemm1x1(_) => "gemm 1x1",
            conv2d::Strategy::ImplicitGemm(_) => "implicit gemm",
            conv2d::Strategy::Depthwise => "depthwise",
        };
        let other_gflops = to.map_or("-".into(), |to| format!("{:.2}", flops / to / 1e9));
        println!(
            "{:<34} {name:>14} {:>9.2} {:>9.2} {other_gflops:>9} {:>9.2} {:>7.1}",
            l.name,
            t * 1e3,
            flops / t / 1e9,
            flops / tn / 1e9,
            tn / t
        );
        // The same layer with f16 weights, the adapter's strategy.
        if f16 {
            let wh = rt
                .upload_f16(&w_shape, &random_data(w_shape.iter().product(), 4))
                .expect("upload");
            let act = Activation::Relu;
            let d = conv2d_f16(&rt, algo, &x, &wh, Some(&bias), None, &p, act, &y).unwrap();
            let th = time(&rt, &d);
            println!(
                "{:<34} {:>14} {:>9.2} {:>9.2} {:>9} {:>9} {:>7.2}",
                l.name,
                "f16 weights",
                th * 1e3,
                flops / th / 1e9,
                "",
                "",
                t / th
            );
        }
    }
}
