//! LayerNormalization against its CPU twin: the channel axis and trailing ones, odd
//! row lengths, more rows than a workgroup, a single-value scale, no bias.

mod common;

use se_runtime::cpu;
use se_runtime::kernels::layer_norm::layer_norm;
use se_runtime::tensor::HostTensor;

fn check(shape: &[usize], axis: usize, param_len: usize, with_bias: bool, seed: u64) {
    let rt = common::gpu();
    let n = shape.iter().product();
    let x = HostTensor::new(shape, common::random(seed, n, 3.0)).unwrap();
    let scale = HostTensor::new(&[param_len], common::random(seed + 1, param_len, 2.0)).unwrap();
    let bias = HostTensor::new(&[param_len], common::random(seed + 2, param_len, 1.0)).unwrap();
    let bias = with_bias.then_some(&bias);
    let (want, mean, inv) = cpu::layer_norm::layer_norm(&x, &scale, bias, axis, 1e-5).unwrap();
    let (xt, st) = (rt.upload_host(&x).unwrap(), rt.upload_host(&scale).unwrap());
    let bt = bias.map(|b| rt.upload_host(b).unwrap());
    let yt = rt.tensor(shape).unwrap();
    let stats = [
        rt.tensor(&mean.shape).unwrap(),
        rt.tensor(&inv.shape).unwrap(),
    ];
    let d = layer_norm(
        rt,
        &xt,
        &st,
        bt.as_ref(),
        axis,
        1e-5,
        &yt,
        [&stats[0], &stats[1]],
    );
    rt.run(&[d.unwrap()]).unwrap();
    let what = format!("layer_norm {shape:?} axis {axis} params {param_len} bias {with_bias}");
    common::assert_close(&what, &common::read(rt, &yt), &want.data);
    common::assert_close(
        &format!("{what} mean"),
        &common::read(rt, &stats[0]),
        &mean.data,
    );
    common::assert_close(
        &format!("{what} 1/std"),
        &common::read(rt, &stats[1]),
        &inv.data,
    );
}

#[test]
fn awkward_shapes_on_both() {
    require!(gpu);
    check(&[2, 7, 5, 5], 1, 175, true, 1);
    check(&[2, 7, 5, 5], 3, 5, true, 2);
    check(&[2, 7, 5, 5], 3, 1, false, 3);
    check(&[3, 1], 1, 1, true, 4);
    check(&[2, 9, 9, 3], 3, 3, true, 5);
    check(&[1, 1, 1, 1], 0, 1, false, 6);
}

#[test]
fn rows_come_out_standardised() {
    let x = HostTensor::new(&[4, 6], common::random(9, 24, 5.0)).unwrap();
    let one = HostTensor::new(&[1], vec![1.0]).unwrap();
    let (y, _, _) = cpu::layer_norm::layer_norm(&x, &one, None, 1, 0.0).unwrap();
    for row in y.data.chunks(6) {
        let mean = row.iter().sum::<f32>() / 6.0;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / 6.0;
        assert!(mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4, "{row:?}");
    }
}

#[test]
fn bad_parameters_are_typed_errors() {
    let rt = require!(gpu);
    let (x, y) = (rt.tensor(&[2, 3]).unwrap(), rt.tensor(&[2, 3]).unwrap());
    let s = rt.tensor(&[2]).unwrap();
    let stats = [&rt.tensor(&[2]).unwrap(), &rt.tensor(&[2]).unwrap()];
    let err = layer_norm(rt, &x, &s, None, 1, 1e-5, &y, stats)
        .err()
        .unwrap();
    assert!(err.to_string().contains("layer_norm parameter"), "{err}");
    let err = layer_norm(rt, &x, &s, None, 2, 1e-5, &y, stats)
        .err()
        .unwrap();
    assert!(err.to_string().contains("axis 2"), "{err}");
    let one = rt.tensor(&[1]).unwrap();
    let err = layer_norm(rt, &x, &one, None, 1, 1e-5, &y, [&one, &one])
        .err()
        .unwrap();
    assert!(err.to_string().contains("statistics"), "{err}");
}
