//! conv2d against its CPU twin: a table of awkward named cases, each run with the
//! algorithm `conv2d` picks and with every other algorithm that applies, random
//! shapes, batch-norm folding, and typed errors for bad arguments.

mod common;

use proptest::prelude::*;
use se_runtime::device::{AdapterProfile, DeviceClass, TilingLimits};
use se_runtime::kernels::conv2d::{self, conv2d, conv2d_with};
use se_runtime::kernels::matmul::{Staging, staging};
use se_runtime::ops::Conv2dParams;
use se_runtime::passes::batch_norm::fold_batch_norm;
use se_runtime::tensor::HostTensor;
use se_runtime::{Activation, Error, cpu};

#[derive(Clone, Debug)]
struct Case {
    name: &'static str,
    x: [usize; 4],
    co: usize,
    kernel: [usize; 2],
    p: Conv2dParams,
    bias: bool,
    residual: bool,
    act: Activation,
}

fn host(shape: &[usize], seed: u64, scale: f32) -> HostTensor {
    HostTensor::new(shape, common::random(seed, shape.iter().product(), scale)).unwrap()
}

/// The strategy `conv2d` picks for a case, among the forced ones below.
const AUTO: Option<conv2d::Strategy> = None;

/// Every algorithm and staging that applies to `c`.
fn applicable(c: &Case) -> Vec<Option<conv2d::Strategy>> {
    use conv2d::Strategy::{Depthwise, Gemm1x1, ImplicitGemm};
    let mut algos = vec![
        AUTO,
        Some(ImplicitGemm(Staging::Workgroup)),
        Some(ImplicitGemm(Staging::Direct)),
    ];
    if c.kernel == [1, 1] && c.p.stride == [1, 1] && c.p.padding == [0; 4] {
        algos.push(Some(Gemm1x1(Staging::Workgroup)));
        algos.push(Some(Gemm1x1(Staging::Direct)));
    }
    if c.x[1] == c.p.groups {
        algos.push(Some(Depthwise));
    }
    algos
}

/// Runs `c` with each of `algos` and compares each result with the CPU twin.
/// Returns the number of comparisons made.
fn check_with(c: &Case, algos: &[Option<conv2d::Strategy>], seed: u64) -> usize {
    let rt = common::gpu();
    let w_shape = [c.co, c.x[1] / c.p.groups, c.kernel[0], c.kernel[1]];
    let fan_in = w_shape[1] * w_shape[2] * w_shape[3];
    let x = host(&c.x, seed, 1.0);
    let w = host(&w_shape, seed + 1, 1.0 / (fan_in as f32).sqrt());
    let bias = c.bias.then(|| host(&[c.co], seed + 2, 1.0));
    let out_shape = c.p.output_shape(&c.x, &w_shape).unwrap();
    let residual = c.residual.then(|| host(&out_shape, seed + 3, 1.0));
    let want = cpu::conv2d::conv2d(&x, &w, bias.as_ref(), residual.as_ref(), &c.p, c.act).unwrap();
    let up = |t: &HostTensor| rt.upload_host(t).unwrap();
    let (xt, wt) = (up(&x), up(&w));
    let (bt, rest) = (bias.as_ref().map(up), residual.as_ref().map(up));
    let auto = conv2d::strategy(rt.profile(), &c.x, &w_shape, &c.p).unwrap();
    for &algo in algos {
        let algo = algo.unwrap_or(auto);
        let y = rt.tensor(&out_shape).unwrap();
        let d = conv2d_with(
            rt,
            algo,
            &xt,
            &wt,
            bt.as_ref(),
            rest.as_ref(),
            &c.p,
            c.act,
            &y,
        )
        .unwrap_or_else(|e| panic!("{} {algo:?}: {e}", c.name));
        rt.run(&[d]).unwrap();
        let what = format!("{} ({algo:?}, auto = {auto:?}) {c:?}", c.name);
        common::assert_close(&what, &common::read(rt, &y), &want.data);
    }
    algos.len()
}

fn check(c: &Case, seed: u64) -> usize {
    check_with(c, &applicable(c), seed)
}

fn p(stride: usize, pad: usize, dilation: usize, groups: usize) -> Conv2dParams {
    Conv2dParams {
        stride: [stride; 2],
        padding: [pad; 4],
        dilation: [dilation; 2],
        groups,
    }
}

