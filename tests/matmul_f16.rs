//! f16 weight storage (`matmul_f16`, `conv2d_f16`, `CompileOptions::f16_weights`): the
//! kernels against their CPU twins (the f32 kernels with the weights rounded to f16),
//! with every convolution algorithm, and whole models with
//! f16 weights against their f32 run. Each declares that it needs `shader-f16`, and is
//! skipped with a message where the adapter lacks it.

mod common;

use std::path::PathBuf;

use se_runtime::kernels::conv2d::{self, conv2d_f16};
use se_runtime::kernels::matmul::{Staging, Strategy, matmul_f16};
use se_runtime::onnx::read_tensor_proto;
use se_runtime::ops::Conv2dParams;
use se_runtime::plan::{ConvStep, Loc, StepOp};
use se_runtime::tensor::HostTensor;
use se_runtime::{Activation, CompileOptions, Model, Runtime, Session, cpu};

fn host(shape: &[usize], seed: u64, scale: f32) -> HostTensor {
    HostTensor::new(shape, common::random(seed, shape.iter().product(), scale)).unwrap()
}

fn check(rt: &Runtime, a_shape: &[usize], b_shape: &[usize], act: Activation, seed: u64) {
    let k = a_shape[a_shape.len() - 1];
    let n = b_shape[b_shape.len() - 1];
    let a = host(a_shape, seed, 1.0 / (k.max(1) as f32).sqrt());
    let b = host(b_shape, seed + 1, 1.0);
    let bias = host(&[n], seed + 2, 1.0);
    let want = cpu::matmul::matmul(&a, &cpu::matmul::round_f16(&b), Some(&bias), act).unwrap();
    let at = rt.upload_host(&a).unwrap();
    let bt = rt.upload_f16(&b.shape, &b.data).unwrap();
    let biast = rt.upload_host(&bias).unwrap();
    for staging in [Staging::Workgroup, Staging::Direct] {
        let out = rt.tensor(&want.shape).unwrap();
        let m = a_shape[a_shape.len() - 2];
        let strategy = Strategy::with_staging(rt.profile(), staging, m, n).unwrap();
        let d = matmul_f16(rt, strategy, &at, &bt, Some(&biast), act, &out).unwrap();
        rt.run(&[d]).unwrap();
        let what = format!("matmul_f16 {a_shape:?} x {b_shape:?} {act:?} {staging:?}");
        common::assert_close(&what, &common::read(rt, &out), &want.data);
    }
}

#[test]
fn matmul_f16_matches_cpu_twin() {
    let rt = require!(gpu, features = [SHADER_F16]);
    let cases: &[(&[usize], &[usize])] = &[
        (&[1, 1], &[1, 1]),
        (&[1, 7], &[7, 5]), // odd element count: the packed pair is padded
        (&[3, 5], &[5, 3]),
        (&[65, 33], &[33, 67]),
        (&[1, 64], &[64, 10]), // fully connected
        (&[9, 40], &[40, 300]),
        (&[2, 3, 12], &[12, 8]), // batch broadcast over the weights
        (&[2, 16, 19], &[2, 19, 16]),
    ];
    for (i, (a, b)) in cases.iter().enumerate() {
        check(rt, a, b, Activation::Relu, 10 * i as u64);
    }
}

#[test]
fn conv2d_f16_matches_cpu_twin() {
    let rt = require!(gpu, features = [SHADER_F16]);
    let p = |stride, pad, groups| Conv2dParams {
        stride: [stride; 2],
        padding: [pad; 4],
        groups,
        ..Default::default()
    };
    // (input, weights, params, algorithm): each path reads the weights its own way.
    let cases = [
        (
            [2, 8, 5, 6],
            [12, 8, 1, 1],
            p(1, 0, 1),
            conv2d::Strategy::Gemm1x1(Staging::Direct),
        ),
        (
            [1, 6, 4, 4],
            [6, 3, 1, 1],
            p(1, 0, 2),
            conv2d::Strategy::Gemm1x1(Staging::Workgroup),
        ),
        (
            [2, 5, 7, 7],
            [9, 5, 3, 3],
            p(1, 1, 1),
            conv2d::Strategy::ImplicitGemm(Staging::Direct),
        ),
        (
            [1, 8, 9, 8],
            [16, 8, 3, 3],
            p(2, 1, 1),
            conv2d::Strategy::ImplicitGemm(Staging::Workgroup),
        ),
        (
            [1, 6, 8, 8],
            [6, 1, 3, 3],
            p(1, 1, 6),
            conv2d::Strategy::Depthwise,
        ),
    ];
    for (i, (xs, ws, params, algo)) in cases.into_iter().enumerate() {
        let seed = 100 + 10 * i as u64;
        let k = ws[1] * ws[2] * ws[3];
        let x = host(&xs, seed, 1.0 / (k as f32).sqrt());
        let w = host(&ws, seed + 1, 1.0);
        let bias = host(&[ws[0]], seed + 2, 1.0);
        let want = cpu::conv2d::conv2d(
            &x,
            &cpu::matmul::round_f16(&w),
            Some(&bias),
            None,
            &params,
            Activation::Relu,
        )
        .unwrap();
        let (xt, bt) = (rt.upload_host(&x).unwrap(), rt.upload_host(&bias).unwrap());
        let wt = rt.upload_f16(&w.shape, &w.data).unwrap();
        let out = rt.tensor(&want.shape).unwrap();
        let d = conv2d_f16(
            rt,
            algo,
            &xt,
            &wt,
            Some(&bt),
            None,
            &params,
            Activation::Relu,
            &out,
        )
        .unwrap();
        rt.run(&[d]).unwrap();
        let what = format!("conv2d_f16 {xs:?} * {ws:?} {algo:?}");
        common::assert_close(&what, &common::read(rt, &out), &want.data);
    }
}

