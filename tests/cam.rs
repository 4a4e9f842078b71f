//! Class activation maps (issue 16): against numpy's, made by tools/fashion_reference.py
//! from onnxruntime's last feature map and the linear layer's weights, on the GPU, on
//! the CPU executor and through `se-runtime run --cam top1`.

#[macro_use]
mod common;

use std::path::PathBuf;

use assert_cmd::Command;
use se_runtime::cam::FEATURES;
use se_runtime::{CompileOptions, CpuSession, Error, HostTensor, Model, Session};

const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/fashion_se_resnet.onnx");

/// `SE_FIXTURES/<name>` when `file` is in it, or what is missing.
fn fixture(name: &str, file: &str) -> Result<PathBuf, String> {
    let dir = std::env::var_os("SE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures"))
        .join(name);
    match dir.join(file).exists() {
        true => Ok(dir),
        false => Err(format!(
            "{} missing (run tools/make_fixtures.py and tools/fashion_reference.py)",
            dir.join(file).display()
        )),
    }
}

fn fashion() -> Result<PathBuf, String> {
    fixture("fashion", "cam_reference.npy")
}

fn npy<T: npyz::Deserialize>(path: PathBuf) -> (Vec<usize>, Vec<T>) {
    let file = npyz::NpyFile::new(std::fs::File::open(&path).unwrap()).unwrap();
    let shape = file.shape().iter().map(|&d| d as usize).collect();
    (shape, file.into_vec().unwrap())
}

fn cam_model(cam: bool) -> se_runtime::Result<Model> {
    let options = CompileOptions {
        cam,
        ..CompileOptions::default()
    };
    Model::from_bytes_with(&std::fs::read(MODEL).unwrap(), options)
}

/// The per-element check the whole-model tests use against onnxruntime.
fn assert_matches(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}");
    let scale = want.iter().fold(1f32, |m, v| m.max(v.abs()));
    let worst = got
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(
        worst <= 1e-3 * scale,
        "{what}: max |diff| {worst} (scale {scale})"
    );
}

fn top1(logits: &HostTensor) -> Vec<usize> {
    let k = *logits.shape.last().unwrap();
    logits
        .data
        .chunks(k)
        .map(|row| se_runtime::preprocess::top_k(row, 1)[0].0)
        .collect()
}

#[test]
fn maps_match_numpy_on_the_gpu_and_the_cpu() {
    let dir = require!(fashion());
    let rt = require!(gpu);
    let (shape, x) = npy::<f32>(dir.join("cam_input.npy"));
    let (_, want) = npy::<f32>(dir.join("cam_reference.npy"));
    let (_, classes) = npy::<i64>(dir.join("cam_classes.npy"));
    let classes: Vec<usize> = classes.into_iter().map(|c| c as usize).collect();
    let model = cam_model(true).unwrap();
    let head = model.cam().expect("compiled with cam");
    assert_eq!(head.classes(), 10);
    let x = HostTensor::new(&shape, x).unwrap();
    let name = model.info().inputs[0].name.clone();
    let feed = [(name.as_str(), x)];
    let gpu = pollster::block_on(Session::new(rt, &model, shape[0]).unwrap().run(&feed)).unwrap();
    let cpu = pollster::block_on(CpuSession::new(&model, shape[0]).unwrap().run(&feed)).unwrap();
    for (backend, mut r) in [("gpu", gpu), ("cpu", cpu)] {
        assert_eq!(top1(&r.outputs[0].1), classes, "{backend}: top-1 classes");
        let maps = head.maps(&mut r.outputs, &classes).unwrap();
        assert_eq!(maps.shape, vec![shape[0], 7, 7], "{backend}");
        assert_matches(backend, &maps.data, &want);
        assert!(
            r.outputs.iter().all(|(n, _)| n != FEATURES),
            "{backend}: the feature map was taken out"
        );
    }
}

#[test]
fn without_the_option_no_feature_map_is_read_back() {
    let model = cam_model(false).unwrap();
    assert!(model.cam().is_none());
    let plan = model.plan(1).unwrap();
    assert_eq!(plan.outputs.len(), model.info().outputs.len());
    assert!(plan.outputs.iter().all(|o| o.name != FEATURES));
}

#[test]
fn a_head_other_than_pooling_then_one_linear_layer_is_named() {
    let dir = require!(fixture("mobilenet_v3", "model.onnx"));
    let bytes = std::fs::read(dir.join("model.onnx")).unwrap();
    let options = CompileOptions {
        cam: true,
        ..CompileOptions::default()
    };
    match Model::from_bytes_with(&bytes, options) {
        Err(Error::NoCam { found }) => {
            // MobileNetV3's classifier: pooling, a linear layer with hard-swish, then
            // the last linear layer.
            assert!(found.contains("not global average pooling"), "{found}");
        }
        other => panic!("expected Error::NoCam, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn run_writes_the_top1_map_as_cam_npy() {
    let dir = require!(fashion());
    require!(gpu);
    let out = tempfile::tempdir().unwrap();
    Command::cargo_bin("se-runtime")
        .unwrap()
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .args(["run", MODEL, "--cam", "top1", "--out"])
        .arg(out.path())
        .arg("--input")
        .arg(dir.join("cam_input.npy"))
        .assert()
        .success();
    let (shape, got) = npy::<f32>(out.path().join("cam.npy"));
    let (want_shape, want) = npy::<f32>(dir.join("cam_reference.npy"));
    assert_eq!(shape, want_shape);
    assert_matches("cam.npy", &got, &want);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("summary.json")).unwrap())
            .unwrap();
    let (_, classes) = npy::<i64>(dir.join("cam_classes.npy"));
    assert_eq!(summary["cam"]["classes"], serde_json::json!(classes));
    // The feature map is not written as an output of its own.
    assert_eq!(summary["outputs"].as_array().unwrap().len(), 1);
}
