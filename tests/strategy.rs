//! The kernel strategies as pure functions of (adapter profile, shape), on profiles built
//! by hand: the GPU class against the CPU class, small and large shapes, subgroup
//! sizes and limits, and the adapter profile itself. `se_resnet50_strategy_table`
//! prints what every layer shape of SE-ResNet-50 at batch 1 gets on either class
//! (`cargo test --test strategy -- --nocapture`).

mod common;

use se_runtime::LimitCaps;
use se_runtime::device::{AdapterProfile, DeviceClass, SubgroupSizes, TilingLimits};
use se_runtime::kernels::matmul::{Staging, Tile};
use se_runtime::kernels::{conv2d, excite, matmul, softmax, squeeze};
use se_runtime::ops::Conv2dParams;

/// A discrete GPU as Vulkan describes an NVIDIA one: 32-wide subgroups, 1024
/// invocations and 48 KiB of workgroup memory per workgroup.
fn gpu() -> AdapterProfile {
    AdapterProfile {
        class: DeviceClass::Gpu,
        subgroups: Some(SubgroupSizes { min: 32, max: 32 }),
        f16: true,
        limits: TilingLimits {
            invocations_per_workgroup: 1024,
            workgroup_storage_bytes: 48 << 10,
            workgroups_per_dimension: 65535,
            storage_binding_bytes: 2 << 30,
        },
        cpu_threads: 16,
    }
}

/// lavapipe on a 2-core machine: 8-wide subgroups, 1024 invocations, 32 KiB.
fn cpu() -> AdapterProfile {
    let gpu = gpu();
    AdapterProfile {
        class: DeviceClass::Cpu,
        subgroups: Some(SubgroupSizes { min: 8, max: 8 }),
        limits: TilingLimits {
            workgroup_storage_bytes: 32 << 10,
            storage_binding_bytes: 128 << 20,
            ..gpu.limits
        },
        cpu_threads: 2,
        ..gpu
    }
}

fn tile(rows: u32, wg_m: u32, wg_n: u32) -> Tile {
    Tile { rows, wg_m, wg_n }
}

fn conv_params(stride: usize, pad: usize, groups: usize) -> Conv2dParams {
    Conv2dParams {
        stride: [stride; 2],
        padding: [pad; 4],
        groups,
        ..Default::default()
    }
}

#[test]
fn adapter_profile_from_the_adapter() {
    use wgpu::{AdapterInfo, Backend, DeviceType, Features, Limits};
    let limits = Limits::default();
    for (device_type, class) in [
        (DeviceType::Cpu, DeviceClass::Cpu),
        (DeviceType::DiscreteGpu, DeviceClass::Gpu),
        (DeviceType::IntegratedGpu, DeviceClass::Gpu),
        (DeviceType::VirtualGpu, DeviceClass::Gpu),
        (DeviceType::Other, DeviceClass::Gpu),
    ] {
        let info = AdapterInfo::new(device_type, Backend::Vulkan);
        let p = AdapterProfile::new(&info, Features::empty(), &limits);
        assert_eq!(p.class, class, "{device_type:?}");
        assert_eq!((p.subgroups, p.f16), (None, false));
    }
    let mut info = AdapterInfo::new(DeviceType::DiscreteGpu, Backend::Metal);
    (info.subgroup_min_size, info.subgroup_max_size) = (4, 64);
    let p = AdapterProfile::new(&info, Features::SUBGROUP | Features::SHADER_F16, &limits);
    assert_eq!(p.subgroups, Some(SubgroupSizes { min: 4, max: 64 }));
    assert!(p.f16);
    assert_eq!(
        p.limits,
        TilingLimits {
            invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
            workgroup_storage_bytes: limits.max_compute_workgroup_storage_size,
            workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
            storage_binding_bytes: limits.max_storage_buffer_binding_size,
        }
    );
    assert!(p.cpu_threads >= 1);
}

