//! Browser bindings (wasm32 only): the JavaScript API of the npm package.
//!
//! ```js
//! const runtime = await Runtime.create();            // WebGPU, or the CPU fallback
//! const model = await runtime.loadModel(url_or_bytes);
//! const r = await model.classify(imageBitmap, { topK: 5 });
//! r.top[0].label; r.excitations[0].values;            // Float32Array per SE block
//! ```
//!
//! Where the browser has no WebGPU, `Runtime.create()` says exactly why and runs the
//! CPU reference kernels compiled into the same module; `runtime.backend` and
//! `runtime.adapterInfo()` then say "cpu", so a slow result is never a silent one.

use std::collections::BTreeMap;

use js_sys::{Array, Float32Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::ops::Activation;
use crate::preprocess::{self, ImageRef, Preprocess};
use crate::{CpuSession, Inference, Model, ModelInfo, Session, SqueezeMode};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str);
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn(message: &str);
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn now_ms() -> f64;
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_url(url: &str) -> js_sys::Promise;
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Options of `Runtime.create`. */
export interface RuntimeOptions {
  /** "auto" (default): WebGPU when the browser has it, else the CPU fallback;
   *  "webgpu": fail with the reason instead of falling back; "cpu": skip WebGPU. */
  backend?: "auto" | "webgpu" | "cpu";
  /** Where the npm wrapper loads the wasm module from on first use (see `initialize`). */
  wasm?: string | URL | BufferSource | WebAssembly.Module;
}

/** What runs the model: the WebGPU adapter, or the CPU fallback and why it is used. */
export interface AdapterInfo {
  backend: "webgpu" | "cpu";
  /** The adapter's name, e.g. "google swiftshader"; the CPU fallback says so. */
  name: string;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for software adapters (SwiftShader) and the CPU fallback. */
  isFallbackAdapter: boolean;
  /** Why the CPU fallback runs; absent on WebGPU. */
  fallbackReason?: string;
}

/** A model file: a URL to fetch, or its bytes. */
export type ModelSource = string | URL | ArrayBuffer | ArrayBufferView | Blob;

/** Options of `runtime.loadModel`. */
export interface LoadOptions {
  /** `se_runtime.*` metadata entries that override or complete the model's own
   *  (input_size, channels, mean, std, scale, invert, labels): for models without them. */
  metadata?: Record<string, string>;
  /** The batch size to plan for, when the model leaves it open (default 1). */
  batch?: number;
}

/** One plan step's GPU time, from `model.profile`. */
export interface StepTime { name: string; op: string; ms: number; }

/** What `classify` accepts: any canvas image source, ImageData, or raw RGBA pixels. */
export type ImageInput =
  | ImageBitmap | ImageData | HTMLImageElement | HTMLCanvasElement | HTMLVideoElement
  | OffscreenCanvas | { width: number; height: number; data: Uint8Array | Uint8ClampedArray };

export interface ClassifyOptions {
  /** How many classes to return, most likely first (default 5). */
  topK?: number;
}

export interface ClassScore {
  index: number;
  /** From the model's `se_runtime.labels`, else "class <index>". */
  label: string;
  probability: number;
}

/** One SE block's excitation: the gate it applied to each channel for this image. */
export interface BlockExcitation {
  name: string;
  channels: number;
  values: Float32Array;
}

export interface Timings {
  /** Reading the pixels, resizing and normalising. */
  preprocessMs: number;
  /** Upload, the model, and reading back outputs and excitations. */
  inferenceMs: number;
  totalMs: number;
}

export interface ClassifyResult {
  top: ClassScore[];
  /** Every class's probability (softmax of the scores unless the model ends in one). */
  probabilities: Float32Array;
  /** Every SE block, in network order. */
  excitations: BlockExcitation[];
  timings: Timings;
  backend: "webgpu" | "cpu";
}

export interface TensorInfo { name: string; shape: number[]; }

