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

use std::rc::Rc;

use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

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

/// A JS `Error` carrying the runtime's message.
fn js_error(e: crate::Error) -> JsError {
    JsError::new(&e.to_string())
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

pub(crate) enum Backend {
    Gpu {
        rt: Rc<crate::Runtime>,
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
                        backend: Backend::Gpu {
                            rt: Rc::new(rt),
                            info,
                        },
                    });
                }
                Err(e) => format!("WebGPU is present but failed: {e}"),
            },
        };
        if wanted == "webgpu" {
            return Err(JsError::new(&format!("WebGPU is unavailable: {failure}")));
        }
        Ok(Self::cpu(failure))
    }

    fn cpu(reason: String) -> Self {
        console_warn(&format!(
            "se-runtime: running on the CPU reference kernels (slow): {reason}"
        ));
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

impl WebRuntime {
    pub(crate) fn backend_ref(&self) -> &Backend {
        &self.backend
    }
}

/// The bytes behind `source`: a URL string (fetched), an ArrayBuffer, a typed array or
/// a Blob/File.
pub(crate) async fn source_bytes(source: &JsValue, what: &str) -> Result<Vec<u8>, JsError> {
    if let Some(url) = source.as_string() {
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
pub(crate) struct Rgba {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

fn dimension(image: &JsValue, keys: &[&str]) -> u32 {
    keys.iter()
        .filter_map(|k| get(image, k).as_f64())
        .find(|&v| v > 0.0)
        .unwrap_or(0.0) as u32
}

/// Reads the pixels of an ImageData, an ImageBitmap, an <img>, a <canvas>, a <video>,
/// an OffscreenCanvas or a plain `{width, height, data}` RGBA object (for Node).
pub(crate) fn image_pixels(image: &JsValue) -> Result<Rgba, JsError> {
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
        if width == 0 || height == 0 || bytes.len() != 4 * width as usize * height as usize {
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
pub(crate) fn now() -> f64 {
    now_ms()
}
