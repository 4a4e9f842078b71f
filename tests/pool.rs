//! max_pool2d and avg_pool2d against their CPU twins, plus hand-worked ONNX cases.

mod common;

use proptest::prelude::*;
use se_runtime::kernels::pool::{avg_pool2d, max_pool2d};
use se_runtime::ops::Pool2dParams;
use se_runtime::tensor::HostTensor;
use se_runtime::{Error, cpu};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Max,
    Avg,
}

fn params(k: usize, s: usize, pad: usize) -> Pool2dParams {
    Pool2dParams {
        kernel: [k, k],
        stride: [s, s],
        padding: [pad; 4],
        ..Default::default()
    }
}

fn cpu_pool(kind: Kind, x: &HostTensor, p: &Pool2dParams) -> se_runtime::Result<HostTensor> {
    match kind {
        Kind::Max => cpu::pool::max_pool2d(x, p),
        Kind::Avg => cpu::pool::avg_pool2d(x, p),
    }
}

/// Runs the GPU kernel on `x` and returns its output.
fn gpu_pool(kind: Kind, x: &HostTensor, p: &Pool2dParams) -> Vec<f32> {
    let rt = common::gpu();
    let shape = p.output_shape(&x.shape).unwrap();
    let (xt, yt) = (rt.upload_host(x).unwrap(), rt.tensor(&shape).unwrap());
    let d = match kind {
        Kind::Max => max_pool2d(rt, &xt, p, &yt),
        Kind::Avg => avg_pool2d(rt, &xt, p, &yt),
    };
    rt.run(&[d.unwrap()]).unwrap();
    common::read(rt, &yt)
}

fn check(kind: Kind, shape: &[usize], p: &Pool2dParams, seed: u64) {
    let x = HostTensor::new(shape, common::random(seed, shape.iter().product(), 3.0)).unwrap();
    let want = cpu_pool(kind, &x, p).unwrap();
    let got = gpu_pool(kind, &x, p);
    common::assert_close(&format!("{kind:?} {shape:?} {p:?}"), &got, &want.data);
}

fn check_both(shape: &[usize], p: &Pool2dParams, seed: u64) {
    check(Kind::Max, shape, p, seed);
    check(Kind::Avg, shape, p, seed + 1);
}

#[test]
fn resnet_stem_max_3x3_stride2_on_112() {
    require!(gpu);
    check(Kind::Max, &[1, 3, 112, 112], &params(3, 2, 1), 1);
}

#[test]
fn global_like_avg_7x7() {
    require!(gpu);
    let p = params(7, 1, 0);
    check(Kind::Avg, &[2, 5, 7, 7], &p, 2);
    check(Kind::Avg, &[1, 2048, 7, 7], &p, 3);
    check(Kind::Max, &[2, 5, 7, 7], &p, 4);
}

#[test]
fn odd_sizes_stride2_ceil_on_and_off() {
    require!(gpu);
    for (i, shape) in [[1, 3, 13, 11], [2, 1, 9, 9], [1, 5, 6, 7], [3, 2, 5, 4]]
        .iter()
        .enumerate()
    {
        for ceil_mode in [false, true] {
            let p = Pool2dParams {
                ceil_mode,
                ..params(3, 2, 0)
            };
            check_both(shape, &p, 10 + i as u64);
            let p = Pool2dParams {
                ceil_mode,
                ..params(2, 2, 0)
            };
            check_both(shape, &p, 20 + i as u64);
        }
    }
}

#[test]
fn one_by_one_spatial() {
    require!(gpu);
    check_both(&[2, 3, 1, 1], &params(1, 1, 0), 30);
    // A 3x3 window over a 1x1 input with padding 1: one real element per window.
    for count_include_pad in [false, true] {
        let p = Pool2dParams {
            count_include_pad,
            ..params(3, 1, 1)
        };
        check_both(&[2, 3, 1, 1], &p, 31);
    }
}

#[test]
fn count_include_pad_on_and_off_with_padding() {
    require!(gpu);
    for count_include_pad in [false, true] {
        for (k, s, pad) in [(3, 1, 1), (3, 2, 1), (5, 2, 2), (2, 2, 1)] {
            let p = Pool2dParams {
                count_include_pad,
                ..params(k, s, pad)
            };
            check(Kind::Avg, &[2, 3, 8, 9], &p, 40 + k as u64);
        }
    }
}

#[test]
fn asymmetric_padding_and_rectangular_windows() {
    require!(gpu);
    for (i, padding) in [[0, 1, 2, 0], [1, 0, 0, 2], [2, 1, 0, 1], [0, 0, 1, 1]]
        .into_iter()
        .enumerate()
    {
        for count_include_pad in [false, true] {
            for ceil_mode in [false, true] {
                let p = Pool2dParams {
                    kernel: [3, 3],
                    stride: [2, 1],
                    padding,
                    ceil_mode,
                    count_include_pad,
                    ..Default::default()
                };
                check_both(&[1, 3, 7, 6], &p, 50 + i as u64);
            }
        }
    }
}

