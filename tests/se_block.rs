//! SeBlock: construction, validation, and the one-submission GPU forward against the
//! CPU twin composed from the kernel twins.

mod common;

use proptest::prelude::*;
use se_runtime::tensor::HostTensor;
use se_runtime::{Activation, Error, SeBlock, SqueezeMode, cpu};

fn check(block: &SeBlock, shape: [usize; 4], seed: u64) {
    let rt = common::gpu();
    let x = HostTensor::new(&shape, common::random(seed, shape.iter().product(), 2.0)).unwrap();
    let (want_out, want_e) = cpu::se_block::se_block(block, &x).unwrap();
    let xt = rt.upload_host(&x).unwrap();
    let got = pollster::block_on(block.forward(rt, &xt)).unwrap();
    assert_eq!(got.output.shape(), shape);
    assert_eq!(got.excitation.shape(), &shape[..2]);
    let what = format!("SeBlock c{} r{} {shape:?}", block.channels, block.reduced);
    common::assert_close(
        &format!("{what} excitation"),
        &common::read(rt, &got.excitation),
        &want_e.data,
    );
    common::assert_close(
        &format!("{what} output"),
        &common::read(rt, &got.output),
        &want_out.data,
    );
}

fn block(c: usize, reduction: usize, pooling: SqueezeMode, gate: Activation) -> SeBlock {
    SeBlock::new(
        c,
        reduction,
        pooling,
        gate,
        c as u64 * 31 + reduction as u64,
    )
    .unwrap()
}

#[test]
fn named_configurations() {
    require!(gpu);
    let avg = SqueezeMode::Avg;
    let cases: [(usize, usize, SqueezeMode, [usize; 4]); 9] = [
        (1, 16, avg, [1, 1, 3, 3]),                // C = 1, R = 1
        (3, 16, avg, [2, 3, 5, 5]),                // C = 3 < reduction: R = 1
        (64, 16, avg, [2, 64, 8, 8]),              // the example's block
        (64, 16, SqueezeMode::Max, [3, 64, 7, 7]), // max pooling, batch 3
        (32, 4, avg, [1, 32, 56, 56]),             // big plane
        (2048, 16, avg, [1, 2048, 1, 1]),          // 1x1 planes, large C
        (256, 16, avg, [2, 256, 7, 7]),
        (24, 1, avg, [1, 24, 13, 17]), // reduction 1: R = C
        (5, 2, SqueezeMode::Max, [3, 5, 1, 1]),
    ];
    for (i, (c, reduction, pooling, shape)) in cases.into_iter().enumerate() {
        check(
            &block(c, reduction, pooling, Activation::Sigmoid),
            shape,
            i as u64,
        );
    }
}

#[test]
fn every_gate() {
    require!(gpu);
    for (i, gate) in Activation::all().into_iter().enumerate() {
        check(
            &block(16, 4, SqueezeMode::Avg, gate),
            [2, 16, 6, 6],
            40 + i as u64,
        );
    }
}

#[test]
fn new_is_deterministic_and_he_scaled() {
    let a = SeBlock::new(64, 16, SqueezeMode::Avg, Activation::Sigmoid, 7).unwrap();
    let b = SeBlock::new(64, 16, SqueezeMode::Avg, Activation::Sigmoid, 7).unwrap();
    let c = SeBlock::new(64, 16, SqueezeMode::Avg, Activation::Sigmoid, 8).unwrap();
    assert_eq!(a, b);
    assert_ne!(a.w1, c.w1);
    assert_eq!((a.channels, a.reduced), (64, 4));
    assert_eq!(
        (a.w1.shape.as_slice(), a.w2.shape.as_slice()),
        (&[4, 64][..], &[64, 4][..])
    );
    assert_eq!(a.hidden, Activation::Relu);
    // Uniform in +-sqrt(6 / fan_in): bounded by it, and spread close to it.
    for (w, fan_in) in [(&a.w1, 64.0f32), (&a.w2, 4.0)] {
        let limit = (6.0 / fan_in).sqrt();
        let max = w.data.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(
            max <= limit && max > 0.7 * limit,
            "max |w| {max} vs limit {limit}"
        );
    }
    assert_ne!(a.w1.data[..4], a.w2.data[..4]);
    assert!(
        SeBlock::new(3, 16, SqueezeMode::Avg, Activation::Sigmoid, 1)
            .unwrap()
            .reduced
            == 1
    );
}

#[test]
fn new_rejects_zero_sizes() {
    for (c, r) in [(0, 4), (8, 0)] {
        let err = SeBlock::new(c, r, SqueezeMode::Avg, Activation::Sigmoid, 0).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    }
}

fn weights(c: usize, r: usize) -> [HostTensor; 4] {
    let t = |shape: &[usize], seed| {
        HostTensor::new(shape, common::random(seed, shape.iter().product(), 0.5)).unwrap()
    };
    [t(&[r, c], 1), t(&[r], 2), t(&[c, r], 3), t(&[c], 4)]
}

