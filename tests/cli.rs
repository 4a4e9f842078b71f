//! End-to-end tests of the `se-runtime` program: every subcommand on the tiny models in
//! tests/data (made by tools/make_cli_models.py), including how it fails on bad input.

mod cli_common;
mod common;

use std::path::Path;

use cli_common::*;
use npyz::WriterBuilder;
use predicates::prelude::*;
use serde_json::Value;

#[test]
fn info_shows_adapters_limits_and_features() {
    require!(gpu);
    se_runtime()
        .arg("info")
        .assert()
        .success()
        .stdout(predicate::str::contains("Chosen:"))
        .stdout(predicate::str::contains("max_storage_buffer_binding_size"))
        .stdout(predicate::str::contains("TIMESTAMP_QUERY"));
}

#[test]
fn bad_command_lines_exit_2() {
    se_runtime().arg("frobnicate").assert().code(2);
    se_runtime()
        .args(["--backend", "nope", "info"])
        .assert()
        .code(2);
    se_runtime()
        .args(["--threads", "0", "info"])
        .assert()
        .code(2);
    se_runtime().args(["classify"]).assert().code(2);
    se_runtime()
        .args(["classify", "--batch", "0", "x.png"])
        .assert()
        .code(2);
    se_runtime()
        .args(["classify", "--top", "0", "x.png"])
        .assert()
        .code(2);
}

#[test]
fn classify_a_folder_as_json_lines() {
    require!(gpu);
    let dir = image_folder();
    let out = se_runtime()
        .args(["classify", "--json", "--top", "4", "--batch", "3"])
        .arg(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("images/s"))
        .get_output()
        .stdout
        .clone();
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 4);
    let labels = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ];
    for line in &lines {
        let top = line["top"].as_array().unwrap();
        assert_eq!(top.len(), 4, "{line}");
        let p: Vec<f64> = top
            .iter()
            .map(|t| t["probability"].as_f64().unwrap())
            .collect();
        assert!(p.windows(2).all(|w| w[0] >= w[1]), "{line}");
        assert!(p.iter().sum::<f64>() <= 1.0 + 1e-5 && p[0] > 0.0, "{line}");
        for t in top {
            let i = t["index"].as_u64().unwrap() as usize;
            assert_eq!(t["label"], labels[i]);
        }
    }
    // The same pixels in PNG, BMP and WebP classify alike (one of them runs in the
    // last, smaller batch, where kernels may sum in another order).
    let same: Vec<&Vec<Value>> = lines
        .iter()
        .filter(|l| l["file"].as_str().unwrap().contains("same."))
        .map(|l| l["top"].as_array().unwrap())
        .collect();
    assert_eq!(same.len(), 3);
    for top in &same[1..] {
        assert_same_top(top, same[0], 1e-5);
    }
}

#[test]
fn batching_does_not_change_results() {
    require!(gpu);
    let dir = image_folder();
    let run = |batch: &str| {
        let out = se_runtime()
            .args(["classify", "--json", "--batch", batch])
            .arg(dir.path())
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        json_lines(&out)
    };
    let (one, three) = (run("1"), run("3"));
    for (a, b) in one.iter().zip(&three) {
        assert_eq!(a["file"], b["file"]);
        for (x, y) in a["top"]
            .as_array()
            .unwrap()
            .iter()
            .zip(b["top"].as_array().unwrap())
        {
            assert_eq!(x["index"], y["index"]);
            let (p, q) = (
                x["probability"].as_f64().unwrap(),
                y["probability"].as_f64().unwrap(),
            );
            assert!((p - q).abs() < 1e-4, "{a} vs {b}");
        }
    }
}

#[test]
fn classify_prints_a_table_by_default() {
    require!(gpu);
    let dir = image_folder();
    let file = dir.path().join("same.png");
    se_runtime()
        .args(["classify", "-k", "2"])
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains(file.display().to_string()))
        .stdout(predicate::str::is_match(r"(?m)^  \S.*\s+\d+\.\d\d%").unwrap());
}

