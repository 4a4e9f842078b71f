//! The reduce kernel (any axes) against its CPU twin, every kind, on awkward shapes:
//! the channel axis, leading and inner axes, all axes, odd sizes, 1x1 planes, rank 5.

mod common;

use se_runtime::cpu;
use se_runtime::kernels::reduce::reduce;
use se_runtime::ops::reduce::{ReduceKind, reduced_shape};
use se_runtime::tensor::HostTensor;

fn check(shape: &[usize], axes: &[usize], kind: ReduceKind, seed: u64) {
    let rt = common::gpu();
    let n = shape.iter().product();
    let mut data = common::random(seed, n, 2.0);
    // Products and logarithms of sums stay finite and defined on values near 1.
    if matches!(kind, ReduceKind::Prod | ReduceKind::LogSum) {
        data.iter_mut().for_each(|v| *v = 1.0 + *v / 4.0);
    }
    let x = HostTensor::new(shape, data).unwrap();
    let want = cpu::reduce::reduce(&x, kind, axes).unwrap();
    assert_eq!(want.shape, reduced_shape(shape, axes, true));
    let xt = rt.upload_host(&x).unwrap();
    let yt = rt.tensor(&want.shape).unwrap();
    rt.run(&[reduce(rt, &xt, kind, axes, &yt).unwrap()])
        .unwrap();
    let what = format!("{kind:?} {shape:?} axes {axes:?}");
    common::assert_close(&what, &common::read(rt, &yt), &want.data);
}

#[test]
fn every_kind_over_awkward_axes() {
    require!(gpu);
    let cases: &[(&[usize], &[usize])] = &[
        (&[2, 3, 5, 5], &[1]),
        (&[2, 3, 5, 5], &[2, 3]),
        (&[2, 3, 5, 5], &[0, 2]),
        (&[2, 3, 5, 5], &[0, 1, 2, 3]),
        (&[1, 7, 1, 1], &[1]),
        (&[3, 1, 4], &[1]),
        (&[9], &[0]),
        (&[2, 3, 2, 1, 3], &[0, 4]),
    ];
    for (i, kind) in ReduceKind::ALL.into_iter().enumerate() {
        for (j, (shape, axes)) in cases.iter().enumerate() {
            check(shape, axes, kind, (i * 31 + j) as u64);
        }
    }
}

#[test]
fn the_walk_visits_each_input_once() {
    // Sums of distinct powers of two: any element read twice or skipped shows.
    let x = HostTensor::new(&[2, 3, 2], (0..12).map(|i| (1u32 << i) as f32).collect()).unwrap();
    let y = cpu::reduce::reduce(&x, ReduceKind::Sum, &[0, 2]).unwrap();
    let direct: Vec<f32> = (0..3)
        .map(|c| {
            let mut s = 0.0;
            for n in 0..2 {
                for w in 0..2 {
                    s += x.data[n * 6 + c * 2 + w];
                }
            }
            s
        })
        .collect();
    assert_eq!(y.shape, [1, 3, 1]);
    assert_eq!(y.data, direct);
}

#[test]
fn rejects_bad_axes_and_outputs() {
    let rt = require!(gpu);
    let x = rt.tensor(&[2, 3]).unwrap();
    let y = rt.tensor(&[2]).unwrap();
    let err = reduce(rt, &x, ReduceKind::Sum, &[2], &y).err().unwrap();
    assert!(err.to_string().contains("axes"), "{err}");
    let err = reduce(rt, &x, ReduceKind::Sum, &[0], &y).err().unwrap();
    assert!(err.to_string().contains("reduce output"), "{err}");
}