export interface SeBlockInfo {
  name: string;
  channels: number;
  /** Width of the bottleneck (the first FC's outputs). */
  reduced: number;
  reduction: number;
  pooling: "avg" | "max";
  hidden: string;
  gate: string;
  /** A residual add fused into the block's scale. */
  residual: boolean;
}

export interface LayerInfo { name: string; op: string; output: number[]; macs: number; }

export interface ModelInfo {
  producer: string;
  opset: number;
  /** The batch size the model fixes, or null when any batch works. */
  batch: number | null;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  labels: string[] | null;
  seBlocks: SeBlockInfo[];
  /** The compiled steps, after fusion. */
  layers: LayerInfo[];
  onnxNodes: number;
  parameters: number;
  macs: number;
  metadata: Record<string, string>;
  /** How images become the input tensor. */
  preprocess: {
    size: [number, number]; channels: "gray" | "rgb" | "bgr";
    mean: number[]; std: number[]; scale: number; invert: boolean;
  };
  backend: "webgpu" | "cpu";
}
"#;

/// A panic would otherwise reach JavaScript as a bare "unreachable" trap.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            console_error(&format!("se-runtime panicked (please report): {info}"))
        }))
    });
}

/// `obj[key]`, or `undefined` when `obj` is not an object.
fn get(obj: &JsValue, key: &str) -> JsValue {
    if obj.is_object() {
        Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value.into());
}

/// Why WebGPU cannot be used here, in words a user can act on; `None` when it can.
async fn webgpu_unavailable_reason() -> Option<String> {
    let global = js_sys::global();
    let navigator = get(&global, "navigator");
    if get(&navigator, "gpu").is_undefined() {
        let node = get(&get(&get(&global, "process"), "versions"), "node");
        return Some(if let Some(v) = node.as_string() {
            format!("Node.js {v} has no WebGPU (navigator.gpu is missing)")
        } else if get(&global, "isSecureContext").as_bool() == Some(false) {
            "WebGPU needs a secure context: serve the page over https or from localhost \
             (navigator.gpu is missing on this insecure http page)"
                .into()
        } else {
            "this browser has no WebGPU (navigator.gpu is missing): use a recent Chrome or \
             Edge, Safari 26, or Firefox 141+ (on Linux enable dom.webgpu.enabled)"
                .into()
        });
    }
    if !wgpu::util::is_browser_webgpu_supported().await {
        return Some(
            "navigator.gpu.requestAdapter() returned no adapter: WebGPU is disabled or the \
             GPU is blocklisted here (headless Chromium needs --enable-unsafe-webgpu)"
                .into(),
        );
    }
    None
}

enum Backend {
    Gpu {
        rt: crate::Runtime,
        /// The browser's GPUAdapterInfo, which wgpu's AdapterInfo leaves mostly empty.
        info: Object,
    },
    Cpu {
        reason: String,
    },
}

/// `navigator.gpu.requestAdapter().info` as a plain object (vendor, architecture,
/// device, description, isFallbackAdapter), or an empty object.
async fn browser_adapter_info() -> Object {
    let info = Object::new();
    let gpu = get(&get(&js_sys::global(), "navigator"), "gpu");
    let request = get(&gpu, "requestAdapter");
    let Some(request) = request.dyn_ref::<js_sys::Function>() else {
        return info;
    };
    let options = Object::new();
    set(&options, "powerPreference", "high-performance");
    let Ok(promise) = request.call1(&gpu, &options) else {
        return info;
    };
    let adapter = JsFuture::from(js_sys::Promise::from(promise))
        .await
        .unwrap_or(JsValue::NULL);
    let source = get(&adapter, "info");
    for key in ["vendor", "architecture", "device", "description"] {
        set(
            &info,
            key,
            get(&source, key).as_string().unwrap_or_default(),
        );
    }
    set(
        &info,
        "isFallbackAdapter",
        get(&source, "isFallbackAdapter").is_truthy(),
    );
    info
}

/// The entry point: a WebGPU device, or the CPU fallback.
#[wasm_bindgen(js_name = Runtime)]
pub struct WebRuntime {
    backend: Backend,
}