#[test]
fn runtime_profile_sees_the_limit_caps() {
    let caps = LimitCaps {
        max_compute_workgroups_per_dimension: Some(16),
        ..Default::default()
    };
    let rt = require!(gpu, limits = caps);
    let p = rt.profile();
    assert_eq!(p.limits.workgroups_per_dimension, 16);
    let cpu_adapter = rt.adapter_info().device_type == wgpu::DeviceType::Cpu;
    let forced = se_runtime::RuntimeOptions::from_env().unwrap().device_class;
    let expected = forced.unwrap_or(if cpu_adapter {
        DeviceClass::Cpu
    } else {
        DeviceClass::Gpu
    });
    assert_eq!(p.class, expected, "{p:?}");
    assert_eq!(p.f16, rt.features().contains(wgpu::Features::SHADER_F16));
}

#[test]
fn gemm_stages_on_gpus_and_reads_directly_on_cpus() {
    assert_eq!(matmul::staging(&gpu()), Staging::Workgroup);
    assert_eq!(matmul::staging(&cpu()), Staging::Direct);
    // A large product: 64 x 64 tiles on both, 4 rows per invocation when staged, 8 direct.
    let big = |p| matmul::strategy(&p, &[1024, 1024], &[1024, 1024]).unwrap();
    assert_eq!(big(gpu()).tile, tile(4, 16, 16));
    assert_eq!(big(cpu()).tile, tile(8, 8, 16));
    assert_eq!(big(gpu()).to_string(), "staged 64x64");
    assert_eq!(big(cpu()).to_string(), "direct 64x64");
}

#[test]
fn gemm_tiles_follow_the_shape() {
    for p in [gpu(), cpu()] {
        // M = 1 (a fully connected layer): 4-row tiles, the narrowest giving 32
        // workgroups among those that waste the same work.
        let fc = matmul::strategy(&p, &[1, 2048], &[2048, 1000]).unwrap();
        assert_eq!(fc.tile, tile(4, 1, 8), "{p:?}");
        assert_eq!(fc.tile.workgroups(1, 1000), (1, 32));
        // 16 output channels get 16-row tiles where the columns fill 128-wide ones,
        // 8-row ones where narrower tiles pad less (3136 = 49 x 64 columns).
        let s = matmul::Strategy::with_staging(&p, matmul::staging(&p), 16, 4096).unwrap();
        assert_eq!(s.tile.m(), 16, "{p:?}");
        let s = matmul::Strategy::with_staging(&p, matmul::staging(&p), 16, 3136).unwrap();
        assert_eq!(s.tile.m(), 8, "{p:?}");
    }
    // 5 rows direct: 8 rows per invocation, no tile under 8 rows.
    let s = matmul::strategy(&cpu(), &[5, 64], &[64, 64]).unwrap();
    assert_eq!((s.tile.rows, s.tile.m()), (8, 8));
    assert!(matmul::strategy(&cpu(), &[4], &[4, 5]).is_err());
    assert!(matmul::strategy(&cpu(), &[3, 4], &[5, 5]).is_err());
}

#[test]
fn gemm_tiles_fit_the_limits() {
    let mut small = gpu();
    small.limits.invocations_per_workgroup = 64;
    let s = matmul::strategy(&small, &[1024, 1024], &[1024, 1024]).unwrap();
    assert!(s.tile.invocations() <= 64, "{s:?}");
    // Exactly the operand tiles of a staged 64 x 64 tile: it fits a plain GEMM but not
    // the implicit GEMM, whose window table takes 16 bytes per tile column more.
    small = gpu();
    small.limits.workgroup_storage_bytes = 16 * 16 * (16 + 16);
    let plain = matmul::Strategy::with_staging(&small, Staging::Workgroup, 64, 3136).unwrap();
    assert_eq!(plain.tile, tile(4, 16, 16));
    let (x, w) = ([1, 64, 56, 56], [64, 64, 3, 3]);
    let igemm = conv2d::Strategy::ImplicitGemm(Staging::Workgroup);
    let g = conv2d::gemm_strategy(&small, igemm, &x, &w, &conv_params(1, 1, 1)).unwrap();
    assert_ne!(g.unwrap().tile, tile(4, 16, 16));
    // No tile at all: a typed error.
    small.limits.workgroup_storage_bytes = 1024;
    assert!(matmul::strategy(&small, &[64, 64], &[64, 64]).is_err());
}

