//! Real pretrained SE networks from PyPI packages (fetched by
//! `tools/fetch_real_models.py`, never committed) against onnxruntime: PP-LCNet
//! document orientation, which must also read page.png correctly at all four
//! rotations, and PP-OCR's MobileNetV3 text-direction classifier (paddle2onnx export),
//! each on the GPU and on the CPU engine.

mod common;

use std::path::PathBuf;

use se_runtime::backend::{Backend, BackendSession, CpuEngine};
use se_runtime::onnx::read_tensor_proto;
use se_runtime::{CompileOptions, HostTensor, Model};

fn dir(name: &str) -> PathBuf {
    let root = std::env::var_os("SE_REAL_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/real"));
    let d = root.join(name);
    assert!(
        d.join("model.onnx").exists(),
        "{} missing: run `bash tools/test.sh` or `.venv/bin/python tools/fetch_real_models.py fixtures/real`",
        d.display()
    );
    d
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

/// Runs the model on `backend`; returns (top-1 per image, the fixture's metadata).
fn run(name: &str, backend: &impl Backend) -> (Vec<usize>, serde_json::Value) {
    let d = dir(name);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("meta.json")).unwrap()).unwrap();
    // PP-OCR leaves H and W symbolic: bind them to the size the package feeds.
    let shape: Vec<usize> = meta["input_shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let bytes = std::fs::read(d.join("model.onnx")).unwrap();
    let proto = se_runtime::onnx::decode_model(&bytes).unwrap();
    let input = proto.graph.unwrap().input[0].name.clone().unwrap();
    let options = CompileOptions {
        input_shapes: vec![(input, shape)],
        ..Default::default()
    };
    let model = Model::from_bytes_with(&bytes, options).unwrap();
    assert_eq!(
        model.info().se_blocks.len() as u64,
        meta["se_blocks"].as_u64().unwrap(),
        "{name}: SE blocks found: {:?}",
        model.info().se_blocks
    );
    let data = d.join("test_data_set_0");
    let x = read_tensor_proto(&std::fs::read(data.join("input_0.pb")).unwrap()).unwrap();
    let want = read_tensor_proto(&std::fs::read(data.join("output_0.pb")).unwrap()).unwrap();

    let session = backend.prepare(&model, x.shape[0]).unwrap();
    let input = model.info().inputs[0].name.clone();
    let result = pollster::block_on(session.run(&[(input.as_str(), x)])).unwrap();
    let got = &result.outputs[0].1;
    assert_eq!(got.shape, want.shape, "{name}: output shape");
    let diff = got
        .data
        .iter()
        .zip(&want.data)
        .map(|(g, w)| (g - w).abs() / w.abs().max(1.0))
        .fold(0f32, f32::max);
    common::report(&format!(
        "{name} on {}: max relative diff vs onnxruntime {diff:.2e}",
        backend.name()
    ));
    assert!(
        diff <= 1e-3,
        "{name}: outputs differ from onnxruntime by {diff}"
    );
    assert_eq!(
        result.excitations.len() as u64,
        meta["se_blocks"].as_u64().unwrap()
    );
    let top1 = argmax_rows(got);
    assert_eq!(
        top1,
        argmax_rows(&want),
        "{name}: top-1 differs from onnxruntime"
    );
    (top1, meta)
}

/// PP-LCNet must read page.png rotated 0/90/180/270 degrees clockwise.
fn orientation(backend: &impl Backend) {
    let (top1, meta) = run("pplcnet_orientation", backend);
    let labels: Vec<&str> = meta["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let got: Vec<&str> = top1.iter().map(|&i| labels[i]).collect();
    assert_eq!(
        got,
        ["0", "90", "180", "270"],
        "page.png rotated 0/90/180/270 clockwise"
    );
}

#[test]
fn pplcnet_orientation_reads_page_at_every_rotation() {
    orientation(require!(gpu));
}

#[test]
fn ppocr_text_direction_matches_onnxruntime() {
    run("ppocr_mbv3_cls", require!(gpu));
}

#[test]
fn the_cpu_engine_runs_the_real_models_like_onnxruntime() {
    let engine = CpuEngine::new(Some(2)).unwrap();
    orientation(&engine);
    run("ppocr_mbv3_cls", &engine);
}