#[test]
fn dilation_with_padding_and_ceil_mode() {
    require!(gpu);
    for (dilation, ceil_mode, count_include_pad) in [
        ([2, 2], false, false),
        ([2, 3], true, false),
        ([3, 2], true, true),
        ([1, 2], false, true),
    ] {
        let p = Pool2dParams {
            kernel: [3, 3],
            stride: [2, 2],
            padding: [1, 2, 2, 1],
            dilation,
            ceil_mode,
            count_include_pad,
        };
        check_both(&[2, 3, 11, 10], &p, 60 + dilation[1] as u64);
    }
}

#[test]
fn large_channel_count_and_batch() {
    require!(gpu);
    check_both(&[1, 2048, 2, 2], &params(2, 2, 0), 70);
    check_both(&[4, 7, 6, 6], &params(3, 3, 0), 71);
}

#[test]
fn more_workgroups_than_one_grid_dimension_holds() {
    require!(gpu);
    // 4100 x 4100 outputs need 65,664 workgroups of 256: over the 65,535 per dimension.
    check(Kind::Max, &[1, 1, 4100, 4100], &params(1, 1, 0), 80);
}

fn row(data: &[f32]) -> HostTensor {
    HostTensor::new(&[1, 1, 1, data.len()], data.to_vec()).unwrap()
}