#[test]
fn conv_strategies_by_shape_and_class() {
    let s = |p: &AdapterProfile, x: [usize; 4], w: [usize; 4], prm| {
        conv2d::strategy(p, &x, &w, &prm).unwrap()
    };
    let d = Conv2dParams::default();
    for (p, staging) in [(gpu(), Staging::Workgroup), (cpu(), Staging::Direct)] {
        use conv2d::Strategy::{Depthwise, Gemm1x1, ImplicitGemm};
        let pw = s(&p, [1, 64, 56, 56], [256, 64, 1, 1], d);
        assert_eq!(pw, Gemm1x1(staging));
        let k3 = s(&p, [1, 64, 56, 56], [64, 64, 3, 3], conv_params(1, 1, 1));
        assert_eq!(k3, ImplicitGemm(staging));
        let dw = s(&p, [1, 96, 56, 56], [96, 1, 3, 3], conv_params(1, 1, 96));
        assert_eq!(dw, Depthwise);
        // Under 16 pixels a 1x1 convolution runs as one GEMM over the batch.
        let small = s(&p, [1, 2048, 1, 1], [16, 2048, 1, 1], d);
        assert_eq!(small, ImplicitGemm(staging));
        // A strided 1x1 convolution (a downsampling shortcut) gathers its windows.
        let strided = s(&p, [1, 256, 56, 56], [512, 256, 1, 1], conv_params(2, 0, 1));
        assert_eq!(strided, ImplicitGemm(staging));
        // Grouped with more than 4 outputs per group: a GEMM per group.
        let grouped = s(&p, [1, 128, 56, 56], [128, 4, 3, 3], conv_params(1, 1, 32));
        assert_eq!(grouped, ImplicitGemm(staging));
        assert_eq!(
            conv2d::gemm_strategy(
                &p,
                dw,
                &[1, 96, 56, 56],
                &[96, 1, 3, 3],
                &conv_params(1, 1, 96)
            )
            .unwrap(),
            None
        );
    }
    let bad = conv2d::strategy(&gpu(), &[1, 3, 8, 8], &[4, 2, 3, 3], &d);
    assert!(bad.is_err());
}

#[test]
fn squeeze_strategies_by_subgroup_size_and_class() {
    use squeeze::Strategy::{Subgroups, Tree};
    let big = [1, 256, 56, 56];
    let last = [1, 2048, 7, 7];
    // A subgroup per plane at the smallest subgroup size the adapter reports.
    let with = |min, max| AdapterProfile {
        subgroups: Some(SubgroupSizes { min, max }),
        ..gpu()
    };
    let per_group = |p: AdapterProfile| squeeze::strategy(&p, big);
    assert_eq!(
        per_group(with(32, 32)),
        Subgroups {
            planes_per_workgroup: 2
        }
    );
    assert_eq!(
        per_group(with(4, 64)),
        Subgroups {
            planes_per_workgroup: 16
        }
    );
    assert_eq!(
        per_group(with(128, 128)),
        Subgroups {
            planes_per_workgroup: 1
        }
    );
    // GPUs without subgroups: a lane per 4 loads, up to a workgroup.
    let plain = AdapterProfile {
        subgroups: None,
        ..gpu()
    };
    assert_eq!(squeeze::strategy(&plain, big), Tree { lanes: 64 });
    assert_eq!(squeeze::strategy(&plain, last), Tree { lanes: 16 });
    assert_eq!(squeeze::strategy(&plain, [1, 8, 1, 1]), Tree { lanes: 1 });
    // CPU adapters, with or without subgroups: one lane per plane while there are
    // workgroups for every thread, more lanes (up to 8) when there are not.
    assert_eq!(squeeze::strategy(&cpu(), big), Tree { lanes: 1 });
    assert_eq!(squeeze::strategy(&cpu(), last), Tree { lanes: 1 });
    let threads = |n| AdapterProfile {
        cpu_threads: n,
        ..cpu()
    };
    assert_eq!(squeeze::strategy(&threads(8), big), Tree { lanes: 2 });
    assert_eq!(squeeze::strategy(&threads(64), big), Tree { lanes: 8 });
    assert_eq!(
        squeeze::strategy(&threads(64), [1, 4, 2, 2]),
        Tree { lanes: 1 }
    );
    assert_eq!(Tree { lanes: 8 }.planes_per_workgroup(), 8);
    assert_eq!(squeeze::Strategy::subgroups(&plain), None);
}