fn cases() -> Vec<Case> {
    use Activation as A;
    let hs = A::HardSigmoid {
        alpha: 0.2,
        beta: 0.5,
    };
    let case = |name, x, co, k: usize, p, bias, residual, act| Case {
        name,
        x,
        co,
        kernel: [k, k],
        p,
        bias,
        residual,
        act,
    };
    let mut cases = vec![
        case(
            "1x1 Ci 3 Co 5",
            [1, 3, 5, 5],
            5,
            1,
            p(1, 0, 1, 1),
            false,
            false,
            A::Identity,
        ),
        case(
            "1x1 odd spatial 7x7",
            [2, 5, 7, 7],
            3,
            1,
            p(1, 0, 1, 1),
            true,
            true,
            A::Relu,
        ),
        case(
            "1x1 vec4 spatial 8x8",
            [2, 12, 8, 8],
            20,
            1,
            p(1, 0, 1, 1),
            true,
            true,
            A::RELU6,
        ),
        case(
            "1x1 256->64",
            [1, 256, 8, 8],
            64,
            1,
            p(1, 0, 1, 1),
            true,
            false,
            A::Relu,
        ),
        case(
            "1x1 64->70 at 9x9",
            [1, 64, 9, 9],
            70,
            1,
            p(1, 0, 1, 1),
            false,
            true,
            A::Silu,
        ),
        case(
            "1x1 C=2048 at 1x1",
            [1, 2048, 1, 1],
            16,
            1,
            p(1, 0, 1, 1),
            true,
            false,
            A::Relu,
        ),
        case(
            "1x1 C=2048 at 1x1 batch 3",
            [3, 2048, 1, 1],
            10,
            1,
            p(1, 0, 1, 1),
            true,
            false,
            hs,
        ),
        case(
            "1x1 stride 2",
            [1, 10, 9, 9],
            6,
            1,
            p(2, 0, 1, 1),
            true,
            false,
            A::Identity,
        ),
        case(
            "1x1 padded",
            [1, 4, 5, 5],
            4,
            1,
            p(1, 1, 1, 1),
            true,
            false,
            A::Identity,
        ),
        case(
            "1x1 groups 4",
            [1, 8, 6, 6],
            12,
            1,
            p(1, 0, 1, 4),
            true,
            true,
            A::Identity,
        ),
        case(
            "C=1 3x3 pad 1",
            [1, 1, 7, 7],
            4,
            3,
            p(1, 1, 1, 1),
            true,
            false,
            A::Tanh,
        ),
        case(
            "C=1 Co=1",
            [2, 1, 5, 6],
            1,
            3,
            p(1, 0, 1, 1),
            false,
            false,
            A::Identity,
        ),
        case(
            "3x3 16->24 pad 1",
            [1, 16, 9, 9],
            24,
            3,
            p(1, 1, 1, 1),
            true,
            true,
            A::Relu,
        ),
        case(
            "3x3 Co 70 (M remainder)",
            [1, 9, 6, 6],
            70,
            3,
            p(1, 1, 1, 1),
            true,
            false,
            A::HardSwish,
        ),
        case(
            "3x3 Co 130",
            [1, 4, 6, 6],
            130,
            3,
            p(1, 0, 1, 1),
            false,
            false,
            A::Sigmoid,
        ),
        case(
            "3x3 Co 8 (small tiles)",
            [1, 5, 20, 21],
            8,
            3,
            p(1, 1, 1, 1),
            true,
            false,
            A::Relu,
        ),
        case(
            "3x3 stride 2 pad 1",
            [2, 8, 15, 15],
            12,
            3,
            p(2, 1, 1, 1),
            true,
            false,
            A::Relu,
        ),
        case(
            "3x3 on 1x1 input",
            [1, 8, 1, 1],
            8,
            3,
            p(1, 1, 1, 1),
            true,
            true,
            A::Identity,
        ),
        case(
            "3x3 on 2x2 pad 1",
            [1, 2, 2, 2],
            3,
            3,
            p(1, 1, 1, 1),
            false,
            false,
            A::Identity,
        ),
        case(
            "5x5 pad 2",
            [1, 6, 11, 11],
            10,
            5,
            p(1, 2, 1, 1),
            true,
            false,
            A::Silu,
        ),
        case(
            "5x5 on 3x3 pad 2",
            [1, 3, 3, 3],
            5,
            5,
            p(1, 2, 1, 1),
            false,
            true,
            A::Identity,
        ),
        case(
            "7x7 pad 3",
            [1, 3, 9, 10],
            6,
            7,
            p(1, 3, 1, 1),
            true,
            false,
            A::Identity,
        ),
        case(
            "7x7/2 pad 3 stem",
            [1, 3, 32, 32],
            16,
            7,
            p(2, 3, 1, 1),
            true,
            false,
            A::Relu,
        ),
        case(
            "dilation 2",
            [1, 4, 12, 12],
            8,
            3,
            p(1, 2, 2, 1),
            true,
            false,
            A::Relu,
        ),
        case(
            "dilation 2 stride 2",
            [1, 5, 13, 11],
            7,
            3,
            p(2, 1, 2, 1),
            false,
            false,
            A::Tanh,
        ),
        case(
            "batch 3",
            [3, 7, 6, 5],
            9,
            3,
            p(1, 1, 1, 1),
            true,
            true,
            A::Relu,
        ),
        case(
            "groups 2",
            [1, 8, 7, 7],
            12,
            3,
            p(1, 1, 1, 2),
            true,
            false,
            A::Identity,
        ),
        case(
            "groups 4 ResNeXt",
            [2, 16, 9, 9],
            16,
            3,
            p(1, 1, 1, 4),
            true,
            true,
            A::Relu,
        ),
        case(
            "groups 32 ResNeXt",
            [1, 64, 8, 8],
            64,
            3,
            p(1, 1, 1, 32),
            true,
            false,
            A::Relu,
        ),
        case(
            "groups 32 stride 2",
            [1, 128, 9, 9],
            128,
            3,
            p(2, 1, 1, 32),
            false,
            false,
            A::Relu,
        ),
        case(
            "depthwise",
            [1, 12, 10, 10],
            12,
            3,
            p(1, 1, 1, 12),
            true,
            false,
            A::RELU6,
        ),
        case(
            "depthwise multiplier 2",
            [1, 6, 9, 9],
            12,
            3,
            p(2, 1, 1, 6),
            true,
            true,
            A::HardSwish,
        ),
        case(
            "depthwise 5x5 stride 2",
            [2, 5, 11, 13],
            5,
            5,
            p(2, 2, 1, 5),
            false,
            false,
            hs,
        ),
        case(
            "depthwise dilation 2",
            [1, 7, 9, 6],
            7,
            3,
            p(1, 2, 2, 7),
            true,
            false,
            A::Identity,
        ),
        case(
            "depthwise multiplier 8",
            [1, 3, 7, 7],
            24,
            3,
            p(1, 1, 1, 3),
            true,
            false,
            A::Relu,
        ),
    ];
    cases.push(Case {
        name: "asymmetric padding",
        p: Conv2dParams {
            padding: [0, 1, 2, 0],
            ..Default::default()
        },
        ..case(
            "",
            [1, 5, 8, 9],
            6,
            3,
            p(1, 0, 1, 1),
            true,
            false,
            A::Identity,
        )
    });
    cases.push(Case {
        name: "3x2 kernel, mixed stride and padding",
        kernel: [3, 2],
        p: Conv2dParams {
            stride: [2, 1],
            padding: [2, 0, 1, 3],
            dilation: [1, 2],
            groups: 1,
        },
        ..case("", [2, 3, 10, 7], 5, 1, p(1, 0, 1, 1), true, true, A::Relu)
    });
    cases.push(Case {
        name: "3x1 kernel, tall input",
        kernel: [3, 1],
        p: Conv2dParams {
            padding: [1, 0, 1, 0],
            ..Default::default()
        },
        ..case(
            "",
            [1, 3, 10, 4],
            5,
            1,
            p(1, 0, 1, 1),
            false,
            false,
            A::Sigmoid,
        )
    });
    cases.push(Case {
        name: "depthwise asymmetric padding",
        p: Conv2dParams {
            padding: [1, 0, 0, 2],
            groups: 4,
            ..Default::default()
        },
        ..case(
            "",
            [1, 4, 6, 7],
            4,
            3,
            p(1, 0, 1, 1),
            true,
            false,
            A::Identity,
        )
    });
    cases
}