#[test]
fn a_model_without_metadata_uses_its_input_shape() {
    require!(gpu);
    let dir = image_folder();
    se_runtime()
        .args(["classify", "--json", "--model"])
        .arg(data("rgb_nometa.onnx"))
        .arg(dir.path().join("other.jpg"))
        .assert()
        .success()
        .stdout(predicate::str::contains("\"label\":\"class "));
}

#[test]
fn bad_images_fail_one_by_one() {
    require!(gpu);
    let dir = image_folder();
    let text = dir.path().join("notes.png");
    std::fs::write(&text, "this is not a picture").unwrap();
    let corrupt = dir.path().join("broken.png");
    let png = std::fs::read(dir.path().join("same.png")).unwrap();
    std::fs::write(&corrupt, &png[..png.len() / 2]).unwrap();
    let missing = dir.path().join("missing.png");

    for (file, problem) in [
        (&missing, "No such file"),
        (&text, "not an image"),
        (&corrupt, "corrupt"),
    ] {
        let assert = se_runtime().arg("classify").arg(file).assert().code(1);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&file.display().to_string()), "{stderr}");
        assert!(stderr.contains(problem), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }

    // In a batch the good files still run, and the exit code says some failed.
    let good = dir.path().join("same.png");
    let assert = se_runtime()
        .args(["classify", "--json"])
        .args([&good, &missing, &corrupt, &text])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("3 of 4 inputs failed"))
        .stderr(no_panic());
    let lines = json_lines(&assert.get_output().stdout);
    assert_eq!(lines.len(), 4);
    assert_eq!(lines.iter().filter(|l| l.get("top").is_some()).count(), 1);
    assert_eq!(lines.iter().filter(|l| l.get("error").is_some()).count(), 3);
}

#[test]
fn models_that_do_not_fit_are_refused() {
    require!(gpu);
    let dir = image_folder();
    let img = dir.path().join("same.png");
    // Preprocessing that disagrees with the model's 28x28 gray input.
    se_runtime()
        .args(["classify", "--size", "30,30"])
        .arg(&img)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("expects 28x28 pixels"))
        .stderr(predicate::str::contains(
            "fashion_se_resnet.onnx (embedded)",
        ));
    se_runtime()
        .args(["classify", "--channels", "rgb"])
        .arg(&img)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("expects 1 channels"));
    // Not an image model at all.
    let flat = data("flat_input.onnx");
    se_runtime()
        .args(["classify", "--model"])
        .arg(&flat)
        .arg(&img)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("flat_input.onnx"))
        .stderr(predicate::str::contains("not an image batch"));
    // Unsupported operators: all of them are named.
    se_runtime()
        .args(["classify", "--model"])
        .arg(data("unsupported.onnx"))
        .arg(&img)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("Einsum"))
        .stderr(predicate::str::contains("Det"))
        .stderr(no_panic());
    // A file that is not a model.
    se_runtime()
        .args(["classify", "--model"])
        .arg(&img)
        .arg(&img)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("same.png"))
        .stderr(no_panic());
}

#[test]
fn excitations_writes_json_and_a_heatmap() {
    require!(gpu);
    let dir = image_folder();
    let out = dir.path().join("exc");
    se_runtime()
        .args(["excitations", "--out"])
        .arg(&out)
        .arg(dir.path().join("same.png"))
        .assert()
        .success()
        .stdout(predicate::str::contains("3 SE blocks"));
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("excitations.json")).unwrap())
            .unwrap();
    let blocks = doc["blocks"].as_array().unwrap();
    // The embedded model's three SE blocks, widening through the network.
    assert_eq!(blocks.len(), 3);
    let channels: Vec<u64> = blocks
        .iter()
        .map(|b| b["channels"].as_u64().unwrap())
        .collect();
    assert!(channels.windows(2).all(|w| w[0] < w[1]), "{channels:?}");
    for b in blocks {
        let values = b["values"].as_array().unwrap();
        assert_eq!(values.len() as u64, b["channels"].as_u64().unwrap());
        // Sigmoid gates.
        assert!(
            values
                .iter()
                .all(|v| (0.0..=1.0).contains(&v.as_f64().unwrap()))
        );
    }
    let png = image::open(out.join("excitations.png")).unwrap();
    assert!(png.width() > 700 && png.height() > 150);

    se_runtime()
        .args(["excitations", "--out"])
        .arg(&out)
        .arg(dir.path().join("missing.png"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("missing.png"));
}

