//! The committed default model (models/fashion_se_resnet.onnx) on the full
//! Fashion-MNIST test set (Debian's dataset-fashion-mnist), run by se-runtime on the
//! GPU through the same preprocessing as the program and the page: its accuracy must
//! be the one its metrics file reports, within 0.1 points, and its logits must match
//! onnxruntime's on the first 64 images (tools/fashion_reference.py).

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};

use se_runtime::onnx::read_tensor_proto;
use se_runtime::preprocess::{ImageRef, Preprocess};
use se_runtime::{HostTensor, Model, Session};

const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/fashion_se_resnet.onnx");
const DATA: &str = "/usr/share/datasets/fashion-mnist";
const BATCH: usize = 500;

/// The payload of a gzipped IDX file after its magic and `dims` sizes.
fn idx(path: &Path, dims: usize) -> Vec<u8> {
    let mut bytes = vec![];
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; install Debian's dataset-fashion-mnist (tools/test.sh does)",
            path.display()
        )
    }))
    .read_to_end(&mut bytes)
    .unwrap();
    bytes.split_off(4 + 4 * dims)
}

/// Grey 28x28 images as RGBA, preprocessed by the model's metadata.
fn batch(model: &Model, pixels: &[u8]) -> HostTensor {
    let pre = Preprocess::from_metadata(&model.info().metadata).unwrap();
    let rgba: Vec<Vec<u8>> = pixels
        .chunks(28 * 28)
        .map(|img| img.iter().flat_map(|&v| [v, v, v, 255]).collect())
        .collect();
    let refs: Vec<ImageRef> = rgba
        .iter()
        .map(|p| ImageRef::new(28, 28, p).unwrap())
        .collect();
    pre.to_tensor(&refs).unwrap()
}

fn argmax(row: &[f32]) -> usize {
    (0..row.len())
        .max_by(|&a, &b| row[a].total_cmp(&row[b]))
        .unwrap()
}

#[test]
fn default_model_matches_onnxruntime_on_a_sample() {
    let rt = require!(gpu);
    let model = Model::from_file(MODEL).unwrap();
    assert_eq!(
        model.info().se_blocks.len(),
        3,
        "SE blocks: {:?}",
        model.info().se_blocks
    );
    let dir = std::env::var_os("SE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures"))
        .join("fashion/test_data_set_0");
    let read = |f: &str| {
        read_tensor_proto(&std::fs::read(dir.join(f)).unwrap_or_else(|e| {
            panic!("{f}: {e}: run `bash tools/test.sh` (it runs tools/fashion_reference.py)")
        }))
        .unwrap()
    };
    let (x, want) = (read("input_0.pb"), read("output_0.pb"));
    // The reference input was preprocessed in Python: the Rust preprocessing must agree.
    let pixels = idx(&Path::new(DATA).join("t10k-images-idx3-ubyte.gz"), 3);
    let ours = batch(&model, &pixels[..64 * 28 * 28]);
    let pre_diff = ours
        .data
        .iter()
        .zip(&x.data)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(
        pre_diff < 1e-5,
        "preprocessing differs from the Python reference by {pre_diff}"
    );

    let session = Session::new(rt, &model, 64).unwrap();
    let got = pollster::block_on(session.run(&[("image", ours)])).unwrap();
    let logits = &got.outputs[0].1;
    let diff = logits
        .data
        .iter()
        .zip(&want.data)
        .map(|(g, w)| (g - w).abs() / w.abs().max(1.0))
        .fold(0f32, f32::max);
    common::report(&format!(
        "default model vs onnxruntime on 64 images: max relative logit diff {diff:.2e}"
    ));
    assert!(diff <= 1e-3, "logits differ from onnxruntime by {diff}");
    for (g, w) in logits.data.chunks(10).zip(want.data.chunks(10)) {
        assert_eq!(argmax(g), argmax(w));
    }
}

#[test]
fn default_model_accuracy_on_the_full_test_set() {
    let rt = require!(gpu);
    let model = Model::from_file(MODEL).unwrap();
    let metrics: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/models/fashion_se_resnet.metrics.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let reported = metrics["test_accuracy"].as_f64().unwrap();
    let pixels = idx(&Path::new(DATA).join("t10k-images-idx3-ubyte.gz"), 3);
    let labels = idx(&Path::new(DATA).join("t10k-labels-idx1-ubyte.gz"), 1);
    assert_eq!(labels.len(), 10_000);
    let session = Session::new(rt, &model, BATCH).unwrap();
    let mut correct = 0;
    for (imgs, labs) in pixels.chunks(BATCH * 28 * 28).zip(labels.chunks(BATCH)) {
        let x = batch(&model, imgs);
        let out = pollster::block_on(session.run(&[("image", x)])).unwrap();
        correct += out.outputs[0]
            .1
            .data
            .chunks(10)
            .zip(labs)
            .filter(|(row, l)| argmax(row) == **l as usize)
            .count();
    }
    let accuracy = 100.0 * correct as f64 / labels.len() as f64;
    common::report(&format!(
        "se-runtime accuracy on the 10,000 test images: {accuracy:.2}% (reported {reported:.2}%)"
    ));
    assert!(
        (accuracy - reported).abs() <= 0.1,
        "accuracy {accuracy:.2}% vs reported {reported:.2}%"
    );
}
