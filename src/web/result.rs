//! Rust results to the plain JavaScript objects the API returns (their TypeScript
//! types are in `types.d.ts`): classify results, step times, model and adapter info.

use std::collections::BTreeMap;

use js_sys::{Array, Float32Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::ops::Activation;
use crate::plan::Step;
use crate::preprocess::Preprocess;
use crate::{Excitation, ModelInfo, SqueezeMode, TensorInfo};

use super::convert::get;

fn set(obj: &Object, key: &str, value: &JsValue) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

/// A plain object with these properties.
pub(super) fn object(properties: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (key, value) in properties {
        set(&o, key, value);
    }
    o
}

fn numbers(values: impl IntoIterator<Item = f64>) -> JsValue {
    values
        .into_iter()
        .map(JsValue::from_f64)
        .collect::<Array>()
        .into()
}

fn dims(shape: &[usize]) -> JsValue {
    numbers(shape.iter().map(|&d| d as f64))
}

fn list<T>(items: &[T], f: impl Fn(&T) -> Object) -> JsValue {
    items.iter().map(f).collect::<Array>().into()
}

/// `AdapterInfo` of a WebGPU runtime: the browser's GPUAdapterInfo (`info`, see
/// `runtime::browser_adapter_info`) with a name.
pub(super) fn gpu_adapter_info(wgpu_name: &str, info: &Object) -> Object {
    let text = |key| get(info, key).as_string().unwrap_or_default();
    // Chromium often leaves the description empty; vendor + architecture
    // ("google swiftshader") still names the adapter.
    let name = if !wgpu_name.is_empty() {
        wgpu_name.to_string()
    } else {
        format!("{} {}", text("vendor"), text("architecture"))
            .trim()
            .to_string()
    };
    object(&[
        ("backend", "webgpu".into()),
        ("vendor", get(info, "vendor")),
        ("architecture", get(info, "architecture")),
        ("device", get(info, "device")),
        ("description", get(info, "description")),
        ("isFallbackAdapter", get(info, "isFallbackAdapter")),
        ("name", name.into()),
    ])
}

/// `AdapterInfo` of the CPU fallback, with why it runs.
pub(super) fn cpu_adapter_info(reason: &str) -> Object {
    object(&[
        ("backend", "cpu".into()),
        ("name", "CPU reference kernels (wasm, one thread)".into()),
        ("vendor", "".into()),
        ("architecture", "wasm32".into()),
        ("device", "".into()),
        (
            "description",
            "no GPU: the plain-Rust reference kernels".into(),
        ),
        ("isFallbackAdapter", true.into()),
        ("fallbackReason", reason.into()),
    ])
}

/// One class of a `ClassifyResult`'s `top`.
pub(super) struct ClassScore {
    pub index: usize,
    pub label: String,
    pub probability: f32,
}

/// Milliseconds at the start of `classify`, after preprocessing, and at the end.
pub(super) struct Times {
    pub start: f64,
    pub prepared: f64,
    pub done: f64,
}

/// A `ClassifyResult`: batch row 0 of every excitation `[N, C]`.
pub(super) fn classify_result(
    top: &[ClassScore],
    probabilities: &[f32],
    excitations: &[Excitation],
    t: Times,
    backend: &str,
) -> Object {
    let top = list(top, |c| {
        object(&[
            ("index", (c.index as u32).into()),
            ("label", c.label.as_str().into()),
            ("probability", c.probability.into()),
        ])
    });
    let excitations = list(excitations, |e| {
        object(&[
            ("name", e.block.as_str().into()),
            ("channels", (e.channels as u32).into()),
            (
                "values",
                Float32Array::from(&e.values.data[..e.channels]).into(),
            ),
        ])
    });
    let timings = object(&[
        ("preprocessMs", (t.prepared - t.start).into()),
        ("inferenceMs", (t.done - t.prepared).into()),
        ("totalMs", (t.done - t.start).into()),
    ]);
    object(&[
        ("top", top),
        ("probabilities", Float32Array::from(probabilities).into()),
        ("excitations", excitations),
        ("timings", timings.into()),
        ("backend", backend.into()),
    ])
}

/// `StepTime[]`: each plan step's GPU time from `times` (nanoseconds, step order).
pub(super) fn step_times(steps: &[Step], times: &[f64]) -> Array {
    steps
        .iter()
        .zip(times)
        .map(|(step, ns)| {
            object(&[
                ("name", step.name.as_str().into()),
                ("op", step.label.as_str().into()),
                ("ms", (ns / 1e6).into()),
            ])
        })
        .collect()
}

/// A short name for an activation, e.g. "sigmoid" or "hard-sigmoid(0.2x+0.5)".
fn activation_name(a: Activation) -> String {
    match a {
        Activation::Identity => "identity".into(),
        Activation::Relu => "relu".into(),
        Activation::Clip { min, max } => format!("clip({min}, {max})"),
        Activation::HardSigmoid { alpha, beta } => format!("hard-sigmoid({alpha:.4}x+{beta})"),
        Activation::HardSwish => "hard-swish".into(),
        Activation::Sigmoid => "sigmoid".into(),
        Activation::Silu => "silu".into(),
        Activation::Tanh => "tanh".into(),
    }
}

/// What a loaded model is, beyond its [`ModelInfo`].
pub(super) struct Loaded<'a> {
    pub metadata: &'a BTreeMap<String, String>,
    pub preprocess: &'a Preprocess,
    pub labels: Option<&'a [String]>,
    pub backend: &'a str,
}

