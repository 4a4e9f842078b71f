//! excite (the SE MLP) against its CPU twin.

mod common;

use proptest::prelude::*;
use se_runtime::kernels::excite::{excite, excite_gate, excite_hidden};
use se_runtime::tensor::HostTensor;
use se_runtime::{Activation, Error, cpu};

struct Operands {
    s: HostTensor,
    w1: HostTensor,
    b1: HostTensor,
    w2: HostTensor,
    b2: HostTensor,
}

fn operands(n: usize, c: usize, r: usize, seed: u64) -> Operands {
    let t = |shape: &[usize], k: u64, scale: f32| {
        HostTensor::new(
            shape,
            common::random(seed * 8 + k, shape.iter().product(), scale),
        )
        .unwrap()
    };
    Operands {
        s: t(&[n, c], 0, 1.0),
        w1: t(&[r, c], 1, 1.0 / (c as f32).sqrt()),
        b1: t(&[r], 2, 0.5),
        w2: t(&[c, r], 3, 1.0 / (r as f32).sqrt()),
        b2: t(&[c], 4, 0.5),
    }
}

/// Runs excite on uploaded `[s, w1, b1, w2, b2]` and reads the output. The tensors are
/// borrowed until the dispatch has run: dropping one earlier would hand its pooled
/// buffer to the next upload (maybe another test's) before the GPU reads it.
fn run_excite(
    rt: &se_runtime::Runtime,
    t: &[se_runtime::Tensor; 5],
    hidden: Activation,
    gate: Activation,
) -> Vec<f32> {
    let out = rt.tensor(t[0].shape()).unwrap();
    let d = excite(rt, &t[0], &t[1], &t[2], hidden, &t[3], &t[4], gate, &out).unwrap();
    rt.run(&[d]).unwrap();
    common::read(rt, &out)
}

fn check(n: usize, c: usize, r: usize, hidden: Activation, gate: Activation, seed: u64) {
    let rt = common::gpu();
    let o = operands(n, c, r, seed);
    let want = cpu::excite::excite(&o.s, &o.w1, &o.b1, hidden, &o.w2, &o.b2, gate).unwrap();
    let up = |t: &HostTensor| rt.upload_host(t).unwrap();
    let t = [up(&o.s), up(&o.w1), up(&o.b1), up(&o.w2), up(&o.b2)];
    let what = format!("excite n{n} c{c} r{r} {hidden:?} {gate:?}");
    common::assert_close(&what, &run_excite(rt, &t, hidden, gate), &want.data);

    // The two-pass form SE blocks in plans run: each pass against its own twin, and
    // the gates against the one-pass MLP.
    let h_want = cpu::excite::excite_hidden(&o.s, &o.w1, &o.b1, hidden).unwrap();
    let h = rt.tensor(&[n, r]).unwrap();
    rt.run(&[excite_hidden(rt, &t[0], &t[1], &t[2], hidden, &h).unwrap()])
        .unwrap();
    common::assert_close(
        &format!("{what}: hidden"),
        &common::read(rt, &h),
        &h_want.data,
    );
    let g_want = cpu::excite::excite_gate(&h_want, &o.w2, &o.b2, gate).unwrap();
    let g = rt.tensor(&[n, c]).unwrap();
    rt.run(&[excite_gate(rt, &h, &t[3], &t[4], gate, &g).unwrap()])
        .unwrap();
    let got = common::read(rt, &g);
    common::assert_close(&format!("{what}: gate"), &got, &g_want.data);
    common::assert_close(&format!("{what}: two passes"), &got, &want.data);
}

const SIGMOID: Activation = Activation::Sigmoid;
const RELU: Activation = Activation::Relu;

#[test]
fn named_sizes() {
    require!(gpu);
    let sizes = [
        (1, 1, 1),   // C = 1, R = 1
        (1, 3, 1),   // C = 3
        (2, 64, 4),  // SE with r = 16
        (3, 64, 16), // batch 3
        (1, 2048, 128),
        (2, 2048, 1),  // R = 1 with a long FC1
        (1, 300, 300), // R > workgroup: two hidden chunks
        (2, 600, 520), // three hidden chunks, C not a multiple of the workgroup
        (1, 257, 3),
        (4, 17, 5),
        (5, 1, 7), // R > C
    ];
    for (i, (n, c, r)) in sizes.into_iter().enumerate() {
        check(n, c, r, RELU, SIGMOID, i as u64);
    }
}

