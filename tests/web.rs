//! Browser tests (wasm32 only): the same kernels on the browser's WebGPU (SwiftShader in
//! headless Chromium) against the CPU references compiled into the same module, and the
//! JavaScript-facing API. Run by tools/test-web.sh through wasm-bindgen-test-runner.
#![cfg(target_arch = "wasm32")]

use se_runtime::kernels::binary::binary;
use se_runtime::kernels::conv2d::{self, conv2d_with};
use se_runtime::kernels::matmul::{Staging, matmul};
use se_runtime::kernels::pool::{avg_pool2d, max_pool2d};
use se_runtime::kernels::softmax::softmax;
use se_runtime::kernels::unary::unary;
use se_runtime::ops::BinaryOp;
use se_runtime::ops::Conv2dParams;
use se_runtime::ops::Pool2dParams;
use se_runtime::web::WebRuntime;
use se_runtime::{
    Activation, CpuSession, HostTensor, Model, Runtime, SeBlock, Session, SqueezeMode, cpu,
};
use wasm_bindgen::{JsCast, JsValue};
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

/// Every shader compiles in the browser's own WGSL compiler, which is stricter than
/// naga (uniformity of barriers, constant infinities). The subgroup shader is left out:
/// it needs `enable subgroups;`, which naga rejects natively, and browsers never run it
/// (`AdapterProfile::subgroups` is `None` there).
#[wasm_bindgen_test]
async fn every_shader_compiles_in_the_browser() {
    let rt = runtime().await;
    let f16 = rt.features().contains(wgpu::Features::SHADER_F16);
    for shader in se_runtime::kernels::SHADERS {
        if shader.name.contains("subgroup") || (shader.name.contains("f16") && !f16) {
            continue;
        }
        let module = rt
            .device()
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(shader.name),
                source: wgpu::ShaderSource::Wgsl(shader.source.into()),
            });
        let info = module.get_compilation_info().await;
        let errors: Vec<String> = info
            .messages
            .iter()
            .filter(|m| m.message_type == wgpu::CompilationMessageType::Error)
            .map(|m| format!("{:?}: {}", m.location, m.message))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", shader.name);
    }
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
            assert_close(
                &format!("{op:?} {:?} {:?}", a.shape, b.shape),
                &got,
                &want.data,
            );
        }
    }
}

/// Each convolution algorithm and operand staging on a shape it applies to: every
/// conv entry point with the workgroup sizes SwiftShader must accept (256 at most).
#[wasm_bindgen_test]
async fn conv2d_algorithms_match_cpu() {
    let rt = runtime().await;
    let p = |stride: usize, pad: usize, groups: usize| Conv2dParams {
        stride: [stride; 2],
        padding: [pad; 4],
        groups,
        ..Conv2dParams::default()
    };
    let cases = [
        (
            conv2d::Strategy::Gemm1x1(Staging::Workgroup),
            [2, 5, 7, 6],
            [9, 5, 1, 1],
            p(1, 0, 1),
        ),
        (
            conv2d::Strategy::Gemm1x1(Staging::Direct),
            [1, 5, 7, 6],
            [9, 5, 1, 1],
            p(1, 0, 1),
        ),
        (
            conv2d::Strategy::ImplicitGemm(Staging::Workgroup),
            [1, 3, 9, 9],
            [8, 3, 3, 3],
            p(2, 1, 1),
        ),
        (
            conv2d::Strategy::ImplicitGemm(Staging::Direct),
            [2, 6, 5, 5],
            [6, 3, 3, 3],
            p(1, 1, 2),
        ),
        (
            conv2d::Strategy::Depthwise,
            [1, 12, 8, 8],
            [12, 1, 3, 3],
            p(1, 1, 12),
        ),
    ];
    for (i, (algo, xs, ws, params)) in cases.into_iter().enumerate() {
        let fan_in = (ws[1] * ws[2] * ws[3]) as f32;
        let x = host(&xs, 100 + i as u64, 1.0);
        let w = host(&ws, 200 + i as u64, 1.0 / fan_in.sqrt());
        let bias = host(&[ws[0]], 300 + i as u64, 0.5);
        let want =
            cpu::conv2d::conv2d(&x, &w, Some(&bias), None, &params, Activation::Relu).unwrap();
        let (xt, wt, bt) = (
            rt.upload_host(&x).unwrap(),
            rt.upload_host(&w).unwrap(),
            rt.upload_host(&bias).unwrap(),
        );
        let y = rt.tensor(&want.shape).unwrap();
        let d = conv2d_with(
            &rt,
            algo,
            &xt,
            &wt,
            Some(&bt),
            None,
            &params,
            Activation::Relu,
            &y,
        )
        .unwrap();
        rt.run(&[d]).unwrap();
        let got = y.read(&rt).await.unwrap();
        assert_close(
            &format!("conv2d {algo:?} x{xs:?} w{ws:?}"),
            &got,
            &want.data,
        );
    }
}