/// The `ModelInfo` object.
pub(super) fn model_info(i: &ModelInfo, m: Loaded<'_>) -> Object {
    let tensors = |list: &[TensorInfo]| {
        self::list(list, |t| {
            object(&[("name", t.name.as_str().into()), ("shape", dims(&t.shape))])
        })
    };
    let blocks = list(&i.se_blocks, |b| {
        let pooling = match b.pooling {
            SqueezeMode::Avg => "avg",
            SqueezeMode::Max => "max",
        };
        object(&[
            ("name", b.name.as_str().into()),
            ("channels", (b.channels as u32).into()),
            ("reduced", (b.reduced as u32).into()),
            ("reduction", b.reduction.into()),
            ("pooling", pooling.into()),
            ("hidden", activation_name(b.hidden).into()),
            ("gate", activation_name(b.gate).into()),
            ("residual", b.residual.into()),
        ])
    });
    let layers = list(&i.layers, |l| {
        object(&[
            ("name", l.name.as_str().into()),
            ("op", l.op.as_str().into()),
            ("output", dims(&l.output)),
            ("macs", (l.macs as f64).into()),
        ])
    });
    let metadata = Object::new();
    for (k, v) in m.metadata {
        set(&metadata, k, &v.as_str().into());
    }
    let p = m.preprocess;
    let [h, w] = p.size.unwrap_or([0, 0]);
    let preprocess = object(&[
        ("size", numbers([h as f64, w as f64])),
        (
            "channels",
            p.channels.map(|c| c.to_string()).unwrap_or_default().into(),
        ),
        ("mean", numbers(p.mean.iter().map(|&v| v as f64))),
        ("std", numbers(p.std.iter().map(|&v| v as f64))),
        ("scale", p.scale.into()),
        ("invert", p.invert.into()),
    ]);
    let labels = match m.labels {
        Some(l) => l
            .iter()
            .map(|s| JsValue::from_str(s))
            .collect::<Array>()
            .into(),
        None => JsValue::NULL,
    };
    object(&[
        ("producer", i.producer.as_str().into()),
        ("opset", (i.opset as f64).into()),
        (
            "batch",
            i.batch.map_or(JsValue::NULL, |b| (b as f64).into()),
        ),
        ("inputs", tensors(&i.inputs)),
        ("outputs", tensors(&i.outputs)),
        ("labels", labels),
        ("seBlocks", blocks),
        ("layers", layers),
        ("onnxNodes", (i.onnx_nodes as f64).into()),
        ("parameters", (i.parameters as f64).into()),
        ("macs", (i.macs as f64).into()),
        ("metadata", metadata.into()),
        ("preprocess", preprocess.into()),
        ("backend", m.backend.into()),
    ])
}