#[test]
fn from_weights_matches_given_weights() {
    require!(gpu);
    let [w1, b1, w2, b2] = weights(12, 3);
    let block = SeBlock::from_weights(
        SqueezeMode::Avg,
        Activation::HardSwish,
        Activation::HardSigmoid {
            alpha: 1.0 / 6.0,
            beta: 0.5,
        },
        w1,
        b1,
        w2,
        b2,
    )
    .unwrap();
    assert_eq!((block.channels, block.reduced), (12, 3));
    check(&block, [2, 12, 5, 4], 77);
}

#[test]
fn from_weights_accepts_onnx_conv_kernels() {
    let [w1, b1, w2, b2] = weights(8, 2);
    let conv =
        |t: &HostTensor| HostTensor::new(&[t.shape[0], t.shape[1], 1, 1], t.data.clone()).unwrap();
    let (sig, relu, avg) = (Activation::Sigmoid, Activation::Relu, SqueezeMode::Avg);
    let flat = SeBlock::from_weights(
        avg,
        relu,
        sig,
        w1.clone(),
        b1.clone(),
        w2.clone(),
        b2.clone(),
    )
    .unwrap();
    let from_conv = SeBlock::from_weights(avg, relu, sig, conv(&w1), b1, conv(&w2), b2).unwrap();
    assert_eq!(flat, from_conv);
}

#[test]
fn from_weights_rejects_inconsistent_shapes() {
    let (sig, relu, avg) = (Activation::Sigmoid, Activation::Relu, SqueezeMode::Avg);
    let [w1, b1, w2, b2] = weights(8, 2);
    let z = |shape: &[usize]| HostTensor::zeros(shape).unwrap();
    let cases = [
        [z(&[2, 7]), b1.clone(), w2.clone(), b2.clone()],
        [w1.clone(), z(&[3]), w2.clone(), b2.clone()],
        [w1.clone(), b1.clone(), z(&[8, 3]), b2.clone()],
        [w1.clone(), b1.clone(), z(&[2, 8]), b2.clone()],
        [w1.clone(), b1.clone(), w2.clone(), z(&[7])],
        [z(&[16]), b1.clone(), w2.clone(), b2.clone()],
        [z(&[2, 8, 3, 3]), b1.clone(), w2.clone(), b2.clone()],
    ];
    for (i, [w1, b1, w2, b2]) in cases.into_iter().enumerate() {
        let err = SeBlock::from_weights(avg, relu, sig, w1, b1, w2, b2)
            .err()
            .unwrap_or_else(|| panic!("case {i} was accepted"));
        assert!(matches!(err, Error::Shape { .. }), "case {i}: {err}");
    }
    let lying = HostTensor {
        shape: vec![8],
        data: vec![0.0; 3],
    };
    let err = SeBlock::from_weights(avg, relu, sig, w1, b1, w2, lying).unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
}

#[test]
fn forward_rejects_wrong_channel_count() {
    let rt = require!(gpu);
    let block = block(64, 16, SqueezeMode::Avg, Activation::Sigmoid);
    let x = rt.tensor(&[2, 32, 8, 8]).unwrap();
    let err = pollster::block_on(block.forward(rt, &x)).err().unwrap();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
    assert!(err.to_string().contains("channels"), "{err}");
    let x3 = rt.tensor(&[64, 8, 8]).unwrap();
    let err = pollster::block_on(block.forward(rt, &x3)).err().unwrap();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
    let host = HostTensor::zeros(&[1, 63, 2, 2]).unwrap();
    let err = cpu::se_block::se_block(&block, &host).unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
}

#[test]
fn output_is_input_times_excitation() {
    // Ties the two outputs together independently of the scale twin.
    let rt = require!(gpu);
    let block = block(8, 2, SqueezeMode::Avg, Activation::Sigmoid);
    let shape = [2, 8, 3, 5];
    let x = common::random(5, shape.iter().product(), 1.0);
    let xt = rt.upload(&shape, &x).unwrap();
    let got = pollster::block_on(block.forward(rt, &xt)).unwrap();
    let (out, e) = (
        common::read(rt, &got.output),
        common::read(rt, &got.excitation),
    );
    let want: Vec<f32> = x.iter().enumerate().map(|(i, v)| v * e[i / 15]).collect();
    common::assert_close("x * e", &out, &want);
    assert!(
        e.iter().all(|&g| g > 0.0 && g < 1.0),
        "sigmoid gates in (0, 1): {e:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn random_blocks(n in 1usize..4, c in 1usize..48, reduction in 1usize..20,
                     h in 1usize..10, w in 1usize..10, max in any::<bool>(),
                     gate in 0usize..9, seed in 0u64..1000) {
        require!(gpu);
        let pooling = if max { SqueezeMode::Max } else { SqueezeMode::Avg };
        let block = SeBlock::new(c, reduction, pooling, Activation::all()[gate], seed).unwrap();
        check(&block, [n, c, h, w], seed);
    }
}