#[test]
fn softmax_strategies() {
    use softmax::Strategy::{Rows, WorkgroupPerRow};
    let long = softmax::WORKGROUP_MIN_AXIS;
    assert_eq!(softmax::strategy(&gpu(), 1000), WorkgroupPerRow);
    assert_eq!(softmax::strategy(&gpu(), long), WorkgroupPerRow);
    assert_eq!(softmax::strategy(&gpu(), long - 1), Rows);
    assert_eq!(softmax::strategy(&cpu(), 1000), Rows);
    assert_eq!(softmax::strategy(&cpu(), 10), Rows);
}

#[test]
fn excitation_strategies() {
    use excite::Strategy::{TwoPass, WorkgroupPerImage};
    for p in [gpu(), cpu()] {
        assert_eq!(excite::strategy(&p, 256, 16), TwoPass);
        assert_eq!(excite::strategy(&p, 2048, 128), TwoPass);
        assert_eq!(excite::strategy(&p, 16, 16), TwoPass);
        // The hidden layer does not fit the [N, C] scratch.
        assert_eq!(excite::strategy(&p, 8, 32), WorkgroupPerImage);
    }
}

/// One layer shape of SE-ResNet-50.
#[derive(Clone, Debug, PartialEq)]
enum Layer {
    Conv {
        x: [usize; 4],
        w: [usize; 4],
        p: Conv2dParams,
    },
    /// The SE block's squeeze and excitation on `x`, `r` hidden units.
    Se {
        x: [usize; 4],
        r: usize,
    },
    /// The head's global average pool.
    Pool {
        x: [usize; 4],
    },
    MatMul {
        a: [usize; 2],
        b: [usize; 2],
    },
}

/// SE-ResNet-50's layers at `batch` as the benchmark builds it (`tools/make_fixtures.py`:
/// the stride in the 3x3 convolution, r = 16), each with a name.
fn se_resnet50(batch: usize) -> Vec<(String, Layer)> {
    let conv = |x, co, k, stride, pad| {
        let x: [usize; 4] = x;
        Layer::Conv {
            x,
            w: [co, x[1], k, k],
            p: conv_params(stride, pad, 1),
        }
    };
    let mut layers = vec![("stem 7x7/2".into(), conv([batch, 3, 224, 224], 64, 7, 2, 3))];
    let (mut c, mut hw) = (64, 56);
    for (stage, (width, blocks)) in [(64, 3), (128, 4), (256, 6), (512, 3)]
        .into_iter()
        .enumerate()
    {
        for block in 0..blocks {
            let stride = if stage > 0 && block == 0 { 2 } else { 1 };
            let (out, ohw) = (4 * width, hw / stride);
            let at = format!("stage {} block {}", stage + 1, block + 1);
            layers.push((
                format!("{at} 1x1"),
                conv([batch, c, hw, hw], width, 1, 1, 0),
            ));
            let x3 = [batch, width, hw, hw];
            layers.push((format!("{at} 3x3/{stride}"), conv(x3, width, 3, stride, 1)));
            let x1 = [batch, width, ohw, ohw];
            layers.push((format!("{at} 1x1 expand"), conv(x1, out, 1, 1, 0)));
            let se = Layer::Se {
                x: [batch, out, ohw, ohw],
                r: out / 16,
            };
            layers.push((format!("{at} SE"), se));
            if stride != 1 || c != out {
                let short = conv([batch, c, hw, hw], out, 1, stride, 0);
                layers.push((format!("{at} shortcut 1x1/{stride}"), short));
            }
            (c, hw) = (out, ohw);
        }
    }
    layers.push((
        "head pool".into(),
        Layer::Pool {
            x: [batch, c, 7, 7],
        },
    ));
    let fc = Layer::MatMul {
        a: [batch, c],
        b: [c, 1000],
    };
    layers.push(("fc".into(), fc));
    layers
}

