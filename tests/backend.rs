//! The backend seam: one generic function runs a model on the GPU, the CPU engine and
//! the CPU reference through the `Backend` trait, without knowing which it holds, and
//! they agree.

mod common;

use se_runtime::backend::{Backend, BackendSession, CpuEngine, Reference};
use se_runtime::{HostTensor, Inference, Model};

fn model() -> Model {
    Model::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/fashion_tiny.onnx"
    ))
    .unwrap()
}

/// Prepares `model` on `backend` for `input`'s batch and runs it once.
fn run_on(backend: &impl Backend, model: &Model, input: &HostTensor) -> Inference {
    let what = backend.name();
    let session = backend
        .prepare(model, input.shape[0])
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let name = session.plan().inputs[0].name.clone();
    pollster::block_on(session.run(&[(&name, input.clone())]))
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

fn input(model: &Model, batch: usize) -> HostTensor {
    let shape = model.plan(batch).unwrap().inputs[0].operand.shape.clone();
    let n = shape.iter().product();
    HostTensor::new(&shape, common::random(3, n, 1.0)).unwrap()
}

#[test]
fn gpu_and_reference_agree_through_the_trait() {
    let rt = require!(gpu);
    let model = model();
    let x = input(&model, 2);
    let cpu = run_on(&Reference, &model, &x);
    assert!(!cpu.excitations.is_empty(), "the model has SE blocks");
    assert_agree(&run_on(rt, &model, &x), &cpu);
}

/// The same outputs and excitations, within the kernel tolerance.
fn assert_agree(got: &Inference, want: &Inference) {
    assert_eq!(got.outputs.len(), want.outputs.len());
    for ((gn, g), (wn, w)) in got.outputs.iter().zip(&want.outputs) {
        assert_eq!(gn, wn);
        assert_eq!(g.shape, w.shape, "{gn}");
        common::assert_close(gn, &g.data, &w.data);
    }
    assert_eq!(got.excitations.len(), want.excitations.len());
    for (g, w) in got.excitations.iter().zip(&want.excitations) {
        assert_eq!((&g.block, g.channels), (&w.block, w.channels));
        common::assert_close(&g.block, &g.values.data, &w.values.data);
    }
}

#[test]
fn backends_reject_a_wrong_input_the_same_way() {
    let rt = require!(gpu);
    let model = model();
    let session = Reference.prepare(&model, 1).unwrap();
    let bad = pollster::block_on(session.run(&[("no such input", input(&model, 1))]));
    assert!(bad.is_err(), "reference accepted an unknown input");
    let session = rt.prepare(&model, 1).unwrap();
    let gpu = pollster::block_on(session.run(&[("no such input", input(&model, 1))]));
    assert_eq!(
        gpu.unwrap_err().to_string(),
        bad.unwrap_err().to_string(),
        "both backends check inputs with the shared order_inputs"
    );
}

#[test]
fn engine_and_reference_agree_through_the_trait() {
    let model = model();
    let x = input(&model, 3);
    let want = run_on(&Reference, &model, &x);
    let got = run_on(&CpuEngine::new(Some(2)).unwrap(), &model, &x);
    assert_agree(&got, &want);
}

#[test]
fn thread_counts_are_checked() {
    use se_runtime::device::parse_threads;
    assert_eq!(parse_threads(" 3 ").unwrap(), 3);
    for bad in ["0", "-1", "two", ""] {
        let e = parse_threads(bad).unwrap_err().to_string();
        assert!(
            e.contains("SE_RUNTIME_THREADS") && e.contains("1 or more"),
            "{bad}: {e}"
        );
    }
}