#[wasm_bindgen(js_class = Runtime)]
impl WebRuntime {
    /// Opens the WebGPU device, or the CPU fallback where WebGPU is missing (with
    /// `backend: "auto"`, the default). Rejects with the reason when `backend` is
    /// "webgpu" and WebGPU is unavailable.
    pub async fn create(
        #[wasm_bindgen(unchecked_optional_param_type = "RuntimeOptions")] options: Option<Object>,
    ) -> Result<WebRuntime, JsError> {
        install_panic_hook();
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let wanted = get(&options, "backend")
            .as_string()
            .unwrap_or_else(|| "auto".into());
        if !matches!(wanted.as_str(), "auto" | "webgpu" | "cpu") {
            return Err(JsError::new(&format!(
                "Runtime.create: unknown backend '{wanted}'; use \"auto\", \"webgpu\" or \"cpu\""
            )));
        }
        if wanted == "cpu" {
            return Ok(Self::cpu("the CPU backend was requested".into()));
        }
        let failure = match webgpu_unavailable_reason().await {
            Some(reason) => reason,
            None => match crate::Runtime::new().await {
                Ok(rt) => {
                    let info = browser_adapter_info().await;
                    return Ok(WebRuntime {
                        backend: Backend::Gpu { rt, info },
                    });
                }
                Err(e) => format!("WebGPU is present but failed: {e}"),
            },
        };
        if wanted == "webgpu" {
            return Err(JsError::new(&format!("WebGPU is unavailable: {failure}")));
        }
        console_warn(&format!(
            "se-runtime: running on the CPU reference kernels (slow): {failure}"
        ));
        Ok(Self::cpu(failure))
    }

    fn cpu(reason: String) -> Self {
        WebRuntime {
            backend: Backend::Cpu { reason },
        }
    }

    /// "webgpu" or "cpu".
    #[wasm_bindgen(getter, unchecked_return_type = "\"webgpu\" | \"cpu\"")]
    pub fn backend(&self) -> String {
        match self.backend {
            Backend::Gpu { .. } => "webgpu".into(),
            Backend::Cpu { .. } => "cpu".into(),
        }
    }

    /// The adapter that runs the model, or the CPU fallback and why it runs.
    #[wasm_bindgen(js_name = adapterInfo, unchecked_return_type = "AdapterInfo")]
    pub fn adapter_info(&self) -> JsValue {
        let o = Object::new();
        match &self.backend {
            Backend::Gpu { rt, info } => {
                set(&o, "backend", "webgpu");
                for key in ["vendor", "architecture", "device", "description"] {
                    set(&o, key, get(info, key));
                }
                set(&o, "isFallbackAdapter", get(info, "isFallbackAdapter"));
                let name = &rt.adapter_info().name;
                let vendor = get(info, "vendor").as_string().unwrap_or_default();
                let arch = get(info, "architecture").as_string().unwrap_or_default();
                // Chromium often leaves the description empty; vendor + architecture
                // ("google swiftshader") still names the adapter.
                let name = if !name.is_empty() {
                    name.clone()
                } else {
                    format!("{vendor} {arch}").trim().to_string()
                };
                set(&o, "name", name);
            }
            Backend::Cpu { reason } => {
                set(&o, "backend", "cpu");
                set(&o, "name", "CPU reference kernels (wasm, one thread)");
                set(&o, "vendor", "");
                set(&o, "architecture", "wasm32");
                set(&o, "device", "");
                set(
                    &o,
                    "description",
                    "no GPU: the plain-Rust reference kernels",
                );
                set(&o, "isFallbackAdapter", true);
                set(&o, "fallbackReason", reason.as_str());
            }
        }
        o.into()
    }
}

