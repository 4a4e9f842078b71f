//! squeeze (global average / max pooling) against its CPU twin.

mod common;

use proptest::prelude::*;
use se_runtime::SqueezeMode;
use se_runtime::kernels::squeeze::{self, WORKGROUP, squeeze, squeeze_with};
use se_runtime::tensor::HostTensor;
use se_runtime::{Error, cpu};

const MODES: [SqueezeMode; 2] = [SqueezeMode::Avg, SqueezeMode::Max];

fn check_data(shape: [usize; 4], mode: SqueezeMode, data: Vec<f32>) {
    let rt = common::gpu();
    let x = HostTensor::new(&shape, data).unwrap();
    let want = cpu::squeeze::squeeze(&x, mode).unwrap();
    let xt = rt.upload_host(&x).unwrap();
    let out = rt.tensor(&shape[..2]).unwrap();
    rt.run(&[squeeze(rt, &xt, mode, &out).unwrap()]).unwrap();
    common::assert_close(
        &format!("squeeze {mode:?} {shape:?}"),
        &common::read(rt, &out),
        &want.data,
    );
    // Both reductions where the adapter has subgroups: the default takes them, the
    // shared-memory tree is what adapters without them run.
    let mut paths = vec![squeeze::Strategy::tree(rt.profile(), shape)];
    if rt.features().contains(wgpu::Features::SUBGROUP) {
        paths.extend(squeeze::Strategy::subgroups(rt.profile()));
    }
    for strategy in paths {
        let out = rt.tensor(&shape[..2]).unwrap();
        rt.run(&[squeeze_with(rt, &xt, mode, strategy, &out).unwrap()])
            .unwrap();
        common::assert_close(
            &format!("squeeze {mode:?} {shape:?}, {strategy}"),
            &common::read(rt, &out),
            &want.data,
        );
    }
}

fn check(shape: [usize; 4], mode: SqueezeMode, seed: u64) {
    // An offset keeps the means away from 0, where a relative check is weakest.
    let data = common::random(seed, shape.iter().product(), 1.0)
        .into_iter()
        .map(|v| v + 0.25)
        .collect();
    check_data(shape, mode, data);
}

#[test]
fn named_shapes_both_modes() {
    require!(gpu);
    let shapes: &[[usize; 4]] = &[
        [1, 1, 1, 1],     // H*W = 1: one lane, 64 planes per workgroup
        [1, 3, 1, 1],     // C = 3
        [2, 2048, 1, 1],  // large C, 1x1
        [1, 1, 7, 7],     // odd plane, scalar path
        [2, 3, 7, 7],     // batch, 7x7
        [1, 2048, 7, 7],  // SE-ResNet-50 last stage
        [1, 5, 56, 56],   // vec4 path, 64 lanes
        [1, 3, 13, 17],   // odd sides
        [2, 2, 112, 112], // big planes
        [3, 64, 14, 14],  // batch 3, 14x14 (vec4, 16 lanes)
        [1, 7, 2, 2],     // one vec4 per plane
        [1, 9, 1, 3],     // 3 elements per plane
        [1, 4, 1, 5],     // 5 elements per plane
        [1, 130, 9, 9],   // several workgroups of several planes each
        [3, 17, 6, 10],   // 60 elements: vec4, planes not a power of two
        [1, 1, 1, 2049],  // long odd plane
    ];
    for (i, &shape) in shapes.iter().enumerate() {
        for mode in MODES {
            check(shape, mode, i as u64);
        }
    }
}

#[test]
fn every_lane_count() {
    // The adapter picks the lanes per plane; force each tree depth on every adapter.
    let rt = require!(gpu);
    let shapes: &[[usize; 4]] = &[
        [2, 3, 7, 7],
        [1, 5, 56, 56],
        [3, 4, 1, 1],
        [1, 3, 13, 17],
        [2, 2, 6, 10],
    ];
    for (i, &shape) in shapes.iter().enumerate() {
        let x = HostTensor::new(
            &shape,
            common::random(i as u64, shape.iter().product(), 1.0),
        )
        .unwrap();
        let xt = rt.upload_host(&x).unwrap();
        let out = rt.tensor(&shape[..2]).unwrap();
        for mode in MODES {
            let want = cpu::squeeze::squeeze(&x, mode).unwrap();
            let mut lanes = 1;
            while lanes <= WORKGROUP {
                let tree = squeeze::Strategy::Tree { lanes };
                rt.run(&[squeeze_with(rt, &xt, mode, tree, &out).unwrap()])
                    .unwrap();
                let what = format!("squeeze {mode:?} {shape:?} with {lanes} lanes");
                common::assert_close(&what, &common::read(rt, &out), &want.data);
                lanes *= 2;
            }
        }
    }
}

