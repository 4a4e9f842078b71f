//! matmul against its CPU twin: awkward sizes around the 4x4 blocks and the tiles,
//! fully connected shapes (M = 1..32), broadcast batches, every activation, errors.

mod common;

use proptest::prelude::*;
use se_runtime::kernels::matmul::{Staging, Strategy, matmul, matmul_with};
use se_runtime::tensor::HostTensor;
use se_runtime::{Activation, Error, cpu};

fn host(shape: &[usize], seed: u64, scale: f32) -> HostTensor {
    HostTensor::new(shape, common::random(seed, shape.iter().product(), scale)).unwrap()
}

/// One GPU-vs-CPU comparison; `a` is scaled by 1/sqrt(K) so outputs stay O(1).
fn check(a_shape: &[usize], b_shape: &[usize], with_bias: bool, act: Activation, seed: u64) {
    let rt = common::gpu();
    let k = a_shape[a_shape.len() - 1];
    let n = b_shape[b_shape.len() - 1];
    let a = host(a_shape, seed, 1.0 / (k.max(1) as f32).sqrt());
    let b = host(b_shape, seed + 1, 1.0);
    let bias = with_bias.then(|| host(&[n], seed + 2, 1.0));
    let want = cpu::matmul::matmul(&a, &b, bias.as_ref(), act).unwrap();
    let (at, bt) = (rt.upload_host(&a).unwrap(), rt.upload_host(&b).unwrap());
    let biast = bias.as_ref().map(|t| rt.upload_host(t).unwrap());
    for staging in [Staging::Workgroup, Staging::Direct] {
        let out = rt.tensor(&want.shape).unwrap();
        let m = a_shape[a_shape.len() - 2];
        let strategy = Strategy::with_staging(rt.profile(), staging, m, n).unwrap();
        let d = matmul_with(rt, strategy, &at, &bt, biast.as_ref(), act, &out).unwrap();
        rt.run(&[d]).unwrap();
        let what = format!("matmul {a_shape:?} x {b_shape:?} bias {with_bias} {act:?} {staging:?}");
        common::assert_close(&what, &common::read(rt, &out), &want.data);
    }
}

#[test]
fn matmul_awkward_sizes() {
    require!(gpu);
    let cases: &[(&[usize], &[usize])] = &[
        (&[1, 1], &[1, 1]),
        (&[1, 7], &[7, 5]),
        (&[3, 5], &[5, 3]),
        (&[4, 4], &[4, 4]),
        (&[64, 64], &[64, 64]),
        (&[65, 33], &[33, 67]),
        (&[63, 17], &[17, 129]),
        (&[130, 12], &[12, 9]), // tall: 128-row tiles
        (&[9, 40], &[40, 300]), // short and wide: 16-row tiles
        (&[2, 3], &[3, 1]),     // one column
        (&[100, 1], &[1, 100]), // K = 1
        (&[5, 0], &[0, 6]),     // K = 0: just the bias
        (&[16, 19], &[19, 16]),
        (&[31, 36], &[36, 28]),
    ];
    for (i, (a, b)) in cases.iter().enumerate() {
        check(a, b, false, Activation::Identity, i as u64);
        check(a, b, true, Activation::Relu, 50 + i as u64);
    }
}

#[test]
fn matmul_fully_connected() {
    require!(gpu);
    // Gemm / FC layers: few rows, long K, many outputs.
    for (i, m) in [1, 2, 3, 5, 8, 17, 32].into_iter().enumerate() {
        check(
            &[m, 512],
            &[512, 130],
            true,
            Activation::Identity,
            100 + i as u64,
        );
    }
    check(&[1, 2048], &[2048, 1000], true, Activation::Identity, 120);
    check(&[4, 1001], &[1001, 11], true, Activation::Sigmoid, 121);
}

#[test]
fn matmul_every_activation() {
    require!(gpu);
    for (i, act) in Activation::all().into_iter().enumerate() {
        check(&[13, 21], &[21, 18], true, act, 200 + i as u64);
    }
}

#[test]
fn matmul_batches_and_broadcasts() {
    require!(gpu);
    let cases: &[(&[usize], &[usize])] = &[
        (&[3, 5, 7], &[7, 4]), // batched a, shared b
        (&[2, 3, 5, 8], &[8, 6]),
        (&[4, 6, 8], &[4, 8, 12]),   // both batched
        (&[2, 1, 5, 8], &[3, 8, 6]), // broadcast on both sides
        (&[1, 9, 4], &[5, 4, 3]),
        (&[5, 9], &[2, 9, 4]), // a broadcast over b's batch
        (&[2, 1, 3, 1, 6, 5], &[1, 2, 1, 3, 5, 7]), // four independent batch strides
        (&[2, 3, 4, 2, 3, 4], &[4, 4]), // mergeable batch dims
    ];
    for (i, (a, b)) in cases.iter().enumerate() {
        check(a, b, i % 2 == 0, Activation::Identity, 300 + i as u64);
    }
}

#[test]
fn matmul_rejects_bad_shapes() {
    let rt = require!(gpu);
    let t = |s: &[usize]| rt.tensor(s).unwrap();
    let id = Activation::Identity;
    let (a, b) = (t(&[3, 4]), t(&[4, 5]));
    let out = t(&[3, 5]);
    let cases = [
        ("rank 1", matmul(rt, &t(&[4]), &b, None, id, &out).err()),
        ("inner", matmul(rt, &a, &t(&[5, 5]), None, id, &out).err()),
        ("output", matmul(rt, &a, &b, None, id, &t(&[5, 3])).err()),
        ("bias", matmul(rt, &a, &b, Some(&t(&[3])), id, &out).err()),
        (
            "broadcast",
            matmul(rt, &t(&[2, 3, 4]), &t(&[3, 4, 5]), None, id, &t(&[2, 3, 5])).err(),
        ),
        ("alias", matmul(rt, &a, &b, None, id, &a).err()),
        (
            // Five batch dimensions that no merge can reduce.
            "batch dims",
            matmul(
                rt,
                &t(&[2, 1, 2, 1, 2, 1, 1]),
                &t(&[1, 2, 1, 2, 1, 1, 1]),
                None,
                id,
                &t(&[2, 2, 2, 2, 2, 1, 1]),
            )
            .err(),
        ),
    ];
    for (name, err) in cases {
        let err = err.unwrap_or_else(|| panic!("{name}: accepted"));
        assert!(
            matches!(err, Error::Shape { .. } | Error::InvalidArgument { .. }),
            "{name}: {err}"
        );
    }
    let h = |s: &[usize]| HostTensor::zeros(s).unwrap();
    assert!(cpu::matmul::matmul(&h(&[3, 4]), &h(&[5, 5]), None, id).is_err());
    assert!(cpu::matmul::matmul(&h(&[4]), &h(&[4, 5]), None, id).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn matmul_random(m in 1usize..40, k in 1usize..40, n in 1usize..40, batch in 1usize..3,
                     shared_b in any::<bool>(), bias in any::<bool>(), act in 0usize..9, seed in 0u64..1000) {
        require!(gpu);
        let b: Vec<usize> = if shared_b { vec![k, n] } else { vec![batch, k, n] };
        check(&[batch, m, k], &b, bias, Activation::all()[act], seed);
    }
}