#[wasm_bindgen(js_class = Runtime)]
impl WebRuntime {
    /// Fetches (for a URL) or reads a `.onnx` model, compiles it, prepares it on this
    /// runtime's backend and runs it once on a blank image, so that shader compilation
    /// happens here and not in the first `classify`.
    #[wasm_bindgen(js_name = loadModel)]
    pub async fn load_model(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ModelSource")] source: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "LoadOptions")] options: Option<Object>,
    ) -> Result<WebModel, JsError> {
        let fail = |e: crate::Error| JsError::new(&format!("loadModel: {e}"));
        let bytes = source_bytes(&source, "loadModel").await?;
        let model = Model::from_bytes(&bytes).map_err(fail)?;
        let mut metadata = model.info().metadata.clone();
        let options_value: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let overrides = get(&options_value, "metadata");
        if overrides.is_object() {
            for entry in Object::entries(overrides.unchecked_ref()) {
                let entry: Array = entry.unchecked_into();
                let (Some(k), Some(v)) = (entry.get(0).as_string(), entry.get(1).as_string())
                else {
                    return Err(JsError::new(
                        "loadModel: options.metadata must map strings to strings",
                    ));
                };
                metadata.insert(k, v);
            }
        }
        let input = image_input(model.info()).map_err(fail)?;
        let mut pre = Preprocess::from_metadata(&metadata).map_err(fail)?;
        pre.fit_input(Some(input.channels), Some(input.size))
            .map_err(fail)?;
        let classes = model
            .info()
            .outputs
            .first()
            .and_then(|o| o.shape.last().copied())
            .unwrap_or(0);
        let labels = preprocess::labels_from_metadata(&metadata).map_err(fail)?;
        if let Some(l) = &labels
            && l.len() != classes
        {
            return Err(JsError::new(&format!(
                "loadModel: se_runtime.labels names {} classes but the model's first output has {classes}",
                l.len()
            )));
        }
        // A model that fixes its batch size gets copies of the image; row 0 is reported.
        let batch = match (get(&options_value, "batch"), model.info().batch) {
            (v, fixed) if v.is_undefined() => fixed.unwrap_or(1),
            (v, fixed) => match v.as_f64() {
                Some(b) if b >= 1.0 && b.fract() == 0.0 && fixed.is_none_or(|f| f as f64 == b) => {
                    b as usize
                }
                _ => {
                    return Err(JsError::new(&format!(
                        "loadModel: options.batch must be a whole number >= 1{}",
                        fixed.map_or(String::new(), |f| format!(
                            " and equal to the batch size {f} that the model fixes"
                        ))
                    )));
                }
            },
        };
        let executor = match &self.backend {
            Backend::Gpu { rt, .. } => Executor::gpu(rt, &model, batch).map_err(fail)?,
            Backend::Cpu { .. } => Executor::Cpu(CpuSession::new(&model, batch).map_err(fail)?),
        };
        let web = WebModel {
            info: model.info().clone(),
            executor,
            preprocess: pre,
            metadata,
            labels,
            input_name: input.name,
            batch,
        };
        let blank = vec![255u8; 4 * input.size[0] * input.size[1]];
        let blank =
            ImageRef::new(input.size[1] as u32, input.size[0] as u32, &blank).map_err(fail)?;
        web.run(web.preprocess.to_tensor(&[blank]).map_err(fail)?)
            .await
            .map_err(fail)?;
        Ok(web)
    }
}

/// The image input of a classifier: one `[N, C, H, W]` tensor.
struct ImageInput {
    name: String,
    channels: usize,
    size: [usize; 2],
}

fn image_input(info: &ModelInfo) -> crate::Result<ImageInput> {
    match (&info.inputs[..], info.outputs.len()) {
        ([input], 1..) if input.shape.len() == 4 => Ok(ImageInput {
            name: input.name.clone(),
            channels: input.shape[1],
            size: [input.shape[2], input.shape[3]],
        }),
        _ => Err(crate::Error::invalid(
            "model",
            format!(
                "classify needs one [N, C, H, W] image input and an output; this model has inputs {:?}",
                info.inputs
                    .iter()
                    .map(|i| (&i.name, &i.shape))
                    .collect::<Vec<_>>()
            ),
        )),
    }
}

