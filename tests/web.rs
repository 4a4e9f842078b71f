//! Browser tests (wasm32 only): the same kernels on the browser's WebGPU (SwiftShader in
//! headless Chromium) against the CPU references compiled into the same module, and the
//! JavaScript-facing API. Run by tools/test-web.sh through wasm-bindgen-test-runner.
#![cfg(target_arch = "wasm32")]

use se_runtime::kernels::binary::{BinaryOp, binary};
use se_runtime::kernels::unary::unary;
use se_runtime::{Activation, HostTensor, Runtime, cpu};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The tolerance of tests/common: |gpu - cpu| <= 1e-4 * max(1, |cpu|).
fn assert_close(what: &str, gpu: &[f32], cpu: &[f32]) {
    assert_eq!(gpu.len(), cpu.len(), "{what}: length");
    for (i, (&g, &c)) in gpu.iter().zip(cpu).enumerate() {
        let ok = (g - c).abs() <= 1e-4 * c.abs().max(1.0) || (g.is_nan() && c.is_nan());
        assert!(ok, "{what}: element {i}: gpu {g} vs cpu {c}");
    }
}

/// Deterministic uniform values in [-scale, scale) (the SplitMix64 of tests/common).
fn random(seed: u64, n: usize, scale: f32) -> Vec<f32> {
    let mut s = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

fn host(shape: &[usize], seed: u64, scale: f32) -> HostTensor {
    HostTensor::new(shape, random(seed, shape.iter().product(), scale)).unwrap()
}

/// The browser's WebGPU runtime; the test runner starts Chromium with
/// --enable-unsafe-webgpu (webdriver.json), so a missing adapter is a failure here.
async fn runtime() -> Runtime {
    Runtime::new()
        .await
        .expect("WebGPU adapter (is Chromium started with --enable-unsafe-webgpu?)")
}

#[wasm_bindgen_test]
async fn adapter_is_browser_webgpu() {
    let rt = runtime().await;
    assert_eq!(rt.adapter_info().backend, wgpu::Backend::BrowserWebGpu);
}

#[wasm_bindgen_test]
async fn unary_matches_cpu() {
    let rt = runtime().await;
    for (i, act) in Activation::all().into_iter().enumerate() {
        for len in [1, 257, 1031] {
            let x = host(&[len], i as u64 * 7 + len as u64, 8.0);
            let (xt, yt) = (rt.upload_host(&x).unwrap(), rt.tensor(&[len]).unwrap());
            rt.run(&[unary(&rt, &xt, act, &yt).unwrap()]).unwrap();
            let want = cpu::unary::unary(&x, act);
            let got = yt.read(&rt).await.unwrap();
            assert_close(&format!("unary {act:?} len {len}"), &got, &want.data);
        }
    }
}

#[wasm_bindgen_test]
async fn binary_broadcast_matches_cpu() {
    let rt = runtime().await;
    let cases: &[(&[usize], &[usize])] = &[
        (&[2, 3, 5, 5], &[1, 3, 1, 1]),
        (&[4, 1], &[1, 6]),
        (&[3, 1, 7], &[2, 1]),
    ];
    for (i, (a, b)) in cases.iter().enumerate() {
        for op in [BinaryOp::Add, BinaryOp::Mul] {
            let (a, b) = (host(a, i as u64, 2.0), host(b, 50 + i as u64, 2.0));
            let want = cpu::binary::binary(op, &a, &b, Activation::Relu).unwrap();
            let (at, bt) = (rt.upload_host(&a).unwrap(), rt.upload_host(&b).unwrap());
            let out = rt.tensor(&want.shape).unwrap();
            rt.run(&[binary(&rt, op, &at, &bt, Activation::Relu, &out).unwrap()])
                .unwrap();
            let got = out.read(&rt).await.unwrap();
            assert_close(&format!("{op:?} {:?} {:?}", a.shape, b.shape), &got, &want.data);
        }
    }
}
