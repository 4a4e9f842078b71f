//! pad against its CPU twin, plus worked ONNX examples.

mod common;

use proptest::prelude::*;
use se_runtime::kernels::pad::pad;
use se_runtime::ops::pad::{PadMode, pad_shape};
use se_runtime::tensor::HostTensor;
use se_runtime::{Error, cpu};

const MODES: [PadMode; 4] = [
    PadMode::Constant(0.0),
    PadMode::Constant(-1.5),
    PadMode::Reflect,
    PadMode::Edge,
];

fn gpu_pad(x: &HostTensor, pads: &[usize], mode: PadMode) -> Vec<f32> {
    let rt = common::gpu();
    let xt = rt.upload_host(x).unwrap();
    let y = rt
        .tensor(&pad_shape(&x.shape, pads, mode).unwrap())
        .unwrap();
    rt.run(&[pad(rt, &xt, pads, mode, &y).unwrap()]).unwrap();
    common::read(rt, &y)
}

fn check(shape: &[usize], pads: &[usize], mode: PadMode, seed: u64) -> Vec<f32> {
    let x = HostTensor::new(shape, common::random(seed, shape.iter().product(), 2.0)).unwrap();
    let want = cpu::pad::pad(&x, pads, mode).unwrap();
    let got = gpu_pad(&x, pads, mode);
    common::assert_close(
        &format!("pad {shape:?} {pads:?} {mode:?}"),
        &got,
        &want.data,
    );
    got
}

#[test]
fn spatial_pads_on_nchw_every_mode() {
    require!(gpu);
    for (i, mode) in MODES.into_iter().enumerate() {
        check(&[1, 3, 5, 7], &[0, 0, 1, 2, 0, 0, 2, 1], mode, i as u64);
        check(
            &[2, 1, 4, 4],
            &[0, 0, 3, 3, 0, 0, 3, 3],
            mode,
            10 + i as u64,
        );
        check(
            &[1, 2048, 2, 2],
            &[0, 0, 1, 0, 0, 0, 0, 1],
            mode,
            20 + i as u64,
        );
    }
}

#[test]
fn zero_pads_copy_the_input() {
    require!(gpu);
    for mode in MODES {
        let x = HostTensor::new(&[2, 3, 4], common::random(30, 24, 2.0)).unwrap();
        assert_eq!(cpu::pad::pad(&x, &[0; 6], mode).unwrap(), x);
        let gpu = gpu_pad(&x, &[0; 6], mode);
        assert_eq!(gpu, x.data, "{mode:?}");
        check(&[1, 1, 1, 1], &[0; 8], mode, 31);
    }
}

#[test]
fn pads_on_batch_and_channel_axes() {
    require!(gpu);
    for (i, mode) in MODES.into_iter().enumerate() {
        check(
            &[2, 3, 3, 2],
            &[1, 2, 0, 1, 1, 0, 2, 1],
            mode,
            40 + i as u64,
        );
    }
}

#[test]
fn rank6_every_mode() {
    require!(gpu);
    let pads = [1, 0, 1, 2, 0, 1, 0, 0, 1, 1, 0, 1];
    for (i, mode) in MODES.into_iter().enumerate() {
        check(&[2, 1, 2, 3, 1, 2], &pads, mode, 50 + i as u64);
    }
    for (i, mode) in MODES.into_iter().enumerate() {
        check(&[3, 2, 3, 4, 2, 2], &pads, mode, 55 + i as u64);
    }
}

#[test]
fn widest_reflect_and_long_edges() {
    require!(gpu);
    // Reflect may pad up to length - 1 on each side.
    check(
        &[1, 2, 4, 5],
        &[0, 0, 3, 4, 0, 0, 3, 4],
        PadMode::Reflect,
        60,
    );
    check(&[2, 2], &[1, 1, 1, 1], PadMode::Reflect, 61);
    // Edge repeats a length-1 axis as far as asked.
    let y = check(&[1, 1, 1, 1], &[0, 0, 3, 2, 0, 0, 1, 4], PadMode::Edge, 62);
    assert!(y.iter().all(|&v| v == y[0]), "{y:?}");
}

#[test]
fn low_ranks_and_empty_inputs() {
    require!(gpu);
    for mode in MODES {
        check(&[5], &[2, 3], mode, 70);
        check(&[], &[], mode, 71);
    }
    // An empty axis pads to all-constant.
    let y = check(&[2, 0], &[0, 1, 0, 2], PadMode::Constant(4.0), 72);
    assert_eq!(y, [4.0; 6]);
}