/// Where a model runs.
enum Executor {
    Gpu { session: Session },
    Cpu(CpuSession),
}

impl Executor {
    fn gpu(rt: &crate::Runtime, model: &Model, batch: usize) -> crate::Result<Executor> {
        Ok(Executor::Gpu {
            session: Session::new(rt, model, batch)?,
        })
    }
}

/// A model prepared on a runtime: `classify` images, read `info()`.
#[wasm_bindgen(js_name = Model)]
pub struct WebModel {
    info: ModelInfo,
    executor: Executor,
    preprocess: Preprocess,
    metadata: BTreeMap<String, String>,
    labels: Option<Vec<String>>,
    input_name: String,
    batch: usize,
}

impl WebModel {
    async fn run(&self, input: crate::HostTensor) -> crate::Result<Inference> {
        let input = if self.batch > 1 {
            let shape = [&[self.batch], &input.shape[1..]].concat();
            crate::HostTensor::new(&shape, input.data.repeat(self.batch))?
        } else {
            input
        };
        self.run_raw(input).await
    }

    /// A raw input of this model's batch and image shape.
    fn input_tensor(&self, input: &Float32Array) -> crate::Result<crate::HostTensor> {
        let shape = &self.info.inputs[0].shape;
        let shape = [&[self.batch], &shape[1..]].concat();
        crate::HostTensor::new(&shape, input.to_vec())
    }

    /// Runs an input that already has the session's batch size. Overlapping calls
    /// queue: a GPU session holds its lock from input to readback, and the CPU session
    /// runs to completion without awaiting.
    async fn run_raw(&self, input: crate::HostTensor) -> crate::Result<Inference> {
        let inputs = [(self.input_name.as_str(), input)];
        match &self.executor {
            Executor::Gpu { session, .. } => session.run(&inputs).await,
            Executor::Cpu(session) => session.run(&inputs).await,
        }
    }

    fn label(&self, i: usize) -> String {
        match &self.labels {
            Some(l) => l[i].clone(),
            None => format!("class {i}"),
        }
    }

    fn backend_name(&self) -> &'static str {
        match self.executor {
            Executor::Gpu { .. } => "webgpu",
            Executor::Cpu(_) => "cpu",
        }
    }
}

