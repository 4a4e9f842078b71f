//! softmax and log-softmax against their CPU twins, every case on both paths (an
//! invocation per row, a workgroup per row).

mod common;

use proptest::prelude::*;
use se_runtime::kernels::softmax::{
    self, WORKGROUP_MIN_AXIS, normalise, softmax, softmax_with, strategy,
};
use se_runtime::tensor::HostTensor;
use se_runtime::{Error, cpu};

const PATHS: [softmax::Strategy; 2] = [softmax::Strategy::Rows, softmax::Strategy::WorkgroupPerRow];

/// GPU softmax of `x` along `axis` on `path`, or on the automatic choice.
fn gpu_softmax(x: &HostTensor, axis: usize, path: Option<softmax::Strategy>) -> Vec<f32> {
    let rt = common::gpu();
    let (xt, yt) = (rt.upload_host(x).unwrap(), rt.tensor(&x.shape).unwrap());
    let d = match path {
        Some(path) => softmax_with(rt, &xt, axis, &yt, path),
        None => softmax(rt, &xt, axis, &yt),
    };
    rt.run(&[d.unwrap()]).unwrap();
    common::read(rt, &yt)
}

/// Compares both GPU paths with the CPU on values `offset + [-spread, spread)`;
/// returns the workgroup path's output.
fn check_with(shape: &[usize], axis: usize, spread: f32, offset: f32, seed: u64) -> Vec<f32> {
    let data = common::random(seed, shape.iter().product(), spread);
    let x = HostTensor::new(shape, data.iter().map(|v| v + offset).collect()).unwrap();
    let want = cpu::softmax::softmax(&x, axis).unwrap();
    assert!(want.data.iter().all(|v| v.is_finite()), "cpu {shape:?}");
    let mut out = want.data.clone();
    for path in PATHS {
        let got = gpu_softmax(&x, axis, Some(path));
        let what = format!("softmax {path:?} {shape:?} axis {axis}");
        common::assert_close(&what, &got, &want.data);
        out = got;
    }
    out
}

fn check(shape: &[usize], axis: usize, seed: u64) -> Vec<f32> {
    check_with(shape, axis, 4.0, 0.0, seed)
}

/// Each row along `axis` sums to 1: checks the GPU output without the CPU twin.
fn assert_rows_sum_to_one(shape: &[usize], axis: usize, y: &[f32]) {
    let n = shape[axis];
    let inner: usize = shape[axis + 1..].iter().product();
    let rows = y.len() / n;
    for r in 0..rows {
        let base = (r / inner) * n * inner + r % inner;
        let s: f32 = (0..n).map(|k| y[base + k * inner]).sum();
        assert!(
            (s - 1.0).abs() < 1e-4,
            "{shape:?} axis {axis} row {r} sums to {s}"
        );
    }
}

/// Log-softmax on both GPU paths against the CPU twin, on values `offset + [-8, 8)`;
/// its exponential is the softmax.
fn check_log(shape: &[usize], axis: usize, offset: f32, seed: u64) {
    let rt = common::gpu();
    let data = common::random(seed, shape.iter().product(), 8.0);
    let x = HostTensor::new(shape, data.iter().map(|v| v + offset).collect()).unwrap();
    let want = cpu::softmax::log_softmax(&x, axis).unwrap();
    let soft = cpu::softmax::softmax(&x, axis).unwrap();
    let exp: Vec<f32> = want.data.iter().map(|v| v.exp()).collect();
    common::assert_close(&format!("exp(log_softmax) {shape:?}"), &exp, &soft.data);
    for path in PATHS {
        let (xt, yt) = (rt.upload_host(&x).unwrap(), rt.tensor(shape).unwrap());
        rt.run(&[normalise(rt, &xt, axis, true, &yt, path).unwrap()])
            .unwrap();
        let what = format!("log_softmax {path:?} {shape:?} axis {axis}");
        common::assert_close(&what, &common::read(rt, &yt), &want.data);
    }
}

#[test]
fn log_softmax_on_any_axis() {
    require!(gpu);
    for axis in 0..3 {
        check_log(&[2, 5, 3], axis, 0.0, 80 + axis as u64);
    }
    check_log(&[2, 7, 5, 5], 1, 0.0, 83);
    check_log(&[2, 300], 1, 0.0, 84);
    check_log(&[3, 1], 1, 0.0, 85);
    // Large logits: only the max subtraction keeps them finite.
    check_log(&[4, 10], 1, 1000.0, 86);
}

#[test]
fn classifier_logits_1000() {
    require!(gpu);
    let y = check(&[1000], 0, 1);
    assert_rows_sum_to_one(&[1000], 0, &y);
    let y = check(&[3, 1000], 1, 2);
    assert_rows_sum_to_one(&[3, 1000], 1, &y);
}

#[test]
fn middle_axis_of_2x5x3() {
    require!(gpu);
    for axis in 0..3 {
        let y = check(&[2, 5, 3], axis, 10 + axis as u64);
        assert_rows_sum_to_one(&[2, 5, 3], axis, &y);
    }
}

#[test]
fn axis_of_length_one_gives_ones() {
    require!(gpu);
    for (shape, axis) in [(&[4, 1, 3][..], 1), (&[1][..], 0), (&[2, 3, 1][..], 2)] {
        let y = check(shape, axis, 20);
        assert!(y.iter().all(|&v| v == 1.0), "{shape:?}: {y:?}");
    }
}