#[wasm_bindgen_test]
async fn matmul_matches_cpu() {
    let rt = runtime().await;
    for (i, (m, k, n)) in [(1, 7, 10), (33, 65, 17), (64, 64, 64)]
        .into_iter()
        .enumerate()
    {
        let a = host(&[m, k], 400 + i as u64, 1.0);
        let b = host(&[k, n], 500 + i as u64, 1.0 / (k as f32).sqrt());
        let want = cpu::matmul::matmul(&a, &b, None, Activation::Identity).unwrap();
        let (at, bt) = (rt.upload_host(&a).unwrap(), rt.upload_host(&b).unwrap());
        let out = rt.tensor(&want.shape).unwrap();
        rt.run(&[matmul(&rt, &at, &bt, None, Activation::Identity, &out).unwrap()])
            .unwrap();
        let got = out.read(&rt).await.unwrap();
        assert_close(&format!("matmul {m}x{k}x{n}"), &got, &want.data);
    }
}

/// The whole SE block in one submission: squeeze, excite and scale, and the
/// excitation the runtime exposes.
#[wasm_bindgen_test]
async fn se_block_matches_cpu() {
    let rt = runtime().await;
    let cases = [
        (64, 16, SqueezeMode::Avg, Activation::Sigmoid, [2, 64, 7, 7]),
        (
            24,
            4,
            SqueezeMode::Max,
            Activation::HardSigmoid {
                alpha: 1.0 / 6.0,
                beta: 0.5,
            },
            [1, 24, 13, 11],
        ),
        (3, 16, SqueezeMode::Avg, Activation::Sigmoid, [1, 3, 1, 1]),
    ];
    for (i, (c, reduction, pooling, gate, shape)) in cases.into_iter().enumerate() {
        let block = SeBlock::new(c, reduction, pooling, gate, 600 + i as u64).unwrap();
        let x = host(&shape, 700 + i as u64, 2.0);
        let (want_out, want_e) = cpu::se_block::se_block(&block, &x).unwrap();
        let got = block
            .forward(&rt, &rt.upload_host(&x).unwrap())
            .await
            .unwrap();
        let what = format!("SeBlock c{c} {shape:?}");
        let e = got.excitation.read(&rt).await.unwrap();
        assert_close(&format!("{what} excitation"), &e, &want_e.data);
        let out = got.output.read(&rt).await.unwrap();
        assert_close(&format!("{what} output"), &out, &want_out.data);
    }
}

#[wasm_bindgen_test]
async fn softmax_and_pools_match_cpu() {
    let rt = runtime().await;
    for (i, (shape, axis)) in [(vec![2, 10], 1), (vec![3, 1000], 1), (vec![2, 5, 3], 1)]
        .into_iter()
        .enumerate()
    {
        let x = host(&shape, 800 + i as u64, 6.0);
        let want = cpu::softmax::softmax(&x, axis).unwrap();
        let (xt, y) = (rt.upload_host(&x).unwrap(), rt.tensor(&shape).unwrap());
        rt.run(&[softmax(&rt, &xt, axis, &y).unwrap()]).unwrap();
        let got = y.read(&rt).await.unwrap();
        assert_close(&format!("softmax {shape:?} axis {axis}"), &got, &want.data);
    }
    let p = Pool2dParams {
        kernel: [3, 3],
        stride: [2, 2],
        padding: [1; 4],
        ..Pool2dParams::default()
    };
    let x = host(&[2, 5, 9, 8], 900, 3.0);
    let xt = rt.upload_host(&x).unwrap();
    let want_max = cpu::pool::max_pool2d(&x, &p).unwrap();
    let want_avg = cpu::pool::avg_pool2d(&x, &p).unwrap();
    let (ym, ya) = (
        rt.tensor(&want_max.shape).unwrap(),
        rt.tensor(&want_avg.shape).unwrap(),
    );
    rt.run(&[
        max_pool2d(&rt, &xt, &p, &ym).unwrap(),
        avg_pool2d(&rt, &xt, &p, &ya).unwrap(),
    ])
    .unwrap();
    assert_close("max_pool2d", &ym.read(&rt).await.unwrap(), &want_max.data);
    assert_close("avg_pool2d", &ya.read(&rt).await.unwrap(), &want_avg.data);
}

/// A small SE-ResNet of the Fashion-MNIST model's architecture (random weights, with
/// the preprocessing metadata), committed for the CLI's tests.
const MODEL: &[u8] = include_bytes!("data/fashion_tiny.onnx");