#[wasm_bindgen(js_class = Model)]
impl WebModel {
    /// Classifies one image: the `topK` most likely classes, every SE block's
    /// excitation, and timings.
    #[wasm_bindgen(unchecked_return_type = "ClassifyResult")]
    pub async fn classify(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ImageInput")] image: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ClassifyOptions")] options: Option<Object>,
    ) -> Result<JsValue, JsError> {
        let fail = |e: crate::Error| JsError::new(&format!("classify: {e}"));
        let start = now();
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let k = match get(&options, "topK") {
            v if v.is_undefined() => 5,
            v => match v.as_f64() {
                Some(k) if k >= 1.0 && k.fract() == 0.0 => k as usize,
                _ => return Err(JsError::new("classify: topK must be a whole number >= 1")),
            },
        };
        let pixels = image_pixels(&image)?;
        let image = ImageRef::new(pixels.width, pixels.height, &pixels.data).map_err(fail)?;
        let input = self.preprocess.to_tensor(&[image]).map_err(fail)?;
        let prepared = now();
        let inference = self.run(input).await.map_err(fail)?;
        let done = now();

        let output = &inference.outputs[0].1;
        let scores = &output.data[..output.len() / self.batch];
        let probabilities = preprocess::probabilities(scores);
        let top = Array::new();
        for (i, p) in preprocess::top_k(&probabilities, k) {
            let c = Object::new();
            set(&c, "index", i as u32);
            set(&c, "label", self.label(i));
            set(&c, "probability", p);
            top.push(&c);
        }
        let excitations = Array::new();
        for e in &inference.excitations {
            let b = Object::new();
            set(&b, "name", e.block.as_str());
            set(&b, "channels", e.channels as u32);
            // Batch 1: the first (only) row of [N, C].
            set(
                &b,
                "values",
                Float32Array::from(&e.values.data[..e.channels]),
            );
            excitations.push(&b);
        }
        let timings = Object::new();
        set(&timings, "preprocessMs", prepared - start);
        set(&timings, "inferenceMs", done - prepared);
        set(&timings, "totalMs", done - start);
        let result = Object::new();
        set(&result, "top", top);
        set(
            &result,
            "probabilities",
            Float32Array::from(&probabilities[..]),
        );
        set(&result, "excitations", excitations);
        set(&result, "timings", timings);
        set(&result, "backend", self.backend_name());
        Ok(result.into())
    }

    /// "webgpu" or "cpu": where this model runs.
    #[wasm_bindgen(getter, unchecked_return_type = "\"webgpu\" | \"cpu\"")]
    pub fn backend(&self) -> String {
        self.backend_name().into()
    }

    /// Runs an already preprocessed `[batch, C, H, W]` input (for benchmarks and
    /// comparisons with other runtimes) and returns the first output, all rows.
    #[wasm_bindgen(js_name = runTensor)]
    pub async fn run_tensor(&self, input: Float32Array) -> Result<Float32Array, JsError> {
        let fail = |e: crate::Error| JsError::new(&format!("runTensor: {e}"));
        let inference = self
            .run_raw(self.input_tensor(&input).map_err(fail)?)
            .await
            .map_err(fail)?;
        Ok(Float32Array::from(&inference.outputs[0].1.data[..]))
    }

    /// Runs `input` (as `runTensor`) with each plan step timed on the GPU by timestamp
    /// queries; rejects where the adapter has no `timestamp-query` or on the CPU.
    #[wasm_bindgen(unchecked_return_type = "StepTime[]")]
    pub async fn profile(&self, input: Float32Array) -> Result<Array, JsError> {
        let fail = |e: crate::Error| JsError::new(&format!("profile: {e}"));
        let Executor::Gpu { session, .. } = &self.executor else {
            return Err(JsError::new(
                "profile: the CPU fallback has no GPU timestamps",
            ));
        };
        let input = self.input_tensor(&input).map_err(fail)?;
        let times = session
            .profile(&[(self.input_name.as_str(), input)])
            .await
            .map_err(fail)?;
        let steps = Array::new();
        for (step, ns) in session.plan().steps.iter().zip(times) {
            let o = Object::new();
            set(&o, "name", step.name.as_str());
            set(&o, "op", step.label.as_str());
            set(&o, "ms", ns / 1e6);
            steps.push(&o);
        }
        Ok(steps)
    }

    /// What the model is: inputs, outputs, labels, SE blocks, layers, size, metadata
    /// and preprocessing.
    #[wasm_bindgen(unchecked_return_type = "ModelInfo")]
    pub fn info(&self) -> JsValue {
        let i = &self.info;
        let tensors = |list: &[crate::TensorInfo]| {
            let a = Array::new();
            for t in list {
                let o = Object::new();
                set(&o, "name", t.name.as_str());
                set(&o, "shape", numbers(t.shape.iter().map(|&d| d as f64)));
                a.push(&o);
            }
            a
        };
        let blocks = Array::new();
        for b in &i.se_blocks {
            let o = Object::new();
            set(&o, "name", b.name.as_str());
            set(&o, "channels", b.channels as u32);
            set(&o, "reduced", b.reduced as u32);
            set(&o, "reduction", b.reduction);
            set(
                &o,
                "pooling",
                match b.pooling {
                    SqueezeMode::Avg => "avg",
                    SqueezeMode::Max => "max",
                },
            );
            set(&o, "hidden", activation_name(b.hidden));
            set(&o, "gate", activation_name(b.gate));
            set(&o, "residual", b.residual);
            blocks.push(&o);
        }
        let layers = Array::new();
        for l in &i.layers {
            let o = Object::new();
            set(&o, "name", l.name.as_str());
            set(&o, "op", l.op.as_str());
            set(&o, "output", numbers(l.output.iter().map(|&d| d as f64)));
            set(&o, "macs", l.macs as f64);
            layers.push(&o);
        }
        let metadata = Object::new();
        for (k, v) in &self.metadata {
            set(&metadata, k, v.as_str());
        }
        let p = &self.preprocess;
        let pre = Object::new();
        let [h, w] = p.size.unwrap_or([0, 0]);
        set(&pre, "size", numbers([h as f64, w as f64]));
        set(
            &pre,
            "channels",
            p.channels.map(|c| c.to_string()).unwrap_or_default(),
        );
        set(&pre, "mean", numbers(p.mean.iter().map(|&v| v as f64)));
        set(&pre, "std", numbers(p.std.iter().map(|&v| v as f64)));
        set(&pre, "scale", p.scale);
        set(&pre, "invert", p.invert);

        let o = Object::new();
        set(&o, "producer", i.producer.as_str());
        set(&o, "opset", i.opset as f64);
        set(
            &o,
            "batch",
            i.batch.map_or(JsValue::NULL, |b| (b as f64).into()),
        );
        set(&o, "inputs", tensors(&i.inputs));
        set(&o, "outputs", tensors(&i.outputs));
        let labels: JsValue = match &self.labels {
            Some(l) => l
                .iter()
                .map(|s| JsValue::from_str(s))
                .collect::<Array>()
                .into(),
            None => JsValue::NULL,
        };
        set(&o, "labels", labels);
        set(&o, "seBlocks", blocks);
        set(&o, "layers", layers);
        set(&o, "onnxNodes", i.onnx_nodes as f64);
        set(&o, "parameters", i.parameters as f64);
        set(&o, "macs", i.macs as f64);
        set(&o, "metadata", metadata);
        set(&o, "preprocess", pre);
        set(&o, "backend", self.backend_name());
        o.into()
    }
}

