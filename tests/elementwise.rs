//! unary (activations and math functions) and binary kernels against their CPU twins.

mod common;

use proptest::prelude::*;
use se_runtime::kernels::binary::binary;
use se_runtime::kernels::unary::{unary, unary_op};
use se_runtime::ops::{BinaryOp, UnaryOp};
use se_runtime::tensor::HostTensor;
use se_runtime::{Activation, cpu};

fn check_unary(len: usize, act: Activation, seed: u64) {
    let rt = common::gpu();
    let x = HostTensor::new(&[len], common::random(seed, len, 8.0)).unwrap();
    let xt = rt.upload_host(&x).unwrap();
    let yt = rt.tensor(&[len]).unwrap();
    rt.run(&[unary(rt, &xt, act, &yt).unwrap()]).unwrap();
    let want = cpu::unary::unary(&x, act);
    common::assert_close(
        &format!("unary {act:?} len {len}"),
        &common::read(rt, &yt),
        &want.data,
    );
}

#[test]
fn unary_every_activation() {
    require!(gpu);
    for (i, act) in Activation::all().into_iter().enumerate() {
        for len in [1, 3, 255, 256, 257, 4099] {
            check_unary(len, act, i as u64 * 31 + len as u64);
        }
    }
}

/// `f` on `x` on the GPU against the CPU twin.
fn check_unary_op(x: &HostTensor, f: UnaryOp) {
    let rt = common::gpu();
    let xt = rt.upload_host(x).unwrap();
    let yt = rt.tensor(&x.shape).unwrap();
    rt.run(&[unary_op(rt, &xt, f, &yt).unwrap()]).unwrap();
    let want = cpu::unary::unary_op(x, f);
    let what = format!("{f:?} {:?}", x.shape);
    common::assert_close(&what, &common::read(rt, &yt), &want.data);
}

#[test]
fn unary_op_every_function() {
    require!(gpu);
    for (i, f) in UnaryOp::ALL.into_iter().enumerate() {
        for shape in [&[1][..], &[3, 5], &[2, 3, 7, 7], &[257]] {
            let n = shape.iter().product();
            let mut data = common::random(i as u64 * 17 + n as u64, n, 6.0);
            // Roots and logarithms in their domain (below zero both sides give NaN,
            // which WGSL leaves undefined).
            if matches!(f, UnaryOp::Sqrt | UnaryOp::Log) {
                data.iter_mut().for_each(|v| *v = v.abs() + 1e-3);
            }
            check_unary_op(&HostTensor::new(shape, data).unwrap(), f);
        }
    }
}

#[test]
fn round_breaks_ties_to_even_on_both() {
    require!(gpu);
    let halves = [-2.5f32, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 2.4999, -3.7];
    let x = HostTensor::new(&[halves.len()], halves.to_vec()).unwrap();
    let cpu = cpu::unary::unary_op(&x, UnaryOp::Round);
    assert_eq!(cpu.data, [-2.0, -2.0, -0.0, 0.0, 2.0, 2.0, 4.0, 2.0, -4.0]);
    check_unary_op(&x, UnaryOp::Round);
}

#[test]
fn erf_and_gelu_match_reference_values() {
    // erf to 7 digits (Abramowitz and Stegun, table 7.1): the approximation's error
    // is below 1.5e-7.
    for (x, want) in [
        (0.5f32, 0.520_499_9f32),
        (1.0, 0.842_700_8),
        (-2.0, -0.995_322_3),
    ] {
        let got = cpu::unary::apply(x, UnaryOp::Erf);
        assert!((got - want).abs() < 3e-7, "erf({x}) = {got}, want {want}");
    }
    // Gelu(1) = 0.5 (1 + erf(1 / sqrt 2)) = 0.8413447; the tanh form is 0.8411920.
    let g = cpu::unary::apply(1.0, UnaryOp::Gelu);
    let t = cpu::unary::apply(1.0, UnaryOp::GeluTanh);
    assert!(
        (g - 0.841_344_7).abs() < 1e-6 && (t - 0.841_192).abs() < 1e-6,
        "{g} {t}"
    );
}

fn check_binary(op: BinaryOp, a_shape: &[usize], b_shape: &[usize], act: Activation, seed: u64) {
    let rt = common::gpu();
    let a = common::random(seed, a_shape.iter().product(), 2.0);
    let mut b = common::random(seed + 1, b_shape.iter().product(), 2.0);
    if op == BinaryOp::Div {
        b.iter_mut().for_each(|v| *v += 3.0f32.copysign(*v));
    }
    // Every other exponent integral, so negative bases are exercised too.
    if op == BinaryOp::Pow {
        b.iter_mut()
            .step_by(2)
            .for_each(|v| *v = (*v * 2.0).round());
    }
    let a = HostTensor::new(a_shape, a).unwrap();
    let b = HostTensor::new(b_shape, b).unwrap();
    let want = cpu::binary::binary(op, &a, &b, act).unwrap();
    let (at, bt) = (rt.upload_host(&a).unwrap(), rt.upload_host(&b).unwrap());
    let out = rt.tensor(&want.shape).unwrap();
    rt.run(&[binary(rt, op, &at, &bt, act, &out).unwrap()])
        .unwrap();
    let what = format!("{op:?} {a_shape:?} {b_shape:?} {act:?}");
    common::assert_close(&what, &common::read(rt, &out), &want.data);
}

#[test]
fn binary_broadcast_cases() {
    require!(gpu);
    let cases: &[(&[usize], &[usize])] = &[
        (&[7], &[7]),
        (&[2, 3, 5, 5], &[2, 3, 5, 5]),
        (&[2, 3, 5, 5], &[1, 3, 1, 1]), // per-channel
        (&[1, 3, 1, 1], &[2, 3, 5, 5]),
        (&[2, 3, 5, 5], &[1]),
        (&[4, 1], &[1, 6]),
        (&[3, 1, 7], &[2, 1]),
        (&[1, 1, 1, 1, 1, 1, 2, 3], &[3]),
    ];
    for (i, (a, b)) in cases.iter().enumerate() {
        for op in BinaryOp::ALL {
            check_binary(op, a, b, Activation::Identity, i as u64);
        }
        check_binary(BinaryOp::Add, a, b, Activation::Relu, 100 + i as u64);
    }
}

#[test]
fn binary_rejects_incompatible_shapes() {
    let rt = require!(gpu);
    let (a, b) = (rt.tensor(&[2, 3]).unwrap(), rt.tensor(&[4]).unwrap());
    let out = rt.tensor(&[2, 3]).unwrap();
    let err = binary(rt, BinaryOp::Add, &a, &b, Activation::Identity, &out)
        .err()
        .unwrap();
    assert!(err.to_string().contains("broadcast"), "{err}");
}

fn small_shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..6, 1..5)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn binary_random_broadcasts(shape in small_shape(), mask in prop::collection::vec(any::<bool>(), 5), op in 0usize..BinaryOp::ALL.len(), seed in 0u64..1000) {
        require!(gpu);
        // b keeps a's dim where mask is set, else 1, so the pair always broadcasts.
        let b: Vec<usize> = shape.iter().zip(&mask).map(|(&d, &m)| if m { d } else { 1 }).collect();
        check_binary(BinaryOp::ALL[op], &shape, &b, Activation::Identity, seed);
    }
}