#[test]
fn run_writes_outputs_and_excitations_as_npy() {
    require!(gpu);
    let dir = tempfile::tempdir().unwrap();
    let x = dir.path().join("x.npy");
    let values = common::random(5, 2 * 28 * 28, 1.0);
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&[2, 1, 28, 28])
        .writer(std::fs::File::create(&x).unwrap())
        .begin_nd()
        .unwrap();
    w.extend(values).unwrap();
    w.finish().unwrap();

    let out = dir.path().join("out");
    let model = data("fashion_tiny.onnx");
    se_runtime()
        .arg("run")
        .arg(&model)
        .arg("--input")
        .arg(&x)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let outputs = summary["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 1);
    assert_eq!(outputs[0]["shape"], serde_json::json!([2, 10]));
    let excitations = summary["excitations"].as_array().unwrap();
    assert_eq!(excitations.len(), 2);
    for e in outputs.iter().chain(excitations) {
        let file = out.join(e["file"].as_str().unwrap());
        let npy = npyz::NpyFile::new(std::fs::File::open(&file).unwrap()).unwrap();
        let shape: Vec<u64> = npy.shape().to_vec();
        assert_eq!(serde_json::json!(shape), e["shape"]);
        let v: Vec<f32> = npy.into_vec().unwrap();
        assert!(v.iter().all(|x| x.is_finite()));
    }

    // Wrong shape, unknown input name, missing file.
    let bad = dir.path().join("bad.npy");
    npyz::to_file_1d(&bad, [1.0f32, 2.0]).unwrap();
    se_runtime()
        .arg("run")
        .arg(&model)
        .args(["--input"])
        .arg(&bad)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("bad.npy"))
        .stderr(predicate::str::contains("does not fit input"));
    se_runtime()
        .arg("run")
        .arg(&model)
        .arg("--input")
        .arg(format!("nope={}", x.display()))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no input 'nope'"));
    se_runtime()
        .arg("run")
        .arg(&model)
        .args(["--input", "absent.npy", "--out"])
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("absent.npy"));
}

#[test]
fn inspect_describes_the_model() {
    se_runtime()
        .arg("inspect")
        .arg(data("fashion_tiny.onnx"))
        .assert()
        .success()
        .stdout(predicate::str::contains("SE blocks (2)"))
        .stdout(predicate::str::contains("MACs"))
        .stdout(predicate::str::contains("se_runtime.input_size = 28,28"))
        .stdout(predicate::str::contains("Unsupported: none"));
}

#[test]
fn inspect_lists_every_unsupported_node() {
    se_runtime()
        .arg("inspect")
        .arg(data("unsupported.onnx"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("Einsum"))
        .stdout(predicate::str::contains("Det"))
        .stderr(predicate::str::contains("2 unsupported"));
    se_runtime()
        .arg("inspect")
        .arg(data("missing.onnx"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("missing.onnx"));
}

#[test]
fn bench_reports_latency_and_layer_times() {
    let rt = require!(gpu);
    let assert = se_runtime()
        .args(["bench", "--iters", "3", "--warmup", "1", "--batch", "2"])
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(r"median \d+\.\d+ ms, p10 \d+\.\d+ ms, p90 \d+\.\d+ ms")
                .unwrap(),
        )
        .stdout(predicate::str::contains("images/s"));
    if rt.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
        assert.stdout(
            predicate::str::is_match(r"SE blocks: 3 blocks, \d+\.\d+ ms = \d+\.\d% ").unwrap(),
        );
    }
}