/// Worked by hand from the ONNX definitions; ONNX Runtime 1.31 gives the same numbers.
#[test]
fn onnx_semantics_worked_examples() {
    require!(gpu);
    let x = row(&[1.0, 2.0, 3.0, 4.0, 5.0]);
    let p = |k, s, pad, ceil_mode, count_include_pad| Pool2dParams {
        kernel: [1, k],
        stride: [1, s],
        padding: [0, pad, 0, pad],
        ceil_mode,
        count_include_pad,
        ..Default::default()
    };
    let cases: &[(Kind, Pool2dParams, &[f32])] = &[
        // ceil_mode keeps the partial last window [5]; pads never enter the average.
        (Kind::Avg, p(2, 2, 0, true, false), &[1.5, 3.5, 5.0]),
        (Kind::Avg, p(2, 2, 0, true, true), &[1.5, 3.5, 5.0]),
        (Kind::Avg, p(2, 2, 0, false, false), &[1.5, 3.5]),
        // Windows [pad,1,2] [2,3,4] [4,5,pad]: the pad counts only with count_include_pad.
        (Kind::Avg, p(3, 2, 1, true, true), &[1.0, 3.0, 3.0]),
        (Kind::Avg, p(3, 2, 1, true, false), &[1.5, 3.0, 4.5]),
        (Kind::Max, p(3, 2, 1, false, false), &[2.0, 4.0, 5.0]),
    ];
    for (kind, p, want) in cases {
        let got = cpu_pool(*kind, &x, p).unwrap();
        assert_eq!(got.data, *want, "cpu {kind:?} {p:?}");
        let gpu = gpu_pool(*kind, &x, p);
        assert_eq!(gpu, *want, "gpu {kind:?} {p:?}");
    }
    // W=8, kernel 2, stride 4, ceil_mode: the third window would start at 8, inside
    // the (empty) end padding, so it is dropped: 2 outputs, not 3.
    let x = row(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    let p8 = p(2, 4, 0, true, false);
    assert_eq!(p8.output_shape(&x.shape).unwrap(), [1, 1, 1, 2]);
    assert_eq!(cpu_pool(Kind::Avg, &x, &p8).unwrap().data, [1.5, 5.5]);
    // W=6 + pads 1/1, kernel 4, stride 4, ceil: the last window [4,5,6,pad] fits in the
    // padded input, so with count_include_pad it divides by 4.
    let x = row(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let p6 = p(4, 4, 1, true, true);
    assert_eq!(cpu_pool(Kind::Avg, &x, &p6).unwrap().data, [1.5, 3.75]);
    // Without padding, the tail taps past the input are outside the padded input: /2.
    let p6 = p(4, 4, 0, true, true);
    assert_eq!(cpu_pool(Kind::Avg, &x, &p6).unwrap().data, [2.5, 5.5]);
    // Max ignores padding even when every real value is negative.
    let x = row(&[-3.0, -1.0, -2.0]);
    assert_eq!(
        cpu_pool(Kind::Max, &x, &p(3, 1, 1, false, false))
            .unwrap()
            .data,
        [-1.0, -1.0, -1.0]
    );
}

#[test]
fn max_pool_keeps_negative_infinity() {
    require!(gpu);
    let x = row(&[f32::NEG_INFINITY, f32::NEG_INFINITY, 1.0]);
    let p = Pool2dParams {
        kernel: [1, 2],
        ..Default::default()
    };
    let want = [f32::NEG_INFINITY, 1.0];
    assert_eq!(cpu::pool::max_pool2d(&x, &p).unwrap().data, want);
    let gpu = gpu_pool(Kind::Max, &x, &p);
    assert_eq!(gpu, want);
}

fn invalid(p: &Pool2dParams, shape: &[usize]) -> String {
    match p.output_shape(shape) {
        Err(e @ Error::InvalidArgument { .. }) | Err(e @ Error::Shape { .. }) => e.to_string(),
        other => panic!("{p:?} on {shape:?}: expected a typed error, got {other:?}"),
    }
}

#[test]
fn bad_parameters_give_typed_errors() {
    let x = [1, 2, 5, 5];
    let zero_kernel = Pool2dParams {
        kernel: [0, 3],
        ..Default::default()
    };
    assert!(invalid(&zero_kernel, &x).contains("kernel"));
    let zero_stride = Pool2dParams {
        stride: [1, 0],
        ..params(2, 1, 0)
    };
    assert!(invalid(&zero_stride, &x).contains("stride"));
    let zero_dilation = Pool2dParams {
        dilation: [0, 1],
        ..params(2, 1, 0)
    };
    assert!(invalid(&zero_dilation, &x).contains("dilation"));
    assert!(invalid(&params(7, 1, 0), &x).contains("more than the padded input"));
    assert!(invalid(&params(8, 1, 1), &x).contains("more than the padded input"));
    // Padding 3 with a 3-wide window: the first window is all padding.
    assert!(invalid(&params(3, 1, 3), &x).contains("padding only"));
    // Dilation can skip every real element: taps at -1 and 1 of a 1-wide input.
    let skip = Pool2dParams {
        kernel: [1, 2],
        dilation: [1, 2],
        padding: [0, 1, 0, 1],
        ..Default::default()
    };
    assert!(invalid(&skip, &[1, 1, 1, 1]).contains("padding only"));
    assert!(invalid(&params(1, 1, 0), &[2, 5, 5]).contains("[N, C, H, W]"));
    let huge = Pool2dParams {
        kernel: [2, usize::MAX],
        ..Default::default()
    };
    invalid(&huge, &x);
    // The CPU twin reports the same errors.
    let t = HostTensor::zeros(&x).unwrap();
    assert!(cpu::pool::avg_pool2d(&t, &zero_stride).is_err());
}

#[test]
fn wrong_output_shape_is_rejected() {
    let rt = require!(gpu);
    let x = rt.tensor(&[1, 2, 6, 6]).unwrap();
    let y = rt.tensor(&[1, 2, 3, 2]).unwrap();
    for r in [
        max_pool2d(rt, &x, &params(2, 2, 0), &y),
        avg_pool2d(rt, &x, &params(2, 2, 0), &y),
    ] {
        assert!(matches!(r, Err(Error::Shape { .. })), "{:?}", r.err());
    }
    let r = max_pool2d(rt, &x, &params(0, 2, 0), &y);
    assert!(matches!(r, Err(Error::InvalidArgument { .. })));
    // A 1x1 window keeps the shape, but writing over the input is still refused.
    let r = avg_pool2d(rt, &x, &params(1, 1, 0), &x);
    assert!(
        matches!(r, Err(Error::InvalidArgument { .. })),
        "{:?}",
        r.err()
    );
}

fn random_params() -> impl Strategy<Value = Pool2dParams> {
    (
        (1usize..5, 1usize..5),
        (1usize..4, 1usize..4),
        prop::array::uniform4(0usize..3),
        (1usize..3, 1usize..3),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(k, s, padding, d, ceil_mode, count_include_pad)| Pool2dParams {
                kernel: [k.0, k.1],
                stride: [s.0, s.1],
                padding,
                dilation: [d.0, d.1],
                ceil_mode,
                count_include_pad,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn random_pools_match_cpu(
        n in 1usize..3, c in 1usize..5, h in 1usize..12, w in 1usize..12,
        p in random_params(), max in any::<bool>(), seed in 0u64..1000,
    ) {
        require!(gpu);
        let shape = [n, c, h, w];
        // Geometry the validation rejects is covered by bad_parameters_give_typed_errors.
        prop_assume!(p.output_shape(&shape).is_ok());
        check(if max { Kind::Max } else { Kind::Avg }, &shape, &p, seed);
    }
}