fn numbers(values: impl IntoIterator<Item = f64>) -> Array {
    values.into_iter().map(JsValue::from_f64).collect()
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

/// The bytes behind `source`: a URL string (fetched), an ArrayBuffer, a typed array or
/// a Blob/File.
async fn source_bytes(source: &JsValue, what: &str) -> Result<Vec<u8>, JsError> {
    // A URL object reads as its href.
    let href = get(source, "href");
    let url = source.as_string().or_else(|| href.as_string());
    if let Some(url) = url {
        let response = JsFuture::from(fetch_url(&url)).await.map_err(|e| {
            JsError::new(&format!("{what}: fetching {url} failed: {}", describe(&e)))
        })?;
        let response: web_sys::Response = response.unchecked_into();
        if !response.ok() {
            return Err(JsError::new(&format!(
                "{what}: fetching {url} failed: HTTP {} {}",
                response.status(),
                response.status_text()
            )));
        }
        let buffer = response.array_buffer().map_err(|e| {
            JsError::new(&format!("{what}: reading {url} failed: {}", describe(&e)))
        })?;
        let buffer = JsFuture::from(buffer).await.map_err(|e| {
            JsError::new(&format!("{what}: reading {url} failed: {}", describe(&e)))
        })?;
        return Ok(Uint8Array::new(&buffer).to_vec());
    }
    if source.is_instance_of::<js_sys::ArrayBuffer>() {
        return Ok(Uint8Array::new(source).to_vec());
    }
    if js_sys::ArrayBuffer::is_view(source) {
        let view: &js_sys::Object = source.unchecked_ref();
        let buffer = get(view, "buffer");
        let offset = get(view, "byteOffset").as_f64().unwrap_or(0.0) as u32;
        let len = get(view, "byteLength").as_f64().unwrap_or(0.0) as u32;
        return Ok(Uint8Array::new_with_byte_offset_and_length(&buffer, offset, len).to_vec());
    }
    let array_buffer = get(source, "arrayBuffer");
    if array_buffer.is_function() {
        let f: &js_sys::Function = array_buffer.unchecked_ref();
        let promise = f
            .call0(source)
            .map_err(|e| JsError::new(&format!("{what}: {}", describe(&e))))?;
        let buffer = JsFuture::from(js_sys::Promise::from(promise))
            .await
            .map_err(|e| {
                JsError::new(&format!(
                    "{what}: reading the file failed: {}",
                    describe(&e)
                ))
            })?;
        return Ok(Uint8Array::new(&buffer).to_vec());
    }
    Err(JsError::new(&format!(
        "{what}: expected a URL string, an ArrayBuffer, a Uint8Array or a Blob/File"
    )))
}

/// A thrown JS value as text.
fn describe(e: &JsValue) -> String {
    if let Some(s) = e.as_string() {
        return s;
    }
    let message = get(e, "message");
    message.as_string().unwrap_or_else(|| format!("{e:?}"))
}

/// RGBA pixels of an image: width, height, `4 * width * height` bytes.
struct Rgba {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

fn dimension(image: &JsValue, keys: &[&str]) -> u32 {
    keys.iter()
        .filter_map(|k| get(image, k).as_f64())
        .find(|&v| v > 0.0)
        .unwrap_or(0.0) as u32
}

/// Reads the pixels of an ImageData, an ImageBitmap, an <img>, a <canvas>, a <video>,
/// an OffscreenCanvas or a plain `{width, height, data}` RGBA object (for Node).
fn image_pixels(image: &JsValue) -> Result<Rgba, JsError> {
    if !image.is_object() {
        return Err(JsError::new(
            "classify: expected an ImageBitmap, ImageData, HTMLImageElement, \
             HTMLCanvasElement or {width, height, data} object",
        ));
    }
    let data = get(image, "data");
    if !data.is_undefined() && get(image, "getContext").is_undefined() {
        let (width, height) = (dimension(image, &["width"]), dimension(image, &["height"]));
        let bytes = Uint8Array::new(&data).to_vec();
        if width == 0 || height == 0 {
            return Err(JsError::new(&format!(
                "classify: the image is empty ({width}x{height} pixels)"
            )));
        }
        if bytes.len() != 4 * width as usize * height as usize {
            return Err(JsError::new(&format!(
                "classify: an RGBA image of {width}x{height} needs {} bytes of data, got {}",
                4 * width as usize * height as usize,
                bytes.len()
            )));
        }
        return Ok(Rgba {
            width,
            height,
            data: bytes,
        });
    }
    let width = dimension(
        image,
        &["naturalWidth", "videoWidth", "displayWidth", "width"],
    );
    let height = dimension(
        image,
        &["naturalHeight", "videoHeight", "displayHeight", "height"],
    );
    if width == 0 || height == 0 {
        return Err(JsError::new(
            "classify: the image has no pixels yet (not loaded, failed to decode, or a video \
             with no frame): await img.decode() or createImageBitmap() first",
        ));
    }
    let canvas = web_sys::OffscreenCanvas::new(width, height).map_err(|e| {
        JsError::new(&format!(
            "classify: OffscreenCanvas is needed to read the pixels: {}",
            describe(&e)
        ))
    })?;
    let ctx: web_sys::OffscreenCanvasRenderingContext2d = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .ok_or_else(|| JsError::new("classify: no 2D context on an OffscreenCanvas"))?
        .unchecked_into();
    // drawImage takes any CanvasImageSource; the web-sys signature names one of them.
    ctx.draw_image_with_image_bitmap(image.unchecked_ref(), 0.0, 0.0)
        .map_err(|e| {
            JsError::new(&format!(
                "classify: cannot draw the image: {}",
                describe(&e)
            ))
        })?;
    let pixels = ctx
        .get_image_data(0.0, 0.0, width as f64, height as f64)
        .map_err(|e| {
            JsError::new(&format!(
                "classify: cannot read the pixels (a cross-origin image without CORS?): {}",
                describe(&e)
            ))
        })?;
    Ok(Rgba {
        width,
        height,
        data: pixels.data().0,
    })
}

/// Milliseconds since the page started, for timings.
fn now() -> f64 {
    now_ms()
}
