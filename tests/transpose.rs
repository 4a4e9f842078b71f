//! transpose against its CPU twin, plus round trips checked without the twin.

mod common;

use proptest::prelude::*;
use se_runtime::kernels::transpose::transpose;
use se_runtime::ops::transpose::transpose_shape;
use se_runtime::tensor::HostTensor;
use se_runtime::{Error, cpu};

fn gpu_transpose(x: &HostTensor, perm: &[usize]) -> Vec<f32> {
    let rt = common::gpu();
    let xt = rt.upload_host(x).unwrap();
    let y = rt
        .tensor(&transpose_shape(&x.shape, perm).unwrap())
        .unwrap();
    rt.run(&[transpose(rt, &xt, perm, &y).unwrap()]).unwrap();
    common::read(rt, &y)
}

/// Compares GPU and CPU; returns the input and the GPU output.
fn check(shape: &[usize], perm: &[usize], seed: u64) -> (HostTensor, HostTensor) {
    let x = HostTensor::new(shape, common::random(seed, shape.iter().product(), 2.0)).unwrap();
    let want = cpu::transpose::transpose(&x, perm).unwrap();
    let got = gpu_transpose(&x, perm);
    common::assert_close(&format!("transpose {shape:?} {perm:?}"), &got, &want.data);
    let got = HostTensor::new(&want.shape, got).unwrap();
    (x, got)
}

fn inverse(perm: &[usize]) -> Vec<usize> {
    let mut inv = vec![0; perm.len()];
    for (d, &a) in perm.iter().enumerate() {
        inv[a] = d;
    }
    inv
}

/// Transposes on the GPU and back; the result must be the input, bit for bit.
fn check_round_trip(shape: &[usize], perm: &[usize], seed: u64) {
    let (x, y) = check(shape, perm, seed);
    let back = gpu_transpose(&y, &inverse(perm));
    assert_eq!(back, x.data, "round trip {shape:?} {perm:?}");
}

#[test]
fn rank2() {
    require!(gpu);
    check_round_trip(&[3, 5], &[1, 0], 1);
    check_round_trip(&[1, 7], &[1, 0], 2);
    check_round_trip(&[64, 33], &[1, 0], 3);
    check(&[4, 6], &[0, 1], 4);
}

#[test]
fn nchw_to_nhwc_and_back() {
    require!(gpu);
    check_round_trip(&[2, 3, 5, 7], &[0, 2, 3, 1], 5);
    check_round_trip(&[2, 5, 7, 3], &[0, 3, 1, 2], 6);
    check_round_trip(&[1, 2048, 2, 3], &[0, 2, 3, 1], 7);
    check_round_trip(&[3, 1, 1, 1], &[0, 2, 3, 1], 8);
    check_round_trip(&[2, 4, 3, 3], &[1, 0, 2, 3], 9);
}

#[test]
fn rank4_every_permutation() {
    require!(gpu);
    let mut perms = Vec::new();
    for a in 0..4 {
        for b in 0..4 {
            for c in 0..4 {
                for d in 0..4 {
                    let p = [a, b, c, d];
                    if (0..4).all(|v| p.contains(&v)) {
                        perms.push(p);
                    }
                }
            }
        }
    }
    assert_eq!(perms.len(), 24);
    for (i, p) in perms.iter().enumerate() {
        check(&[2, 3, 4, 5], p, 10 + i as u64);
    }
}

#[test]
fn rank6() {
    require!(gpu);
    check_round_trip(&[2, 3, 1, 2, 3, 2], &[5, 4, 3, 2, 1, 0], 40);
    check_round_trip(&[2, 3, 4, 2, 3, 2], &[1, 3, 5, 0, 2, 4], 41);
    check_round_trip(&[3, 2, 2, 3, 2, 2], &[4, 5, 0, 1, 2, 3], 42);
}

#[test]
fn low_ranks() {
    require!(gpu);
    check(&[7], &[0], 50);
    check(&[], &[], 51);
}

#[test]
fn worked_example() {
    require!(gpu);
    let x = HostTensor::new(&[2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    let want = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];
    assert_eq!(cpu::transpose::transpose(&x, &[1, 0]).unwrap().data, want);
    let gpu = gpu_transpose(&x, &[1, 0]);
    assert_eq!(gpu, want);
}

#[test]
fn more_workgroups_than_one_grid_dimension_holds() {
    require!(gpu);
    check(&[4100, 4100], &[1, 0], 60);
}

#[test]
fn bad_permutations_give_typed_errors() {
    let rt = require!(gpu);
    for (shape, perm) in [
        (&[2, 3][..], &[0, 0][..]),
        (&[2, 3], &[0, 2]),
        (&[2, 3], &[0]),
        (&[2, 3], &[1, 0, 2]),
        (&[1, 1, 1, 1, 1, 1, 1], &[0, 1, 2, 3, 4, 5, 6]),
    ] {
        let r = transpose_shape(shape, perm);
        assert!(
            matches!(r, Err(Error::InvalidArgument { .. })),
            "{perm:?}: {r:?}"
        );
        let x = HostTensor::zeros(shape).unwrap();
        assert!(cpu::transpose::transpose(&x, perm).is_err());
    }
    let (x, y) = (rt.tensor(&[2, 3]).unwrap(), rt.tensor(&[2, 3]).unwrap());
    assert!(matches!(
        transpose(rt, &x, &[1, 0], &y),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        transpose(rt, &x, &[1, 1], &y),
        Err(Error::InvalidArgument { .. })
    ));
    let r = transpose(rt, &x, &[0, 1], &x);
    assert!(
        matches!(r, Err(Error::InvalidArgument { .. })),
        "{:?}",
        r.err()
    );
}

fn shape_and_perm() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    prop::collection::vec(1usize..5, 1..=6).prop_flat_map(|shape| {
        let axes: Vec<usize> = (0..shape.len()).collect();
        (Just(shape), Just(axes).prop_shuffle())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn random_transposes((shape, perm) in shape_and_perm(), seed in 0u64..1000) {
        require!(gpu);
        check_round_trip(&shape, &perm, seed);
    }
}
