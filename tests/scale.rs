//! scale (x * gate + residual, activation) against its CPU twin.

mod common;

use proptest::prelude::*;
use se_runtime::kernels::scale::scale;
use se_runtime::tensor::HostTensor;
use se_runtime::{Activation, Error, cpu};

fn check(shape: [usize; 4], with_residual: bool, act: Activation, seed: u64) {
    let rt = common::gpu();
    let len = shape.iter().product();
    let x = HostTensor::new(&shape, common::random(seed, len, 2.0)).unwrap();
    let g = HostTensor::new(
        &shape[..2],
        common::random(seed + 1, shape[0] * shape[1], 1.0),
    )
    .unwrap();
    let r = HostTensor::new(&shape, common::random(seed + 2, len, 2.0)).unwrap();
    let residual = with_residual.then_some(&r);
    let want = cpu::scale::scale(&x, &g, residual, act).unwrap();
    let (xt, gt, rtn) = (
        rt.upload_host(&x).unwrap(),
        rt.upload_host(&g).unwrap(),
        rt.upload_host(&r).unwrap(),
    );
    let out = rt.tensor(&shape).unwrap();
    let residual_t = with_residual.then_some(&rtn);
    rt.run(&[scale(rt, &xt, &gt, residual_t, act, &out).unwrap()])
        .unwrap();
    common::assert_close(
        &format!("scale {shape:?} residual {with_residual} {act:?}"),
        &common::read(rt, &out),
        &want.data,
    );
}

const SHAPES: [[usize; 4]; 10] = [
    [1, 1, 1, 1],
    [1, 3, 7, 7],
    [2, 5, 4, 4],
    [3, 2048, 1, 1],
    [1, 64, 56, 56],
    [2, 3, 13, 17],
    [1, 1, 2, 2],
    [1, 2, 1, 3],
    [3, 16, 14, 14],
    [1, 7, 1, 6], // hw = 6: scalar path, planes of unaligned length
];

#[test]
fn named_shapes_residual_and_act_on_and_off() {
    require!(gpu);
    for (i, &shape) in SHAPES.iter().enumerate() {
        for with_residual in [false, true] {
            for act in [Activation::Identity, Activation::Relu] {
                check(shape, with_residual, act, i as u64 * 4);
            }
        }
    }
}

#[test]
fn every_activation() {
    require!(gpu);
    for (i, act) in Activation::all().into_iter().enumerate() {
        check([2, 3, 4, 4], true, act, 50 + i as u64); // vec4 entry
        check([1, 3, 5, 3], false, act, 70 + i as u64); // scalar entry
    }
}

#[test]
fn scales_each_channel_by_its_gate() {
    // Independent of the CPU twin: residual + ReLU on hand-picked values.
    let rt = require!(gpu);
    let x = rt.upload(&[1, 2, 1, 2], &[1.0, -2.0, 3.0, 4.0]).unwrap();
    let g = rt.upload(&[1, 2], &[0.5, 2.0]).unwrap();
    let r = rt.upload(&[1, 2, 1, 2], &[1.0, 0.0, -10.0, 1.0]).unwrap();
    let out = rt.tensor(&[1, 2, 1, 2]).unwrap();
    rt.run(&[scale(rt, &x, &g, Some(&r), Activation::Relu, &out).unwrap()])
        .unwrap();
    common::assert_close("hand scale", &common::read(rt, &out), &[1.5, 0.0, 0.0, 9.0]);
}

#[test]
fn rejects_bad_shapes() {
    let rt = require!(gpu);
    let t = |shape: &[usize]| rt.tensor(shape).unwrap();
    let (x, g, out) = (t(&[2, 3, 4, 4]), t(&[2, 3]), t(&[2, 3, 4, 4]));
    let id = Activation::Identity;
    let cases = [
        scale(rt, &x, &t(&[3, 2]), None, id, &out).err(),
        scale(rt, &x, &t(&[2, 3, 1, 1]), None, id, &out).err(),
        scale(rt, &x, &g, Some(&t(&[2, 3, 4, 5])), id, &out).err(),
        scale(rt, &x, &g, None, id, &t(&[2, 3, 16])).err(),
        scale(rt, &t(&[6, 4, 4]), &g, None, id, &out).err(),
    ];
    for (i, err) in cases.into_iter().enumerate() {
        let err = err.unwrap_or_else(|| panic!("case {i} was accepted"));
        assert!(matches!(err, Error::Shape { .. }), "case {i}: {err}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn random_shapes(n in 1usize..4, c in 1usize..20, h in 1usize..12, w in 1usize..12,
                     with_residual in any::<bool>(), act in 0usize..9, seed in 0u64..1000) {
        require!(gpu);
        check([n, c, h, w], with_residual, Activation::all()[act], seed);
    }
}