#[test]
fn automatic_path_choice() {
    let rt = require!(gpu);
    assert_eq!(
        strategy(rt.profile(), WORKGROUP_MIN_AXIS - 1),
        softmax::Strategy::Rows
    );
    // The class the strategies see (SE_RUNTIME_DEVICE_CLASS may override the adapter's).
    let cpu_adapter = rt.profile().class == se_runtime::device::DeviceClass::Cpu;
    let long = strategy(rt.profile(), WORKGROUP_MIN_AXIS);
    assert_eq!(long == softmax::Strategy::Rows, cpu_adapter, "{long:?}");
    for (shape, seed) in [([2, 1000], 90), ([5, 7], 91)] {
        let x = HostTensor::new(&shape, common::random(seed, shape.iter().product(), 4.0));
        let x = x.unwrap();
        let want = cpu::softmax::softmax(&x, 1).unwrap();
        let got = gpu_softmax(&x, 1, None);
        common::assert_close(&format!("softmax auto {shape:?}"), &got, &want.data);
    }
}

#[test]
fn around_the_threshold() {
    require!(gpu);
    let t = WORKGROUP_MIN_AXIS;
    for (i, n) in [t - 1, t, t + 1, 255, 256, 257, 511, 1025]
        .into_iter()
        .enumerate()
    {
        check(&[2, n], 1, 30 + i as u64);
        // Strided rows: the axis is not the last one.
        let y = check(&[2, n, 3], 1, 40 + i as u64);
        assert_rows_sum_to_one(&[2, n, 3], 1, &y);
    }
}

#[test]
fn channel_softmax_on_nchw() {
    require!(gpu);
    check(&[2, 7, 5, 5], 1, 50);
    check(&[1, 200, 3, 3], 1, 51);
    check(&[2, 3, 4, 9], 3, 52);
    check(&[2, 3, 4, 9], 0, 53);
}

#[test]
fn large_logits_stay_finite_and_shift_invariant() {
    require!(gpu);
    // exp(1000) overflows f32: only the max subtraction makes these finite.
    for (shape, axis) in [(&[4, 10][..], 1), (&[2, 600][..], 1)] {
        let base = check_with(shape, axis, 30.0, 0.0, 60);
        let shifted = check_with(shape, axis, 30.0, 1000.0, 60);
        common::assert_close(&format!("shift {shape:?}"), &shifted, &base);
        let shifted = check_with(shape, axis, 30.0, -1000.0, 60);
        common::assert_close(&format!("shift {shape:?}"), &shifted, &base);
    }
}

#[test]
fn more_rows_than_one_grid_dimension_holds() {
    require!(gpu);
    // 65,537 rows: one workgroup each on that path, so its grid needs a second dimension.
    check(&[65_537, WORKGROUP_MIN_AXIS], 1, 70);
}

#[test]
fn bad_axis_and_shapes_give_typed_errors() {
    let rt = require!(gpu);
    let x = HostTensor::zeros(&[2, 3]).unwrap();
    assert!(matches!(
        cpu::softmax::softmax(&x, 2),
        Err(Error::InvalidArgument { .. })
    ));
    let (xt, yt) = (rt.tensor(&[2, 3]).unwrap(), rt.tensor(&[3, 2]).unwrap());
    let other = rt.tensor(&[2, 3]).unwrap();
    assert!(matches!(
        softmax(rt, &xt, 2, &other),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(softmax(rt, &xt, 1, &yt), Err(Error::Shape { .. })));
    // In place would bind one buffer read-only and writable at once.
    let r = softmax(rt, &xt, 1, &xt);
    assert!(
        matches!(r, Err(Error::InvalidArgument { .. })),
        "{:?}",
        r.err()
    );
    let scalar = rt.tensor(&[]).unwrap();
    assert!(softmax(rt, &scalar, 0, &other).is_err());
}

#[test]
fn empty_axis_is_a_no_op() {
    let rt = require!(gpu);
    let (xt, yt) = (
        rt.tensor(&[3, 0, 2]).unwrap(),
        rt.tensor(&[3, 0, 2]).unwrap(),
    );
    rt.run(&[softmax(rt, &xt, 1, &yt).unwrap()]).unwrap();
    let x = HostTensor::zeros(&[3, 0, 2]).unwrap();
    assert!(cpu::softmax::softmax(&x, 1).unwrap().is_empty());
}

fn shape_and_axis() -> impl Strategy<Value = (Vec<usize>, usize)> {
    prop::collection::vec(1usize..7, 1..5).prop_flat_map(|shape| {
        let rank = shape.len();
        (Just(shape), 0..rank)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn random_short_axes((shape, axis) in shape_and_axis(), seed in 0u64..1000) {
        require!(gpu);
        let y = check(&shape, axis, seed);
        assert_rows_sum_to_one(&shape, axis, &y);
    }

    #[test]
    fn random_long_axes(outer in 1usize..4, n in 100usize..700, inner in 1usize..4, seed in 0u64..1000) {
        require!(gpu);
        check(&[outer, n, inner], 1, seed);
    }
}
