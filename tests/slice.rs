//! The strided-copy kernel (Slice, Split) against its CPU twin on awkward boxes:
//! negative and clamped bounds, steps of 2, 3 and negative ones, the channel axis,
//! 1x1 planes, rank 5; and the ONNX range rules against a direct reading of them.

mod common;

use se_runtime::cpu;
use se_runtime::kernels::slice::{slice, split};
use se_runtime::ops::slice::SliceAxis;
use se_runtime::tensor::HostTensor;

fn input(shape: &[usize], seed: u64) -> HostTensor {
    HostTensor::new(shape, common::random(seed, shape.iter().product(), 3.0)).unwrap()
}

/// `(start, end, step)` per dimension of `shape`, ONNX style.
fn check(shape: &[usize], ranges: &[(i64, i64, i64)], seed: u64) {
    let rt = common::gpu();
    let x = input(shape, seed);
    let axes: Vec<SliceAxis> = shape
        .iter()
        .zip(ranges)
        .map(|(&d, &(s, e, st))| SliceAxis::onnx(d, s, e, st))
        .collect();
    let want = cpu::slice::slice(&x, &axes).unwrap();
    let (xt, yt) = (rt.upload_host(&x).unwrap(), rt.tensor(&want.shape).unwrap());
    rt.run(&[slice(rt, &xt, &axes, &yt).unwrap()]).unwrap();
    let what = format!("slice {shape:?} {ranges:?}");
    common::assert_close(&what, &common::read(rt, &yt), &want.data);
}

const ALL: (i64, i64, i64) = (0, i64::MAX, 1);

#[test]
fn slices_on_both() {
    require!(gpu);
    check(&[2, 7, 5, 5], &[ALL, (1, 6, 2), ALL, ALL], 1);
    check(
        &[2, 7, 5, 5],
        &[ALL, (-1, i64::MIN, -1), (4, 0, -3), ALL],
        2,
    );
    check(
        &[2, 7, 5, 5],
        &[(1, 2, 1), (-100, 100, 3), (-2, -1, 1), (2, 3, 1)],
        3,
    );
    check(&[1, 3, 1, 1], &[ALL, (2, 0, -1), ALL, ALL], 4);
    check(&[9], &[(8, -10, -2)], 5);
    check(
        &[2, 3, 4, 5, 3],
        &[(1, 0, -1), ALL, (1, 4, 2), (-3, 5, 1), (0, 3, 2)],
        6,
    );
}

#[test]
fn onnx_ranges_clamp_and_step() {
    let idx = |d, s, e, st| SliceAxis::onnx(d, s, e, st).indices();
    // numpy: list(range(7))[1:6:2], [-1::-1], [100:], [-100:2], [5:1:-2], [::-3]
    assert_eq!(idx(7, 1, 6, 2), [1, 3, 5]);
    assert_eq!(idx(7, -1, i64::MIN, -1), [6, 5, 4, 3, 2, 1, 0]);
    assert!(idx(7, 100, i64::MAX, 1).is_empty());
    assert_eq!(idx(7, -100, 2, 1), [0, 1]);
    assert_eq!(idx(7, 5, 1, -2), [5, 3]);
    assert_eq!(idx(7, i64::MAX, i64::MIN, -3), [6, 3, 0]);
    assert!(idx(0, 0, 1, -1).is_empty());
}

fn check_split(shape: &[usize], axis: usize, sizes: &[usize], seed: u64) {
    let rt = common::gpu();
    let x = input(shape, seed);
    let want = cpu::slice::split(&x, axis, sizes).unwrap();
    let xt = rt.upload_host(&x).unwrap();
    let ys: Vec<_> = want.iter().map(|w| rt.tensor(&w.shape).unwrap()).collect();
    let refs: Vec<_> = ys.iter().collect();
    rt.run(&split(rt, &xt, axis, &refs).unwrap()).unwrap();
    // The parts put back together are the input.
    let mut joined = vec![];
    for (k, (y, w)) in ys.iter().zip(&want).enumerate() {
        let what = format!("split {shape:?} axis {axis} part {k}");
        common::assert_close(&what, &common::read(rt, y), &w.data);
        joined.push(w);
    }
    assert_eq!(cpu::concat::concat(&joined, axis).unwrap().data, x.data);
}

#[test]
fn splits_on_both() {
    require!(gpu);
    check_split(&[2, 7, 3, 3], 1, &[3, 1, 3], 10);
    check_split(&[2, 6, 5, 5], 1, &[2, 2, 2], 11);
    check_split(&[4, 5], 0, &[1, 3], 12);
    check_split(&[2, 3, 5], 2, &[4, 1], 13);
    check_split(&[1, 5, 1, 1], 1, &[5], 14);
}

#[test]
fn bad_boxes_and_parts_are_typed_errors() {
    let rt = require!(gpu);
    let x = rt.tensor(&[2, 3]).unwrap();
    let y = rt.tensor(&[2, 2]).unwrap();
    let past = [
        SliceAxis::whole(2),
        SliceAxis {
            start: 2,
            step: 1,
            len: 2,
        },
    ];
    let err = slice(rt, &x, &past, &y).err().unwrap();
    assert!(err.to_string().contains("outside"), "{err}");
    let err = slice(rt, &x, &[SliceAxis::whole(2)], &y).err().unwrap();
    assert!(err.to_string().contains("ranges"), "{err}");
    let a = rt.tensor(&[2, 1]).unwrap();
    let err = split(rt, &x, 1, &[&a, &a]).err().unwrap();
    assert!(err.to_string().contains("parts"), "{err}");
    let h = HostTensor::zeros(&[2, 3]).unwrap();
    assert!(cpu::slice::split(&h, 2, &[1, 1]).is_err());
}