/// What a layer runs on `p`: per dispatch, the strategy as dispatches record it, the
/// workgroups and the invocations per workgroup.
fn runs(p: &AdapterProfile, layer: &Layer) -> Vec<(String, usize, usize)> {
    // `prefix`: the family and, for a convolution, its algorithm.
    let gemm = |prefix: &str, s: matmul::Strategy, m: usize, n: usize, batches: usize| {
        let what = format!("{prefix}{s}");
        (
            what,
            s.tile.workgroups(m, n).1 * batches,
            s.tile.invocations() as usize,
        )
    };
    match layer {
        Layer::Conv { x, w, p: prm } => {
            let s = conv2d::strategy(p, x, w, prm).unwrap();
            let g = conv2d::gemm_strategy(p, s, x, w, prm).unwrap().unwrap();
            let out = prm.output_shape(x, w).unwrap();
            let rows = w[0] / prm.groups;
            let (kind, n, batches) = match s {
                conv2d::Strategy::Gemm1x1(_) => ("gemm-1x1", x[2] * x[3], x[0] * prm.groups),
                conv2d::Strategy::ImplicitGemm(_) => {
                    ("implicit-gemm", out[0] * out[2] * out[3], prm.groups)
                }
                conv2d::Strategy::Depthwise => unreachable!("SE-ResNet-50 has none"),
            };
            vec![gemm(&format!("conv2d/{kind} "), g, rows, n, batches)]
        }
        Layer::Se { x, r } => {
            let [n, c, ..] = *x;
            let mut runs = squeeze_runs(p, *x);
            runs.extend(match excite::strategy(p, c, *r) {
                excite::Strategy::TwoPass => {
                    let layer = |outputs: usize| {
                        let wg = (n * outputs).div_ceil(excite::LAYER_WORKGROUP);
                        ("excite/two-pass".to_string(), wg, excite::LAYER_WORKGROUP)
                    };
                    vec![layer(*r), layer(c)]
                }
                excite::Strategy::WorkgroupPerImage => {
                    vec![("excite/workgroup-per-image".into(), n, excite::WORKGROUP)]
                }
            });
            runs
        }
        Layer::Pool { x } => squeeze_runs(p, *x),
        Layer::MatMul { a, b } => {
            let s = matmul::strategy(p, a, b).unwrap();
            vec![gemm("matmul/", s, a[0], b[1], 1)]
        }
    }
}

fn squeeze_runs(p: &AdapterProfile, x: [usize; 4]) -> Vec<(String, usize, usize)> {
    let s = squeeze::strategy(p, x);
    let wg = (x[0] * x[1]).div_ceil(s.planes_per_workgroup());
    vec![(format!("squeeze/{s}"), wg, squeeze::WORKGROUP)]
}

