//! The JS `Runtime`: the browser's WebGPU device, or the CPU fallback and exactly why
//! WebGPU could not be used.

use js_sys::Object;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::convert::{self, Wanted, get};
use super::result::{self, object};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn(message: &str);
}

/// What runs the models of a runtime.
pub(super) enum Backend {
    Gpu {
        rt: crate::Runtime,
        /// The browser's GPUAdapterInfo, which wgpu's AdapterInfo leaves mostly empty.
        info: Object,
    },
    Cpu {
        reason: String,
    },
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

/// `navigator.gpu.requestAdapter().info` as a plain object (vendor, architecture,
/// device, description, isFallbackAdapter), or an empty object.
async fn browser_adapter_info() -> Object {
    let gpu = get(&get(&js_sys::global(), "navigator"), "gpu");
    let request = get(&gpu, "requestAdapter");
    let Some(request) = request.dyn_ref::<js_sys::Function>() else {
        return Object::new();
    };
    let options = object(&[("powerPreference", "high-performance".into())]);
    let Ok(promise) = request.call1(&gpu, &options) else {
        return Object::new();
    };
    let adapter = JsFuture::from(js_sys::Promise::from(promise))
        .await
        .unwrap_or(JsValue::NULL);
    let source = get(&adapter, "info");
    let text = |key| get(&source, key).as_string().unwrap_or_default().into();
    object(&[
        ("vendor", text("vendor")),
        ("architecture", text("architecture")),
        ("device", text("device")),
        ("description", text("description")),
        (
            "isFallbackAdapter",
            get(&source, "isFallbackAdapter").is_truthy().into(),
        ),
    ])
}

/// The entry point: a WebGPU device, or the CPU fallback.
#[wasm_bindgen(js_name = Runtime)]
pub struct WebRuntime {
    pub(super) backend: Backend,
}

#[wasm_bindgen(js_class = Runtime)]
impl WebRuntime {
    /// Opens the WebGPU device, or the CPU fallback where WebGPU is missing (with
    /// `backend: "auto"`, the default). Rejects with the reason when `backend` is
    /// "webgpu" and WebGPU is unavailable.
    pub async fn create(
        #[wasm_bindgen(unchecked_optional_param_type = "RuntimeOptions")] options: Option<Object>,
    ) -> Result<WebRuntime, JsError> {
        super::install_panic_hook();
        let wanted = convert::backend_option(&convert::options(options))?;
        if wanted == Wanted::Cpu {
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
        if wanted == Wanted::WebGpu {
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
        match &self.backend {
            Backend::Gpu { rt, info } => result::gpu_adapter_info(&rt.adapter_info().name, info),
            Backend::Cpu { reason } => result::cpu_adapter_info(reason),
        }
        .into()
    }
}