#[test]
fn onnx_worked_examples() {
    require!(gpu);
    let x = HostTensor::new(&[3, 2], vec![1.0, 1.2, 2.3, 3.4, 4.5, 5.7]).unwrap();
    // (pads, mode, output shape, output)
    type Case<'a> = (&'a [usize], PadMode, &'a [usize], &'a [f32]);
    let cases: &[Case] = &[
        // The ONNX Pad operator's own examples (its reflect one mirrors twice).
        (
            &[0, 2, 0, 0],
            PadMode::Constant(0.0),
            &[3, 4],
            &[0.0, 0.0, 1.0, 1.2, 0.0, 0.0, 2.3, 3.4, 0.0, 0.0, 4.5, 5.7],
        ),
        (
            &[0, 2, 0, 0],
            PadMode::Reflect,
            &[3, 4],
            &[1.0, 1.2, 1.0, 1.2, 2.3, 3.4, 2.3, 3.4, 4.5, 5.7, 4.5, 5.7],
        ),
        (
            &[0, 1, 0, 0],
            PadMode::Reflect,
            &[3, 3],
            &[1.2, 1.0, 1.2, 3.4, 2.3, 3.4, 5.7, 4.5, 5.7],
        ),
        (
            &[0, 2, 0, 0],
            PadMode::Edge,
            &[3, 4],
            &[1.0, 1.0, 1.0, 1.2, 2.3, 2.3, 2.3, 3.4, 4.5, 4.5, 4.5, 5.7],
        ),
        (
            &[1, 0, 1, 0],
            PadMode::Reflect,
            &[5, 2],
            &[2.3, 3.4, 1.0, 1.2, 2.3, 3.4, 4.5, 5.7, 2.3, 3.4],
        ),
    ];
    for (pads, mode, shape, want) in cases {
        let got = cpu::pad::pad(&x, pads, *mode).unwrap();
        assert_eq!((got.shape.as_slice(), got.data.as_slice()), (*shape, *want));
        let gpu = gpu_pad(&x, pads, *mode);
        assert_eq!(gpu, *want, "gpu {pads:?} {mode:?}");
    }
    let x = HostTensor::new(&[1, 3], vec![1.0, 2.0, 3.0]).unwrap();
    let got = cpu::pad::pad(&x, &[0, 2, 0, 2], PadMode::Reflect).unwrap();
    assert_eq!(got.data, [3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]);
    // numpy.pad([1, 2, 3], (4, 5), "reflect"), which the ONNX reference calls.
    let want = [1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 2.0];
    let got = cpu::pad::pad(&x, &[0, 4, 0, 5], PadMode::Reflect).unwrap();
    assert_eq!(got.data, want);
    let gpu = gpu_pad(&x, &[0, 4, 0, 5], PadMode::Reflect);
    assert_eq!(gpu, want);
}

#[test]
fn bad_pads_give_typed_errors() {
    let rt = require!(gpu);
    let invalid = |shape: &[usize], pads: &[usize], mode| {
        let r = pad_shape(shape, pads, mode);
        assert!(
            matches!(r, Err(Error::InvalidArgument { .. })),
            "{shape:?} {pads:?}: {r:?}"
        );
        let x = HostTensor::zeros(shape).unwrap();
        assert!(cpu::pad::pad(&x, pads, mode).is_err());
    };
    let c = PadMode::Constant(0.0);
    invalid(&[2, 3], &[1, 1], c);
    invalid(&[2, 3], &[1, 1, 1, 1, 1, 1], c);
    invalid(&[2, 0], &[0, 1, 0, 0], PadMode::Reflect);
    invalid(&[2, 0], &[0, 0, 0, 2], PadMode::Edge);
    invalid(&[1; 7], &[0; 14], c);
    invalid(&[2], &[usize::MAX, 1], c);

    let (x, y) = (rt.tensor(&[2, 3]).unwrap(), rt.tensor(&[2, 3]).unwrap());
    let r = pad(rt, &x, &[0, 1, 0, 0], c, &y);
    assert!(matches!(r, Err(Error::Shape { .. })), "{:?}", r.err());
    let r = pad(rt, &x, &[0, 0, 0, 0], PadMode::Edge, &x);
    assert!(
        matches!(r, Err(Error::InvalidArgument { .. })),
        "{:?}",
        r.err()
    );
}

/// A shape, begins and ends (each below the axis length, so reflect accepts them).
fn pad_case() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    prop::collection::vec(1usize..6, 1..=6).prop_flat_map(|shape| {
        let limits: Vec<_> = shape.iter().chain(&shape).map(|&n| 0..n.min(4)).collect();
        (Just(shape), limits)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn random_pads((shape, pads) in pad_case(), mode in 0usize..4, seed in 0u64..1000) {
        require!(gpu);
        check(&shape, &pads, MODES[mode], seed);
    }
}