/// SE-ResNet-50's distinct layer shapes at `batch`, each with its first layer's name
/// and how often it occurs.
fn se_resnet50_shapes(batch: usize) -> Vec<(String, Layer, usize)> {
    let mut shapes: Vec<(String, Layer, usize)> = Vec::new();
    for (name, layer) in se_resnet50(batch) {
        match shapes.iter_mut().find(|(_, l, _)| *l == layer) {
            Some(row) => row.2 += 1,
            None => shapes.push((name, layer, 1)),
        }
    }
    shapes
}

/// Prints each dispatch's strategy, workgroups and invocations per layer shape.
fn print_strategy_table(batch: usize) {
    let shape = |l: &Layer| match l {
        Layer::Conv { x, w, p } => format!("{x:?} * {w:?} /{}", p.stride[0]),
        Layer::Se { x, r } => format!("{x:?} r {r}"),
        Layer::Pool { x } => format!("{x:?}"),
        Layer::MatMul { a, b } => format!("{a:?} x {b:?}"),
    };
    println!("SE-ResNet-50 at batch {batch}: each dispatch's strategy, workgroups x invocations");
    for (class, p) in [("GPU", gpu()), ("CPU", cpu())] {
        println!("\n{class} class ({p:?})");
        println!(
            "  {:<30} {:<42} {:>2}  {:<36} {:>11}",
            "first layer", "shape", "n", "strategy", "wg x inv"
        );
        for (name, layer, count) in &se_resnet50_shapes(batch) {
            for (i, (what, wg, inv)) in runs(&p, layer).into_iter().enumerate() {
                let (name, shape, count) = match i {
                    0 => (name.as_str(), shape(layer), count.to_string()),
                    _ => ("", String::new(), String::new()),
                };
                println!(
                    "  {name:<30} {shape:<42} {count:>2}  {what:<36} {:>11}",
                    format!("{wg} x {inv}")
                );
            }
        }
    }
}

#[test]
fn se_resnet50_strategy_table() {
    let layers = se_resnet50(1);
    assert_eq!(
        layers
            .iter()
            .filter(|(_, l)| matches!(l, Layer::Conv { .. }))
            .count(),
        53
    );
    for batch in [1, 32] {
        print_strategy_table(batch);
    }
    let shapes = se_resnet50_shapes(1);

    // Today's choices, as the issue that sizes kernels for GPUs found them.
    let all = |p: &AdapterProfile| -> Vec<(String, usize, usize)> {
        shapes.iter().flat_map(|(_, l, _)| runs(p, l)).collect()
    };
    let (on_gpu, on_cpu) = (all(&gpu()), all(&cpu()));
    let gemms = |runs: &[(String, usize, usize)], staging: &str| {
        runs.iter()
            .filter(|r| r.0.starts_with("conv2d/") || r.0.starts_with("matmul/"))
            .all(|r| r.0.contains(staging))
    };
    assert!(gemms(&on_gpu, "staged "));
    assert!(gemms(&on_cpu, "direct "));
    let squeezes = |runs: &[(String, usize, usize)], want: &str| {
        runs.iter()
            .filter(|r| r.0.starts_with("squeeze/"))
            .all(|r| r.0 == want)
    };
    assert!(squeezes(&on_gpu, "squeeze/subgroups 2 planes"));
    assert!(squeezes(&on_cpu, "squeeze/tree 1 lane"));
    let last_3x3 = Layer::Conv {
        x: [1, 512, 7, 7],
        w: [512, 512, 3, 3],
        p: conv_params(1, 1, 1),
    };
    let fc = Layer::MatMul {
        a: [1, 2048],
        b: [2048, 1000],
    };
    // The last stage's 3x3 convolutions: 64 workgroups of 32 invocations on a GPU.
    let k3 = runs(&gpu(), &last_3x3);
    assert_eq!(k3, [("conv2d/implicit-gemm staged 8x64".into(), 64, 32)]);
    // The classifier: 32 workgroups of 8 invocations on either class.
    assert_eq!(runs(&gpu(), &fc), [("matmul/staged 4x32".into(), 32, 8)]);
    assert_eq!(runs(&cpu(), &fc), [("matmul/direct 4x32".into(), 32, 8)]);
}

