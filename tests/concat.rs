//! concat against its CPU twin.

mod common;

use proptest::prelude::*;
use se_runtime::kernels::concat::concat;
use se_runtime::ops::concat::concat_shape;
use se_runtime::tensor::HostTensor;
use se_runtime::{Error, cpu};

fn inputs(shapes: &[&[usize]], seed: u64) -> Vec<HostTensor> {
    shapes
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let data = common::random(seed + i as u64, s.iter().product(), 2.0);
            HostTensor::new(s, data).unwrap()
        })
        .collect()
}

fn gpu_concat(xs: &[HostTensor], axis: usize) -> Vec<f32> {
    let rt = common::gpu();
    let ts: Vec<_> = xs.iter().map(|x| rt.upload_host(x).unwrap()).collect();
    let refs: Vec<_> = ts.iter().collect();
    let shapes: Vec<&[usize]> = xs.iter().map(|x| x.shape.as_slice()).collect();
    let y = rt.tensor(&concat_shape(&shapes, axis).unwrap()).unwrap();
    rt.run(&concat(rt, &refs, axis, &y).unwrap()).unwrap();
    common::read(rt, &y)
}

fn check(shapes: &[&[usize]], axis: usize, seed: u64) {
    let xs = inputs(shapes, seed);
    let refs: Vec<_> = xs.iter().collect();
    let want = cpu::concat::concat(&refs, axis).unwrap();
    let got = gpu_concat(&xs, axis);
    common::assert_close(&format!("concat {shapes:?} axis {axis}"), &got, &want.data);
}

#[test]
fn three_inputs_along_channels() {
    require!(gpu);
    check(&[&[2, 3, 4, 5], &[2, 1, 4, 5], &[2, 6, 4, 5]], 1, 1);
    check(&[&[1, 1024, 2, 2], &[1, 1024, 2, 2]], 1, 2);
}

#[test]
fn three_inputs_along_batch() {
    require!(gpu);
    check(&[&[1, 3, 2, 2], &[2, 3, 2, 2], &[3, 3, 2, 2]], 0, 3);
}

#[test]
fn along_spatial_axes_with_odd_sizes() {
    require!(gpu);
    check(&[&[2, 3, 5, 7], &[2, 3, 5, 1], &[2, 3, 5, 3]], 3, 4);
    check(&[&[1, 2, 1, 3], &[1, 2, 4, 3]], 2, 5);
}

#[test]
fn one_input_many_inputs_and_rank_one() {
    require!(gpu);
    check(&[&[3, 4]], 0, 6);
    check(&[&[3, 4]], 1, 7);
    let many: Vec<Vec<usize>> = (1..=10).map(|c| vec![2, c, 3]).collect();
    let many: Vec<&[usize]> = many.iter().map(|s| s.as_slice()).collect();
    check(&many, 1, 8);
    check(&[&[5], &[1], &[7]], 0, 9);
}

#[test]
fn empty_inputs_are_skipped() {
    require!(gpu);
    check(&[&[2, 3, 4], &[2, 0, 4], &[2, 2, 4]], 1, 10);
    check(&[&[0, 3], &[2, 3]], 0, 11);
}

#[test]
fn worked_example() {
    require!(gpu);
    let a = HostTensor::new(&[2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    let b = HostTensor::new(&[2, 1], vec![5.0, 6.0]).unwrap();
    let want = [1.0, 2.0, 5.0, 3.0, 4.0, 6.0];
    assert_eq!(cpu::concat::concat(&[&a, &b], 1).unwrap().data, want);
    let gpu = gpu_concat(&[a.clone(), b.clone()], 1);
    assert_eq!(gpu, want);
    let want = [1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0];
    assert_eq!(cpu::concat::concat(&[&a, &a], 0).unwrap().data, want);
}

#[test]
fn the_same_tensor_twice() {
    let rt = require!(gpu);
    let x = HostTensor::new(&[2, 3], common::random(12, 6, 1.0)).unwrap();
    let t = rt.upload_host(&x).unwrap();
    let y = rt.tensor(&[2, 6]).unwrap();
    rt.run(&concat(rt, &[&t, &t], 1, &y).unwrap()).unwrap();
    let want = cpu::concat::concat(&[&x, &x], 1).unwrap();
    common::assert_close("concat x,x", &common::read(rt, &y), &want.data);
}

#[test]
fn bad_inputs_give_typed_errors() {
    let rt = require!(gpu);
    let shape_err = |shapes: &[&[usize]], axis| match concat_shape(shapes, axis) {
        Err(Error::Shape { .. }) => {}
        other => panic!("{shapes:?} axis {axis}: {other:?}"),
    };
    let invalid = |shapes: &[&[usize]], axis| match concat_shape(shapes, axis) {
        Err(Error::InvalidArgument { .. }) => {}
        other => panic!("{shapes:?} axis {axis}: {other:?}"),
    };
    invalid(&[], 0);
    invalid(&[&[2, 3]], 2);
    invalid(&[&[]], 0);
    invalid(&[&[usize::MAX], &[1]], 0);
    shape_err(&[&[2, 3], &[2, 3, 1]], 1);
    shape_err(&[&[2, 3], &[3, 3]], 1);
    shape_err(&[&[2, 3, 4], &[2, 3]], 1);
    let x = HostTensor::zeros(&[2, 3]).unwrap();
    assert!(cpu::concat::concat(&[], 0).is_err());
    assert!(cpu::concat::concat(&[&x], 2).is_err());

    let (a, b) = (rt.tensor(&[2, 3]).unwrap(), rt.tensor(&[2, 4]).unwrap());
    let y = rt.tensor(&[2, 8]).unwrap();
    assert!(matches!(
        concat(rt, &[&a, &b], 1, &y),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        concat(rt, &[&a, &b], 0, &y),
        Err(Error::Shape { .. })
    ));
    let y = rt.tensor(&[2, 7]).unwrap();
    assert!(concat(rt, &[&a, &b], 1, &y).is_ok());
    let r = concat(rt, &[&a, &y], 1, &y);
    assert!(matches!(r, Err(Error::Shape { .. })), "{:?}", r.err());
    let r = concat(rt, &[&a], 1, &a);
    assert!(
        matches!(r, Err(Error::InvalidArgument { .. })),
        "{:?}",
        r.err()
    );
}

/// A base shape, an axis and the axis length of each of 1..5 inputs.
fn concat_case() -> impl Strategy<Value = (Vec<usize>, usize, Vec<usize>)> {
    prop::collection::vec(1usize..5, 1..5).prop_flat_map(|shape| {
        let rank = shape.len();
        (Just(shape), 0..rank, prop::collection::vec(0usize..5, 1..5))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn random_concats((base, axis, lens) in concat_case(), seed in 0u64..1000) {
        require!(gpu);
        let shapes: Vec<Vec<usize>> = lens
            .iter()
            .map(|&n| {
                let mut s = base.clone();
                s[axis] = n;
                s
            })
            .collect();
        let shapes: Vec<&[usize]> = shapes.iter().map(|s| s.as_slice()).collect();
        check(&shapes, axis, seed);
    }
}