#[test]
fn f16_rounding_is_visible() {
    // On the data of the 65x33 * 33x67 case above, the twin differs from the f32 GEMM
    // by more than the tolerance: that comparison would fail with f32 weights.
    let a = host(&[65, 33], 30, 1.0 / 33f32.sqrt());
    let b = host(&[33, 67], 31, 1.0);
    let bias = host(&[67], 32, 1.0);
    let exact = cpu::matmul::matmul(&a, &b, Some(&bias), Activation::Relu).unwrap();
    let rounded = cpu::matmul::matmul(
        &a,
        &cpu::matmul::round_f16(&b),
        Some(&bias),
        Activation::Relu,
    )
    .unwrap();
    let diff = exact
        .data
        .iter()
        .zip(&rounded.data)
        .map(|(x, y)| (x - y).abs() / x.abs().max(1.0))
        .fold(0f32, f32::max);
    assert!(
        diff > common::RTOL,
        "f16 rounding is within the tolerance ({diff})"
    );
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

fn fixture(name: &str) -> PathBuf {
    std::env::var_os("SE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures"))
        .join(name)
}

/// The model at `path` on `x`, with f32 and with f16 weights: asserts every image's
/// top-1 class agrees and the largest logit difference relative to max(1, |logit|) is
/// under `bound`.
fn compare(rt: &Runtime, what: &str, path: &PathBuf, x: HostTensor, bound: f32) {
    let bytes = std::fs::read(path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `bash tools/test.sh`", path.display()));
    let batch = x.shape[0];
    let run = |f16_weights: bool| {
        let options = CompileOptions {
            f16_weights,
            ..Default::default()
        };
        let model = Model::from_bytes_with(&bytes, options).unwrap();
        let input = model.info().inputs[0].name.clone();
        let session = Session::new(rt, &model, batch).unwrap();
        let out = pollster::block_on(session.run(&[(input.as_str(), x.clone())])).unwrap();
        (model, out.outputs[0].1.clone(), session.weight_bytes())
    };
    let (model, full, full_bytes) = run(false);
    let (_, half, half_bytes) = run(true);
    // The f16 path must have something to do here.
    let plan = model.plan(batch).unwrap();
    let weights: Vec<usize> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.op {
            StepOp::MatMul { b: w, .. } | StepOp::Conv(ConvStep { w, .. }) => match w.loc {
                Loc::Const(c) => Some(plan.constants[c].len()),
                Loc::Buffer(_) => None,
            },
            _ => None,
        })
        .collect();
    assert!(
        !weights.is_empty(),
        "{what}: no layer with constant weights"
    );
    let all: usize = plan.constants.iter().map(|c| c.len()).sum();
    let gemm: usize = weights.iter().sum();
    assert_eq!(
        full_bytes - half_bytes,
        gemm * 2,
        "{what}: device weight bytes"
    );
    let classes = full.shape[full.shape.len() - 1];
    let argmax = |r: &[f32]| (0..r.len()).max_by(|&i, &j| r[i].total_cmp(&r[j])).unwrap();
    let agree = full
        .data
        .chunks(classes)
        .zip(half.data.chunks(classes))
        .filter(|(f, h)| argmax(f) == argmax(h))
        .count();
    let diff = full
        .data
        .iter()
        .zip(&half.data)
        .map(|(f, h)| (f - h).abs() / f.abs().max(1.0))
        .fold(0f32, f32::max);
    common::report(&format!(
        "{what}: f16 vs f32 weights on {batch} images: max relative logit diff {diff:.2e} \
         (bound {bound:.0e}), top-1 agrees on {agree}/{batch}; {} conv/matmul weight tensors \
         {:.3} MiB -> {:.3} MiB; weights on the device {:.3} MiB -> {:.3} MiB \
         (constants {:.3} MiB)",
        weights.len(),
        mib(gemm * 4),
        mib(gemm * 2),
        mib(full_bytes),
        mib(half_bytes),
        mib(all * 4),
    ));
    assert!(
        diff > 0.0,
        "{what}: f16 weights changed no logit: path not taken?"
    );
    assert!(diff < bound, "{what}: logits moved by {diff}");
    assert_eq!(agree, batch, "{what}: top-1 class changed");
}

#[test]
fn default_model_f16_weights_accuracy() {
    let rt = require!(gpu, features = [SHADER_F16]);
    let dir = fixture("fashion/test_data_set_0");
    let x = read_tensor_proto(&std::fs::read(dir.join("input_0.pb")).unwrap_or_else(|e| {
        panic!("fashion fixture: {e}: run `bash tools/test.sh` (tools/fashion_reference.py)")
    }))
    .unwrap();
    let model = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/models/fashion_se_resnet.onnx"
    ));
    compare(rt, "default model", &model, x, 1e-2);
}

#[test]
fn se_resnet_f16_weights_accuracy() {
    let rt = require!(gpu, features = [SHADER_F16]);
    let dir = fixture("se_resnet");
    let x =
        read_tensor_proto(&std::fs::read(dir.join("test_data_set_0/input_0.pb")).unwrap()).unwrap();
    compare(rt, "se_resnet", &dir.join("model.onnx"), x, 1e-2);
}

#[test]
fn f16_weights_fail_without_shader_f16() {
    let rt = require!(gpu, lacks = [SHADER_F16]);
    let model = Model::from_bytes_with(
        &std::fs::read(fixture("se_resnet/model.onnx")).unwrap(),
        CompileOptions {
            f16_weights: true,
            ..Default::default()
        },
    )
    .unwrap();
    let err = Session::new(rt, &model, 1).unwrap_err();
    assert!(err.to_string().contains("shader-f16"), "{err}");
}