#[test]
fn bench_json_compares_two_models() {
    let rt = require!(gpu);
    let out = se_runtime()
        .args([
            "bench",
            "--iters",
            "2",
            "--warmup",
            "0",
            "--json",
            "--peak",
            "--compare",
        ])
        .arg(data("fashion_tiny.onnx"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let models = v["models"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    for m in models {
        assert_eq!(m["latency_ms"]["all"].as_array().unwrap().len(), 2);
        let b = &m["memory_bytes"];
        let parts = ["activations", "weights", "staging"].map(|k| b[k].as_u64().unwrap());
        assert_eq!(b["total"].as_u64().unwrap(), parts.iter().sum::<u64>());
        assert!(b["activations"].as_u64() <= b["activations_unshared"].as_u64());
    }
    assert!(v["paired"]["latency_ratio_median"].as_f64().unwrap() > 0.0);
    assert!(v["matmul_peak"]["gflops"].as_f64().unwrap() > 0.0);
    if rt.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
        // The embedded model: 3 SE blocks, convolutions with their MACs and GFLOP/s.
        let layers = models[0]["layers"].as_array().unwrap();
        assert_eq!(layers.iter().filter(|l| l["se_block"] == true).count(), 3);
        assert!(
            layers
                .iter()
                .any(|l| l["macs"].as_u64().unwrap() > 0 && l["gflops"].as_f64().is_some())
        );
    }
}

/// The README's main-job command (`cargo run --release -- ARGS`), run from the
/// repository root exactly as written there.
#[test]
fn readme_first_command_runs() {
    require!(gpu);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("cargo run --release -- "))
        .expect("the README shows a `cargo run --release -- ...` command");
    let args: Vec<&str> = line["cargo run --release -- ".len()..]
        .split_whitespace()
        .collect();
    assert_eq!(args[0], "classify", "{line}");
    let out = se_runtime()
        .current_dir(root)
        .args(&args)
        .assert()
        .success()
        .stderr(no_panic())
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8_lossy(&out);
    let file = args.last().unwrap();
    assert!(stdout.contains(file), "{stdout}");
    // The sample's name holds its true class (`0_ankle_boot.png`); the trained model
    // gets this one right, so the table's first row must name it.
    let first = stdout.lines().nth(1).unwrap().trim();
    assert_eq!(
        file_label(first.split("  ").next().unwrap()),
        true_label(file),
        "{stdout}"
    );
}

/// `Ankle boot` -> `ankle_boot`, the spelling of the sample file names.
fn file_label(label: &str) -> String {
    label
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect()
}

/// `samples/fashion/0_ankle_boot.png` -> `ankle_boot`.
fn true_label(file: &str) -> String {
    let stem = Path::new(file).file_stem().unwrap().to_string_lossy();
    stem.split_once('_').unwrap().1.to_string()
}

/// The embedded model on all 20 samples agrees with ONNX Runtime's results recorded in
/// samples/fashion/README.md: 18 right, and the two misses with their probabilities.
#[test]
fn the_embedded_model_matches_onnx_runtime_on_the_samples() {
    require!(gpu);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = se_runtime()
        .current_dir(root)
        .args(["classify", "--json", "--top", "1", "samples/fashion"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 20);
    let mut misses = Vec::new();
    for l in &lines {
        let file = l["file"].as_str().unwrap();
        let top = &l["top"][0];
        let label = file_label(top["label"].as_str().unwrap());
        if label != true_label(file) {
            let name = Path::new(file)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string();
            misses.push((name, label, top["probability"].as_f64().unwrap()));
        }
    }
    misses.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(misses.len(), 2, "{misses:?}");
    let expected = [
        ("23_ankle_boot.png", "sandal", 0.68),
        ("4_shirt.png", "t_shirt_top", 0.51),
    ];
    for ((name, label, p), (want_name, want_label, want_p)) in misses.iter().zip(expected) {
        assert_eq!((name.as_str(), label.as_str()), (want_name, want_label));
        assert!((p - want_p).abs() < 0.006, "{name}: p = {p}");
    }
}