#[test]
fn conv2d_named_cases() {
    require!(gpu);
    let mut compared = 0;
    for (i, c) in cases().iter().enumerate() {
        compared += check(c, 1000 + i as u64);
    }
    eprintln!("conv2d_named_cases: {compared} GPU-vs-CPU comparisons");
    assert!(compared >= 80, "only {compared} comparisons");
}

#[test]
fn conv2d_every_activation() {
    require!(gpu);
    for (i, act) in Activation::all().into_iter().enumerate() {
        let c = Case {
            name: "activation sweep",
            x: [1, 6, 7, 7],
            co: 10,
            kernel: [3, 3],
            p: p(1, 1, 1, 1),
            bias: true,
            residual: i % 2 == 0,
            act,
        };
        check(&c, 2000 + i as u64);
    }
}

#[test]
fn auto_picks_the_specialised_kernels() {
    let profile = AdapterProfile {
        class: DeviceClass::Gpu,
        subgroups: None,
        f16: false,
        limits: TilingLimits::from(&wgpu::Limits::default()),
        cpu_threads: 4,
    };
    let conv = |x: [usize; 4], w: [usize; 4], p: Conv2dParams| {
        conv2d::strategy(&profile, &x, &w, &p).unwrap()
    };
    let auto = staging(&profile);
    let d = Conv2dParams::default();
    assert_eq!(
        conv([1, 64, 56, 56], [256, 64, 1, 1], d),
        conv2d::Strategy::Gemm1x1(auto)
    );
    assert_eq!(
        conv([1, 64, 56, 56], [64, 64, 3, 3], p(1, 1, 1, 1)),
        conv2d::Strategy::ImplicitGemm(auto)
    );
    assert_eq!(
        conv([1, 96, 56, 56], [96, 1, 3, 3], p(1, 1, 1, 96)),
        conv2d::Strategy::Depthwise
    );
    assert_eq!(
        conv([1, 2048, 1, 1], [16, 2048, 1, 1], d),
        conv2d::Strategy::ImplicitGemm(auto)
    );
}