#[test]
fn rejects_bad_lane_counts() {
    let rt = require!(gpu);
    let (x, out) = (
        rt.tensor(&[1, 2, 4, 4]).unwrap(),
        rt.tensor(&[1, 2]).unwrap(),
    );
    for lanes in [0, 3, 2 * WORKGROUP] {
        let tree = squeeze::Strategy::Tree { lanes };
        let err = squeeze_with(rt, &x, SqueezeMode::Avg, tree, &out)
            .err()
            .unwrap();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    }
}

#[test]
fn max_of_negative_planes() {
    require!(gpu);
    // Catches a max that starts from 0 instead of a plane element.
    for shape in [[2, 3, 5, 5], [1, 4, 8, 8], [1, 2, 1, 1]] {
        let n: usize = shape.iter().product();
        let data = common::random(7, n, 1.0)
            .into_iter()
            .map(|v| v - 3.0)
            .collect();
        check_data(shape, SqueezeMode::Max, data);
    }
}

#[test]
fn max_in_last_element_of_plane() {
    require!(gpu);
    // The maximum sits at the very end of each plane, where the remainder lanes read.
    for shape in [[1, 3, 7, 7], [2, 2, 8, 8], [1, 2, 13, 17]] {
        let hw = shape[2] * shape[3];
        let mut data = common::random(3, shape.iter().product(), 1.0);
        for plane in 0..shape[0] * shape[1] {
            data[plane * hw + hw - 1] = 5.0 + plane as f32;
        }
        check_data(shape, SqueezeMode::Max, data);
    }
}

#[test]
fn mean_of_a_ramp_is_its_midpoint() {
    // Independent of the CPU twin: the mean of 1..=k is (k + 1) / 2.
    let rt = require!(gpu);
    for (h, w) in [(1, 1), (7, 7), (56, 56), (13, 17)] {
        let k = h * w;
        let data: Vec<f32> = (0..2 * k).map(|i| (i % k + 1) as f32).collect();
        let xt = rt.upload(&[1, 2, h, w], &data).unwrap();
        let out = rt.tensor(&[1, 2]).unwrap();
        rt.run(&[squeeze(rt, &xt, SqueezeMode::Avg, &out).unwrap()])
            .unwrap();
        let want = (k + 1) as f32 / 2.0;
        common::assert_close(
            &format!("ramp {h}x{w}"),
            &common::read(rt, &out),
            &[want, want],
        );
    }
}

#[test]
fn rejects_bad_shapes() {
    let rt = require!(gpu);
    let x = rt.tensor(&[2, 3, 4, 4]).unwrap();
    let bad_out = rt.tensor(&[2, 4]).unwrap();
    let err = squeeze(rt, &x, SqueezeMode::Avg, &bad_out).err().unwrap();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
    let rank3 = rt.tensor(&[3, 4, 4]).unwrap();
    let out = rt.tensor(&[2, 3]).unwrap();
    let err = squeeze(rt, &rank3, SqueezeMode::Max, &out).err().unwrap();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
    let empty = rt.tensor(&[2, 3, 0, 4]).unwrap();
    let err = squeeze(rt, &empty, SqueezeMode::Avg, &out).err().unwrap();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
}

#[test]
fn cpu_twin_rejects_bad_shapes() {
    let x = HostTensor::zeros(&[3, 4, 4]).unwrap();
    assert!(matches!(
        cpu::squeeze::squeeze(&x, SqueezeMode::Avg),
        Err(Error::Shape { .. })
    ));
    let lying = HostTensor {
        shape: vec![1, 2, 2, 2],
        data: vec![0.0; 3],
    };
    assert!(matches!(
        cpu::squeeze::squeeze(&lying, SqueezeMode::Max),
        Err(Error::Shape { .. })
    ));
    let overflowing = HostTensor {
        shape: vec![usize::MAX, 2, 1, 1],
        data: vec![],
    };
    assert!(matches!(
        cpu::squeeze::squeeze(&overflowing, SqueezeMode::Avg),
        Err(Error::InvalidArgument { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn random_shapes(n in 1usize..4, c in 1usize..40, h in 1usize..20, w in 1usize..20,
                     max in any::<bool>(), seed in 0u64..1000) {
        require!(gpu);
        let mode = if max { SqueezeMode::Max } else { SqueezeMode::Avg };
        check([n, c, h, w], mode, seed);
    }
}