#[test]
fn the_device_class_can_be_forced_both_ways() {
    require!(gpu);
    for class in [DeviceClass::Gpu, DeviceClass::Cpu] {
        let options = se_runtime::RuntimeOptions {
            device_class: Some(class),
            ..se_runtime::RuntimeOptions::from_env().unwrap()
        };
        let rt = pollster::block_on(se_runtime::Runtime::with_options(options)).unwrap();
        assert_eq!(rt.profile().class, class);
        let want = match class {
            DeviceClass::Gpu => Staging::Workgroup,
            DeviceClass::Cpu => Staging::Direct,
        };
        assert_eq!(matmul::staging(rt.profile()), want);
    }
    for (name, class) in [("gpu", DeviceClass::Gpu), ("CPU", DeviceClass::Cpu)] {
        assert_eq!(se_runtime::device::parse_device_class(name).unwrap(), class);
    }
    let e = se_runtime::device::parse_device_class("tpu").unwrap_err();
    assert!(e.to_string().contains("SE_RUNTIME_DEVICE_CLASS"), "{e}");
}

#[test]
fn webgpu_caps_give_the_specification_defaults_or_less() {
    let caps = LimitCaps::parse("webgpu, max_compute_workgroup_storage_size=8192").unwrap();
    assert!(caps.webgpu);
    let spec = wgpu::Limits::defaults();
    // An adapter better than the specification everywhere is lowered to it.
    let big = wgpu::Limits {
        max_compute_workgroup_storage_size: 65536,
        max_compute_invocations_per_workgroup: 1024,
        max_storage_buffers_per_shader_stage: 64,
        max_storage_buffer_binding_size: 4 << 30,
        ..spec.clone()
    };
    let got = caps.apply(big);
    assert_eq!(got.max_compute_workgroup_storage_size, 8192);
    assert_eq!(
        got.max_compute_invocations_per_workgroup,
        spec.max_compute_invocations_per_workgroup
    );
    assert_eq!(
        got.max_storage_buffers_per_shader_stage,
        spec.max_storage_buffers_per_shader_stage
    );
    assert_eq!(
        got.max_storage_buffer_binding_size,
        spec.max_storage_buffer_binding_size
    );
    // One worse than the specification keeps its own value: caps never raise a limit.
    let small = wgpu::Limits {
        max_storage_buffers_per_shader_stage: 4,
        ..spec.clone()
    };
    assert_eq!(caps.apply(small).max_storage_buffers_per_shader_stage, 4);
    // A cap on invocations bounds each workgroup dimension too.
    let caps = LimitCaps::parse("max_compute_invocations_per_workgroup=64").unwrap();
    let got = caps.apply(spec);
    assert_eq!(got.max_compute_invocations_per_workgroup, 64);
    assert_eq!(got.max_compute_workgroup_size_x, 64);
    for bad in [
        "webgpu=1",
        "max_storage_buffers_per_shader_stage=9999999999",
    ] {
        let e = LimitCaps::parse(bad).unwrap_err();
        assert!(e.to_string().contains("SE_RUNTIME_LIMITS"), "{bad}: {e}");
    }
}

#[test]
fn runtime_under_webgpu_limits_reports_them() {
    let rt = require!(gpu, limits = LimitCaps::parse("webgpu").unwrap());
    let spec = wgpu::Limits::defaults();
    let l = rt.limits();
    assert!(l.max_compute_workgroup_storage_size <= spec.max_compute_workgroup_storage_size);
    assert!(l.max_storage_buffer_binding_size <= spec.max_storage_buffer_binding_size);
    assert_eq!(
        rt.profile().limits,
        se_runtime::device::TilingLimits::from(l)
    );
}