#[test]
fn batch_norm_folds_into_conv() {
    let rt = require!(gpu);
    let (ci, co) = (6, 10);
    let prm = p(1, 1, 1, 1);
    let x = host(&[2, ci, 7, 8], 1, 1.0);
    let w = host(&[co, ci, 3, 3], 2, 1.0 / 54f32.sqrt());
    let bias = host(&[co], 3, 1.0);
    let gamma = host(&[co], 4, 1.0);
    let beta = host(&[co], 5, 1.0);
    let mean = host(&[co], 6, 0.5);
    let mut var = host(&[co], 7, 0.5);
    var.data.iter_mut().for_each(|v| *v += 0.6);
    let eps = 1e-5;
    let id = Activation::Identity;

    let conv = cpu::conv2d::conv2d(&x, &w, Some(&bias), None, &prm, id).unwrap();
    let want = cpu::conv2d::batch_norm(&conv, &gamma, &beta, &mean, &var, eps).unwrap();
    let (fw, fb) = fold_batch_norm(&w, Some(&bias), &gamma, &beta, &mean, &var, eps).unwrap();
    let (xt, wt, bt) = (
        rt.upload_host(&x).unwrap(),
        rt.upload_host(&fw).unwrap(),
        rt.upload_host(&fb).unwrap(),
    );
    let y = rt.tensor(&want.shape).unwrap();
    rt.run(&[conv2d(rt, &xt, &wt, Some(&bt), None, &prm, id, &y).unwrap()])
        .unwrap();
    common::assert_close(
        "folded conv vs conv + batch_norm",
        &common::read(rt, &y),
        &want.data,
    );

    // Without a conv bias, and with the CPU twin on both sides.
    let conv = cpu::conv2d::conv2d(&x, &w, None, None, &prm, id).unwrap();
    let want = cpu::conv2d::batch_norm(&conv, &gamma, &beta, &mean, &var, eps).unwrap();
    let (fw, fb) = fold_batch_norm(&w, None, &gamma, &beta, &mean, &var, eps).unwrap();
    let got = cpu::conv2d::conv2d(&x, &fw, Some(&fb), None, &prm, id).unwrap();
    common::assert_close("folded CPU conv", &got.data, &want.data);

    assert!(fold_batch_norm(&w, None, &host(&[3], 0, 1.0), &beta, &mean, &var, eps).is_err());
    assert!(
        cpu::conv2d::batch_norm(&conv, &gamma, &beta, &mean, &host(&[4], 0, 1.0), eps).is_err()
    );
}