/// The whole model on the browser's WebGPU against the CPU session compiled into the
/// same module (the native reference code): outputs and every SE block's excitation.
#[wasm_bindgen_test]
async fn model_on_webgpu_matches_cpu_session() {
    let rt = runtime().await;
    let model = Model::from_bytes(MODEL).unwrap();
    assert!(
        !model.info().se_blocks.is_empty(),
        "the model has SE blocks"
    );
    let input = &model.info().inputs[0];
    let mut shape = input.shape.clone();
    shape[0] = 2;
    let x = host(&shape, 1000, 2.0);
    let inputs = [(input.name.as_str(), x)];
    let gpu = Session::new(&rt, &model, 2)
        .unwrap()
        .run(&inputs)
        .await
        .unwrap();
    let cpu = CpuSession::new(&model, 2)
        .unwrap()
        .run(&inputs)
        .await
        .unwrap();
    assert_eq!(gpu.outputs.len(), cpu.outputs.len());
    for ((name, g), (_, c)) in gpu.outputs.iter().zip(&cpu.outputs) {
        assert_close(&format!("output {name}"), &g.data, &c.data);
    }
    assert_eq!(gpu.excitations.len(), model.info().se_blocks.len());
    for (g, c) in gpu.excitations.iter().zip(&cpu.excitations) {
        assert_eq!(g.values.shape, [2, g.channels]);
        assert_close(
            &format!("excitation {}", g.block),
            &g.values.data,
            &c.values.data,
        );
    }
}

fn field(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &key.into()).unwrap()
}

/// A 28x28 RGBA test pattern as the `{width, height, data}` object classify accepts.
fn pattern() -> JsValue {
    let data: Vec<u8> = (0..28 * 28)
        .flat_map(|i| {
            let v = ((i % 28) * 9 + (i / 28) * 3) as u8;
            [v, v, v, 255]
        })
        .collect();
    let o = js_sys::Object::new();
    js_sys::Reflect::set(&o, &"width".into(), &28.into()).unwrap();
    js_sys::Reflect::set(&o, &"height".into(), &28.into()).unwrap();
    js_sys::Reflect::set(&o, &"data".into(), &js_sys::Uint8Array::from(&data[..])).unwrap();
    o.into()
}

fn options(pairs: &[(&str, JsValue)]) -> Option<js_sys::Object> {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        js_sys::Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    Some(o)
}

/// The JavaScript API end to end: WebGPU and the CPU fallback give the same classes
/// and excitations, and bad input is a JS Error with a message.
#[wasm_bindgen_test]
async fn js_api_webgpu_and_cpu_agree() {
    let gpu = WebRuntime::create(options(&[("backend", "webgpu".into())]))
        .await
        .unwrap();
    assert_eq!(gpu.backend(), "webgpu");
    let cpu = WebRuntime::create(options(&[("backend", "cpu".into())]))
        .await
        .unwrap();
    assert_eq!(cpu.backend(), "cpu");
    assert_eq!(
        field(&cpu.adapter_info(), "fallbackReason")
            .as_string()
            .unwrap(),
        "the CPU backend was requested"
    );
    let bytes: JsValue = js_sys::Uint8Array::from(MODEL).into();
    let mut results = vec![];
    for rt in [&gpu, &cpu] {
        let model = rt.load_model(bytes.clone(), None).await.unwrap();
        let info = model.info();
        let blocks: js_sys::Array = field(&info, "seBlocks").unchecked_into();
        let r = model
            .classify(pattern(), options(&[("topK", 3.into())]))
            .await
            .unwrap();
        let top: js_sys::Array = field(&r, "top").unchecked_into();
        assert_eq!(top.length(), 3);
        let ex: js_sys::Array = field(&r, "excitations").unchecked_into();
        assert_eq!(ex.length(), blocks.length());
        let values: Vec<Vec<f32>> = ex
            .iter()
            .map(|b| {
                field(&b, "values")
                    .unchecked_into::<js_sys::Float32Array>()
                    .to_vec()
            })
            .collect();
        let label = field(&top.get(0), "label").as_string().unwrap();
        results.push((label, values));
    }
    assert_eq!(results[0].0, results[1].0, "top class on webgpu vs cpu");
    for (g, c) in results[0].1.iter().zip(&results[1].1) {
        assert_close("excitation via the JS API", g, c);
    }

    let err = cpu
        .load_model(js_sys::Uint8Array::from(&b"not a model"[..]).into(), None)
        .await
        .err()
        .unwrap();
    let message = field(&JsValue::from(err), "message").as_string().unwrap();
    assert!(message.starts_with("loadModel: "), "{message}");
    let model = cpu.load_model(bytes, None).await.unwrap();
    let bad = js_sys::Object::new();
    js_sys::Reflect::set(&bad, &"width".into(), &2.into()).unwrap();
    js_sys::Reflect::set(&bad, &"height".into(), &2.into()).unwrap();
    js_sys::Reflect::set(
        &bad,
        &"data".into(),
        &js_sys::Uint8Array::new_with_length(3),
    )
    .unwrap();
    let err = model.classify(bad.into(), None).await.err().unwrap();
    let message = field(&JsValue::from(err), "message").as_string().unwrap();
    assert!(message.contains("needs 16 bytes"), "{message}");
}
