//! The squeeze (global average pooling) against alternatives, at the SE-ResNet
//! stage-2 size C = 256, 56 x 56, batch 1 and 8:
//! - `64 lanes per plane`: the library kernel with the lane count it uses on GPUs
//!   (on a CPU adapter it picks at most 8);
//! - `one thread per channel`: the same math with each invocation walking its whole
//!   plane with scalar loads — the baseline the parallel reduction must beat;
//! - `1 lane per plane (vec4)`: the library kernel with no cooperation within a plane,
//!   separating what vec4 loads buy from what the cooperative reduction buys;
//! - `NHWC, same reduction`: the parallel kernel reading an NHWC tensor, where a plane's
//!   elements are C apart — evidence for the NCHW layout (see src/tensor.rs);
//! - `NHWC, thread per channel`: the reduction NHWC favours (neighbouring invocations
//!   read neighbouring channels), so the layout comparison is fair to NHWC;
//! - `subgroup per plane`: the subgroup reduction chosen on GPUs that have subgroups
//!   (timed where the adapter has them).
//!
//! After a warm-up, each round times every variant once (ITERS dispatches recorded in
//! one submission, wall clock until `rt.wait()` returns), so load from other processes
//! hits all variants alike; the median (and the minimum) over ROUNDS rounds is reported.
//! `cargo bench --bench squeeze`; under `cargo test` it only checks that every variant
//! computes the same result as the CPU twin.
//!
//! On CPU adapters such as lavapipe every storage-buffer load runs lane by lane, so the
//! cost follows the number of elements loaded whatever the split of work: there the
//! parallel kernel gains only what its vec4 loads save (about 2x over one thread per
//! channel), and `1 lane per plane (vec4)` is as fast. The cooperative reduction is for
//! GPUs, where one thread per channel leaves most of the device idle.

use std::time::Instant;

use se_runtime::SqueezeMode;
use se_runtime::device::Shader;
use se_runtime::device::{Dispatch, grid};
use se_runtime::kernels::squeeze::{Strategy, WORKGROUP, squeeze, squeeze_with};
use se_runtime::tensor::HostTensor;
use se_runtime::{Runtime, Tensor, cpu};

const C: usize = 256;
const H: usize = 56;
const W: usize = 56;
const WARMUP: usize = 5;
const ITERS: usize = 20;
const ROUNDS: usize = 15;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    planes: u32,
    hw: u32,
    channels: u32,
    pad: u32,
}

/// One invocation per (n, c) plane, walking all of it: in NCHW its reads are
/// contiguous per invocation but H*W apart between neighbouring invocations.
const PER_CHANNEL_NCHW: Shader = Shader {
    name: "bench_per_channel_nchw",
    source: r#"
struct Params { planes: u32, hw: u32, channels: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let plane = gid.x;
    if plane >= p.planes { return; }
    var acc = 0.0;
    for (var i = 0u; i < p.hw; i++) {
        acc += x[plane * p.hw + i];
    }
    out[plane] = acc / f32(p.hw);
}
"#,
};

/// The same reduction over NHWC: plane (n, c) element i is x[(n * hw + i) * C + c].
/// Neighbouring invocations read neighbouring channels, which NHWC makes contiguous.
const PER_CHANNEL_NHWC: Shader = Shader {
    name: "bench_per_channel_nhwc",
    source: r#"
struct Params { planes: u32, hw: u32, channels: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let plane = gid.x;
    if plane >= p.planes { return; }
    let n = plane / p.channels;
    let c = plane % p.channels;
    var acc = 0.0;
    for (var i = 0u; i < p.hw; i++) {
        acc += x[(n * p.hw + i) * p.channels + c];
    }
    out[plane] = acc / f32(p.hw);
}
"#,
};

/// The library's parallel reduction (64 lanes per plane, interleaved, shared-memory
/// tree) reading NHWC: each lane's loads are C floats apart, so no vec4 and no
/// contiguous runs.
const PARALLEL_NHWC: Shader = Shader {
    name: "bench_parallel_nhwc",
    source: r#"
struct Params { planes: u32, hw: u32, channels: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let plane = wid.x + wid.y * nwg.x;
    var acc = 0.0;
    if plane < p.planes {
        let n = plane / p.channels;
        let c = plane % p.channels;
        for (var i = lid; i < p.hw; i += 64u) {
            acc += x[(n * p.hw + i) * p.channels + c];
        }
    }
    partial[lid] = acc;
    workgroupBarrier();
    for (var stride = 32u; stride > 0u; stride /= 2u) {
        if lid < stride {
            partial[lid] += partial[lid + stride];
        }
        workgroupBarrier();
    }
    if lid == 0u && plane < p.planes {
        out[plane] = partial[0] / f32(p.hw);
    }
}
"#,
};

fn random(seed: u64, n: usize) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect()
}

fn nchw_to_nhwc(x: &[f32], n: usize) -> Vec<f32> {
    let mut y = vec![0.0; x.len()];
    for b in 0..n {
        for c in 0..C {
            for i in 0..H * W {
                y[(b * H * W + i) * C + c] = x[(b * C + c) * H * W + i];
            }
        }
    }
    y
}