#[test]
fn conv2d_rejects_bad_arguments() {
    let rt = require!(gpu);
    let t = |s: &[usize]| rt.tensor(s).unwrap();
    let id = Activation::Identity;
    let d = Conv2dParams::default();
    let (x, w, y) = (t(&[1, 4, 5, 5]), t(&[6, 4, 3, 3]), t(&[1, 6, 3, 3]));
    let run = |x: &_, w: &_, b: Option<&_>, r: Option<&_>, p: Conv2dParams, y: &_| {
        conv2d(rt, x, w, b, r, &p, id, y).err()
    };
    let forced = |s| conv2d_with(rt, s, &x, &w, None, None, &d, id, &y).err();
    let cases = [
        ("weights' Ci", run(&x, &t(&[6, 3, 3, 3]), None, None, d, &y)),
        (
            "output shape",
            run(&x, &w, None, None, d, &t(&[1, 6, 5, 5])),
        ),
        ("bias shape", run(&x, &w, Some(&t(&[5])), None, d, &y)),
        (
            "residual shape",
            run(&x, &w, None, Some(&t(&[1, 6, 3, 4])), d, &y),
        ),
        ("input rank", run(&t(&[4, 5, 5]), &w, None, None, d, &y)),
        (
            "groups 3 of 4",
            run(&x, &t(&[6, 1, 3, 3]), None, None, p(1, 0, 1, 3), &y),
        ),
        (
            "groups 4 of Co 6",
            run(&x, &t(&[6, 1, 3, 3]), None, None, p(1, 0, 1, 4), &y),
        ),
        ("groups 0", run(&x, &w, None, None, p(1, 0, 1, 0), &y)),
        ("stride 0", run(&x, &w, None, None, p(0, 0, 1, 1), &y)),
        ("dilation 0", run(&x, &w, None, None, p(1, 0, 0, 1), &y)),
        (
            "kernel too big",
            run(&x, &t(&[6, 4, 7, 7]), None, None, d, &y),
        ),
        (
            "padding overflows",
            run(&x, &w, None, None, p(1, usize::MAX / 2, 1, 1), &y),
        ),
        (
            "dilation overflows",
            run(&x, &w, None, None, p(1, 0, usize::MAX, 1), &y),
        ),
        (
            "zero-sized kernel",
            run(&x, &t(&[6, 4, 0, 3]), None, None, d, &y),
        ),
        (
            "output aliases input",
            run(&x, &t(&[4, 4, 1, 1]), None, None, d, &x),
        ),
        (
            "1x1 GEMM forced on 3x3",
            forced(conv2d::Strategy::Gemm1x1(staging(rt.profile()))),
        ),
        (
            "depthwise forced on dense",
            forced(conv2d::Strategy::Depthwise),
        ),
    ];
    for (name, err) in cases {
        let err = err.unwrap_or_else(|| panic!("{name}: accepted"));
        assert!(
            matches!(err, Error::Shape { .. } | Error::InvalidArgument { .. }),
            "{name}: {err}"
        );
    }
    let h = |s: &[usize]| HostTensor::zeros(s).unwrap();
    let cpu_conv = |w: &HostTensor, p: Conv2dParams| {
        cpu::conv2d::conv2d(&h(&[1, 4, 5, 5]), w, None, None, &p, id)
    };
    assert!(cpu_conv(&h(&[6, 4, 3, 3]), p(0, 0, 1, 1)).is_err());
    assert!(cpu_conv(&h(&[6, 1, 3, 3]), p(1, 0, 1, 3)).is_err());
    assert!(cpu_conv(&h(&[6, 3, 3, 3]), d).is_err());
}

fn random_case() -> impl Strategy<Value = Case> {
    (
        (1usize..3, 1usize..4, 1usize..4, 1usize..13),
        (1usize..12, 1usize..12, 1usize..5, 1usize..5),
        (1usize..3, 1usize..3, 1usize..3, 1usize..3),
        (
            prop::array::uniform4(0usize..3),
            any::<bool>(),
            any::<bool>(),
            0usize..9,
        ),
    )
        .prop_filter_map(
            "kernel must fit the padded input",
            |((n, g, cg, mg), (h, w, kh, kw), (sh, sw, dh, dw), (padding, bias, res, act))| {
                let c = Case {
                    name: "random",
                    x: [n, g * cg, h, w],
                    co: g * mg,
                    kernel: [kh, kw],
                    p: Conv2dParams {
                        stride: [sh, sw],
                        padding,
                        dilation: [dh, dw],
                        groups: g,
                    },
                    bias,
                    residual: res,
                    act: Activation::all()[act],
                };
                let w = [c.co, cg, kh, kw];
                c.p.output_shape(&c.x, &w).is_ok().then_some(c)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn conv2d_random(c in random_case(), seed in 0u64..1000) {
        require!(gpu);
        // The automatic choice plus the implicit GEMM with both stagings; every
        // pipeline variant costs a shader compile, so not every algorithm here.
        let algos = [
            AUTO,
            Some(conv2d::Strategy::ImplicitGemm(Staging::Workgroup)),
            Some(conv2d::Strategy::ImplicitGemm(Staging::Direct)),
        ];
        check_with(&c, &algos, seed);
    }
}
