//! The `se-runtime` program on its CPU engine: chosen by default where no GPU driver
//! exists, classifying like the GPU with `--backend cpu`, and `bench` reporting it.

mod cli_common;
mod common;

use cli_common::*;
use predicates::prelude::*;
use serde_json::Value;

#[test]
fn without_any_gpu_driver_the_cpu_engine_runs_by_default() {
    without_gpu_drivers()
        .arg("info")
        .assert()
        .success()
        .stdout(predicate::str::contains("Runs on: cpu engine"))
        .stdout(predicate::str::contains("no GPU adapter found"));
    let dir = image_folder();
    let out = without_gpu_drivers()
        .args(["classify", "--json", "--top", "3"])
        .arg(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("cpu engine"))
        .get_output()
        .stdout
        .clone();
    assert_eq!(json_lines(&out).len(), 4);
}

#[test]
fn the_cpu_engine_classifies_like_the_gpu() {
    require!(gpu);
    let dir = image_folder();
    let top = |backend: &str| {
        let out = se_runtime()
            .args([
                "--backend",
                backend,
                "--threads",
                "2",
                "classify",
                "--json",
                "--top",
                "3",
            ])
            .arg(dir.path())
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        json_lines(&out)
            .into_iter()
            .map(|l| l["top"].clone())
            .collect::<Vec<_>>()
    };
    let (cpu, gpu) = (top("cpu"), top("gpu"));
    assert_eq!(cpu.len(), gpu.len());
    for (c, g) in cpu.iter().zip(&gpu) {
        assert_same_top(c.as_array().unwrap(), g.as_array().unwrap(), 1e-4);
    }
}

#[test]
fn bench_on_the_cpu_engine_reports_its_backend_and_layers() {
    let out = without_gpu_drivers()
        .args([
            "--backend",
            "cpu",
            "--threads",
            "1",
            "bench",
            "--iters",
            "3",
            "--warmup",
            "1",
            "--json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["backend"]["name"], "cpu");
    assert_eq!(v["backend"]["threads"], 1);
    let m = &v["models"][0];
    assert_eq!(m["latency_ms"]["runs"], 3);
    assert!(m["latency_ms"]["median"].as_f64().unwrap() > 0.0);
    let layers = m["layers"].as_array().unwrap();
    assert_eq!(layers.len(), m["steps"].as_u64().unwrap() as usize);
    assert!(layers.iter().any(|l| l["kernel"] == "se-fused"), "{m}");
    assert!(m["fast_steps"].as_u64().unwrap() > 0);
}