/// (median, minimum) milliseconds per dispatch of each of `dispatches`.
fn time(rt: &Runtime, dispatches: &[&Dispatch]) -> Vec<(f64, f64)> {
    for d in dispatches {
        rt.submit(std::iter::repeat_n(*d, WARMUP));
        rt.wait().expect("warm-up");
    }
    let mut runs = vec![Vec::with_capacity(ROUNDS); dispatches.len()];
    for _ in 0..ROUNDS {
        for (d, r) in dispatches.iter().zip(&mut runs) {
            let t = Instant::now();
            rt.submit(std::iter::repeat_n(*d, ITERS));
            rt.wait().expect("timed run");
            r.push(t.elapsed().as_secs_f64() * 1e3 / ITERS as f64);
        }
    }
    runs.into_iter()
        .map(|mut r| {
            r.sort_by(f64::total_cmp);
            (r[ROUNDS / 2], r[0])
        })
        .collect()
}

fn check(rt: &Runtime, what: &str, out: &Tensor, want: &[f32]) {
    let got = pollster::block_on(out.read(rt)).expect("readback");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-4 * w.abs().max(1.0),
            "{what}: plane {i}: {g} vs {w}"
        );
    }
}

fn main() {
    let timing = std::env::args().any(|a| a == "--bench");
    let rt = match pollster::block_on(Runtime::new()) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("SKIPPED squeeze benchmark: {e}");
            return;
        }
    };
    let info = rt.adapter_info();
    println!("squeeze benchmark on {} ({:?})", info.name, info.backend);
    for n in [1, 8] {
        let shape = [n, C, H, W];
        let x = HostTensor::new(&shape, random(n as u64, n * C * H * W)).unwrap();
        let want = cpu::squeeze::squeeze(&x, SqueezeMode::Avg).unwrap();
        let xt = rt.upload_host(&x).unwrap();
        let x_nhwc = rt.upload(&[n, H, W, C], &nchw_to_nhwc(&x.data, n)).unwrap();
        let out = rt.tensor(&[n, C]).unwrap();
        let planes = n * C;
        let params = Params {
            planes: planes as u32,
            hw: (H * W) as u32,
            channels: C as u32,
            pad: 0,
        };
        let per_thread = grid(&rt, planes.div_ceil(64) as u32);
        let bench = |shader, input: &Tensor, wg| {
            rt.dispatch(shader, "main", &[], &params, &[input, &out], wg)
                .unwrap()
        };
        let tree = |lanes| Strategy::Tree { lanes };
        let mut variants = vec![
            (
                "parallel (library choice)",
                squeeze(&rt, &xt, SqueezeMode::Avg, &out).unwrap(),
            ),
            (
                "parallel, 64 lanes per plane",
                squeeze_with(&rt, &xt, SqueezeMode::Avg, tree(WORKGROUP), &out).unwrap(),
            ),
            (
                "one thread per channel",
                bench(PER_CHANNEL_NCHW, &xt, per_thread),
            ),
            (
                "1 lane per plane (vec4)",
                squeeze_with(&rt, &xt, SqueezeMode::Avg, tree(1), &out).unwrap(),
            ),
            (
                "NHWC, same reduction",
                bench(PARALLEL_NHWC, &x_nhwc, grid(&rt, planes as u32)),
            ),
            (
                "NHWC, thread per channel",
                bench(PER_CHANNEL_NHWC, &x_nhwc, per_thread),
            ),
        ];
        // The subgroup reduction GPUs get, timed where the adapter has subgroups.
        if let Some(subgroups) = Strategy::subgroups(rt.profile()) {
            variants.push((
                "subgroup per plane",
                squeeze_with(&rt, &xt, SqueezeMode::Avg, subgroups, &out).unwrap(),
            ));
        }
        println!(
            "\nN = {n}, C = {C}, {H} x {W} ({:.1} MB read per squeeze)",
            (n * C * H * W * 4) as f64 / 1e6
        );
        for (name, d) in &variants {
            rt.run(std::slice::from_ref(d)).unwrap();
            check(&rt, name, &out, &want.data);
        }
        if !timing {
            continue;
        }
        let all: Vec<&Dispatch> = variants.iter().map(|(_, d)| d).collect();
        let times = time(&rt, &all);
        let (base, base_min) = times[0];
        println!(
            "  {:30} {:>9} {:>9}   {:>8}",
            "variant", "median", "min", "vs lib"
        );
        for ((name, _), (median, min)) in variants.iter().zip(&times) {
            println!(
                "  {name:30} {median:6.3} ms {min:6.3} ms   {:6.2}x",
                median / base
            );
        }
        let baseline = times[2];
        println!(
            "  parallel reduction speed-up over one thread per channel: {:.2}x (median), {:.2}x (min)",
            baseline.0 / base,
            baseline.1 / base_min
        );
    }
    if !timing {
        println!(
            "all variants agree with the CPU twin (run `cargo bench --bench squeeze` to time them)"
        );
    }
}
