//! Whole SE networks against onnxruntime: the fixtures of `tools/make_fixtures.py`
//! (seven architecture families, seeded random weights, calibrated so the SE gates
//! matter), run on the GPU, on the CPU reference executor and on the CPU engine
//! (the `engine` module: no GPU needed).
//!
//! Pass criteria per fixture: every logit within 1e-3 * max(1, |ref|), the same top-1
//! for every image, every SE block detected, and every excitation vector within the
//! same tolerance of onnxruntime's gate values.

mod common;

use std::path::PathBuf;

use se_runtime::backend::{Backend, CpuEngine};
use se_runtime::onnx::read_tensor_proto;
use se_runtime::{CpuSession, HostTensor, Inference, Model, Session};

const TOL: f32 = 1e-3;

fn fixtures_dir() -> PathBuf {
    std::env::var_os("SE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures"))
}

struct Fixture {
    model: Model,
    input: HostTensor,
    output: HostTensor,
    excitations: Vec<HostTensor>,
    meta: serde_json::Value,
}

fn load(name: &str) -> Fixture {
    let dir = fixtures_dir().join(name);
    assert!(
        dir.join("model.onnx").exists(),
        "fixture {name} missing in {}: run `bash tools/test.sh`, or \
         `.venv/bin/python tools/make_fixtures.py fixtures` after installing tools/requirements.txt",
        dir.display()
    );
    let data = dir.join("test_data_set_0");
    let pb = |f: &str| read_tensor_proto(&std::fs::read(data.join(f)).unwrap()).unwrap();
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    let blocks = meta["se_blocks"].as_u64().unwrap() as usize;
    Fixture {
        model: Model::from_file(dir.join("model.onnx")).unwrap(),
        input: pb("input_0.pb"),
        output: pb("output_0.pb"),
        excitations: (0..blocks)
            .map(|i| pb(&format!("excitation_{i}.pb")))
            .collect(),
        meta,
    }
}

/// Largest |got - want| / max(1, |want|).
fn max_rel_diff(got: &HostTensor, want: &HostTensor, what: &str) -> f32 {
    assert_eq!(got.shape, want.shape, "{what}: shape");
    got.data
        .iter()
        .zip(&want.data)
        .map(|(g, w)| (g - w).abs() / w.abs().max(1.0))
        .fold(0.0, f32::max)
}

fn argmax_rows(t: &HostTensor) -> Vec<usize> {
    let cols = *t.shape.last().unwrap();
    t.data
        .chunks(cols)
        .map(|row| {
            (0..cols)
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap()
        })
        .collect()
}

fn check(name: &str, f: &Fixture, result: &Inference, backend: &str) -> f32 {
    let logits = &result.outputs[0].1;
    let d = max_rel_diff(logits, &f.output, &format!("{name} {backend} logits"));
    assert!(
        d <= TOL,
        "{name} {backend}: logits differ by {d} (relative)"
    );
    assert_eq!(
        argmax_rows(logits),
        argmax_rows(&f.output),
        "{name} {backend}: top-1"
    );
    assert_eq!(
        result.excitations.len(),
        f.excitations.len(),
        "{name}: SE blocks"
    );
    let mut worst = d;
    for (i, (got, want)) in result.excitations.iter().zip(&f.excitations).enumerate() {
        let e = max_rel_diff(
            &got.values,
            want,
            &format!("{name} {backend} excitation {i}"),
        );
        assert!(
            e <= TOL,
            "{name} {backend}: excitation {i} ({}) differs by {e}",
            got.block
        );
        worst = worst.max(e);
    }
    worst
}

fn golden(name: &str) {
    let rt = require!(gpu);
    let f = load(name);
    let info = f.model.info();
    assert_eq!(
        info.se_blocks.len(),
        f.excitations.len(),
        "{name}: SE blocks detected {:?}",
        info.se_blocks.iter().map(|b| &b.name).collect::<Vec<_>>()
    );
    // The fixture must be able to fail: a runtime that flattened every gate to its
    // channel mean would move the logits this far.
    let sensitivity = f.meta["gate_sensitivity"].as_f64().unwrap() as f32;
    let scale = f.output.data.iter().fold(1f32, |m, v| m.max(v.abs()));
    assert!(
        sensitivity > 100.0 * TOL * scale,
        "{name}: gates move the logits by only {sensitivity}"
    );

    let batch = f.input.shape[0];
    let input_name = info.inputs[0].name.clone();
    let inputs = [(input_name.as_str(), f.input.clone())];
    let cpu = CpuSession::new(&f.model, batch).unwrap();
    let cpu_diff = check(
        name,
        &f,
        &pollster::block_on(cpu.run(&inputs)).unwrap(),
        "cpu",
    );

    let session = Session::new(rt, &f.model, batch).unwrap();
    let gpu_diff = check(
        name,
        &f,
        &pollster::block_on(session.run(&inputs)).unwrap(),
        "gpu",
    );
    common::report(&format!(
        "{name}: {} SE blocks, max relative diff vs onnxruntime: gpu {gpu_diff:.2e}, cpu {cpu_diff:.2e}; \
         gate sensitivity {sensitivity:.3}",
        f.excitations.len()
    ));
}

/// The fixture on the CPU engine (2 threads, so its split kernels run) against
/// onnxruntime, with the same criteria as the GPU.
fn golden_engine(name: &str) {
    let f = load(name);
    let batch = f.input.shape[0];
    let input_name = f.model.info().inputs[0].name.clone();
    let engine = CpuEngine::new(Some(2)).unwrap();
    let session = engine.prepare(&f.model, batch).unwrap();
    assert!(
        session.fast_steps() > 0,
        "{name}: no step ran on the engine's kernels"
    );
    let result = pollster::block_on(session.run(&[(input_name.as_str(), f.input.clone())]));
    let diff = check(name, &f, &result.unwrap(), "cpu engine");
    common::report(&format!(
        "{name}: engine ({} of {} steps on its kernels) max relative diff vs onnxruntime {diff:.2e}",
        session.fast_steps(),
        session.plan().steps.len()
    ));
}

macro_rules! golden_tests {
    ($($name:ident),* $(,)?) => {
        $(#[test] fn $name() { golden(stringify!($name)); })*
        mod engine {
            $(#[test] fn $name() { super::golden_engine(stringify!($name)); })*
        }
    };
}

golden_tests!(
    se_resnet,
    se_resnet_gemm,
    se_resnext,
    se_vgg,
    se_inception,
    se_mobilenet,
    mobilenet_v3,
    mobilenet_v3_paddle,
    efficientnet,
);