#[test]
fn every_gate() {
    require!(gpu);
    // Every activation as the gate (hard-sigmoid with both (0.2, 0.5) and (1/6, 0.5)).
    for (i, gate) in Activation::all().into_iter().enumerate() {
        check(2, 64, 4, RELU, gate, 100 + i as u64);
        check(1, 40, 1, RELU, gate, 200 + i as u64);
    }
}

#[test]
fn every_hidden_activation() {
    require!(gpu);
    for (i, hidden) in Activation::all().into_iter().enumerate() {
        check(2, 48, 6, hidden, SIGMOID, 300 + i as u64);
    }
}

#[test]
fn onnx_1x1_conv_weights_are_accepted() {
    let rt = require!(gpu);
    let (n, c, r) = (2, 12, 3);
    let o = operands(n, c, r, 9);
    let want = cpu::excite::excite(&o.s, &o.w1, &o.b1, RELU, &o.w2, &o.b2, SIGMOID).unwrap();
    let up = |t: &HostTensor| rt.upload_host(t).unwrap();
    let t = [
        up(&o.s),
        rt.upload(&[r, c, 1, 1], &o.w1.data).unwrap(),
        up(&o.b1),
        rt.upload(&[c, r, 1, 1], &o.w2.data).unwrap(),
        up(&o.b2),
    ];
    let got = run_excite(rt, &t, RELU, SIGMOID);
    common::assert_close("1x1 conv weights", &got, &want.data);
}

#[test]
fn matches_a_hand_computed_block() {
    let rt = require!(gpu);
    // Independent of the CPU twin: C = 2, R = 1, identity everywhere.
    let s = HostTensor::new(&[1, 2], vec![1.0, 2.0]).unwrap();
    let w1 = HostTensor::new(&[1, 2], vec![0.5, -1.0]).unwrap();
    let b1 = HostTensor::new(&[1], vec![0.25]).unwrap();
    let w2 = HostTensor::new(&[2, 1], vec![2.0, -3.0]).unwrap();
    let b2 = HostTensor::new(&[2], vec![1.0, 0.0]).unwrap();
    // hidden = 0.5 - 2 + 0.25 = -1.25; out = (2 * -1.25 + 1, -3 * -1.25) = (-1.5, 3.75)
    let id = Activation::Identity;
    let cpu_out = cpu::excite::excite(&s, &w1, &b1, id, &w2, &b2, id).unwrap();
    assert_eq!(cpu_out.data, [-1.5, 3.75]);
    let up = |t: &HostTensor| rt.upload_host(t).unwrap();
    let t = [up(&s), up(&w1), up(&b1), up(&w2), up(&b2)];
    common::assert_close("hand block", &run_excite(rt, &t, id, id), &[-1.5, 3.75]);
}

#[test]
fn rejects_mismatched_shapes() {
    let rt = require!(gpu);
    let (n, c, r) = (2, 8, 2);
    let t = |shape: &[usize]| rt.tensor(shape).unwrap();
    let good = [
        t(&[n, c]),
        t(&[r, c]),
        t(&[r]),
        t(&[c, r]),
        t(&[c]),
        t(&[n, c]),
    ];
    let bad_cases: [(usize, &[usize]); 7] = [
        (0, &[n, c, 1]),    // s rank 3
        (1, &[r, c + 1]),   // w1 columns
        (1, &[r, c, 3, 3]), // a 3x3 kernel is not an FC
        (2, &[r + 1]),      // b1
        (3, &[c, r + 1]),   // w2
        (4, &[c + 1]),      // b2
        (5, &[n, c + 1]),   // out
    ];
    for (slot, shape) in bad_cases {
        let mut ops: Vec<_> = good.to_vec();
        ops[slot] = t(shape);
        let err = excite(
            rt, &ops[0], &ops[1], &ops[2], RELU, &ops[3], &ops[4], SIGMOID, &ops[5],
        )
        .err()
        .unwrap_or_else(|| panic!("operand {slot} with shape {shape:?} was accepted"));
        assert!(matches!(err, Error::Shape { .. }), "{err}");
    }
}

#[test]
fn cpu_twin_rejects_mismatched_shapes() {
    let o = operands(1, 6, 2, 1);
    let wrong_b2 = HostTensor::zeros(&[5]).unwrap();
    let err = cpu::excite::excite(&o.s, &o.w1, &o.b1, RELU, &o.w2, &wrong_b2, SIGMOID);
    assert!(matches!(err, Err(Error::Shape { .. })));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn random_sizes(n in 1usize..4, c in 1usize..100, r in 1usize..40,
                    gate in 0usize..9, seed in 0u64..1000) {
        require!(gpu);
        check(n, c, r, RELU, Activation::all()[gate], seed);
    }
}
