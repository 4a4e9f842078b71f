//! Timestamp profiling: per-group GPU times, and the groups' work really done.

mod common;

use se_runtime::kernels::unary::unary;
use se_runtime::tensor::HostTensor;
use se_runtime::{Activation, Model, Session, cpu};

#[test]
fn each_group_is_timed_and_runs() {
    let rt = require!(gpu, features = [TIMESTAMP_QUERY]);
    // A chain x -> y -> z in two groups, the second of two dispatches, and an empty one.
    let len = 1 << 16;
    let x = HostTensor::new(&[len], common::random(1, len, 4.0)).unwrap();
    let xt = rt.upload_host(&x).unwrap();
    let (yt, zt, wt) = (
        rt.tensor(&[len]).unwrap(),
        rt.tensor(&[len]).unwrap(),
        rt.tensor(&[len]).unwrap(),
    );
    let first = [unary(rt, &xt, Activation::Relu, &yt).unwrap()];
    let second = [
        unary(rt, &yt, Activation::Sigmoid, &zt).unwrap(),
        unary(rt, &zt, Activation::Tanh, &wt).unwrap(),
    ];
    let times = pollster::block_on(rt.submit_timed(&[&first, &second, &[]])).unwrap();
    assert_eq!(times.len(), 3);
    assert!(
        times.iter().all(|t| t.is_finite() && *t >= 0.0),
        "{times:?}"
    );
    assert!(times[0] > 0.0 && times[1] > 0.0, "{times:?}");

    let want = [Activation::Relu, Activation::Sigmoid, Activation::Tanh]
        .into_iter()
        .fold(x, |t, act| cpu::unary::unary(&t, act));
    common::assert_close("profiled chain", &common::read(rt, &wt), &want.data);
}

#[test]
fn more_groups_than_one_query_set_holds() {
    let rt = require!(gpu, features = [TIMESTAMP_QUERY]);
    let x = rt.upload(&[4], &[1.0, -2.0, 3.0, -4.0]).unwrap();
    let y = rt.tensor(&[4]).unwrap();
    let d = [unary(rt, &x, Activation::Relu, &y).unwrap()];
    let groups: Vec<&[_]> = (0..2100).map(|_| &d[..]).collect();
    let times = pollster::block_on(rt.submit_timed(&groups)).unwrap();
    assert_eq!(times.len(), 2100);
    assert_eq!(common::read(rt, &y), [1.0, 0.0, 3.0, 0.0]);
}

#[test]
fn a_session_times_every_step_of_its_plan() {
    let rt = require!(gpu, features = [TIMESTAMP_QUERY]);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/fashion_tiny.onnx");
    let model = Model::from_file(path).unwrap();
    let session = Session::new(rt, &model, 2).unwrap();
    let x = HostTensor::new(&[2, 1, 28, 28], common::random(3, 2 * 28 * 28, 1.0)).unwrap();
    let inputs = [("input", x)];
    let times = pollster::block_on(session.profile(&inputs)).unwrap();
    assert_eq!(times.len(), session.plan().steps.len());
    assert!(times.iter().all(|t| t.is_finite() && *t > 0.0), "{times:?}");
    // The session still runs normally afterwards.
    let out = pollster::block_on(session.run(&inputs)).unwrap();
    assert_eq!(out.outputs[0].1.shape, vec![2, 10]);
    assert_eq!(out.excitations.len(), 2);
}
