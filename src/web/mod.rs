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
//!
//! One file per job:
//! - `runtime.rs`: the JS `Runtime`: WebGPU, or the CPU fallback and why;
//! - `model.rs`: `runtime.loadModel` and the JS `Model` (`classify`, `runTensor`,
//!   `profile`, `info`);
//! - `convert.rs`: JS values to Rust ones (option objects, image pixels, model bytes);
//! - `result.rs`: Rust results to the plain JS objects the API returns;
//! - `types.d.ts`: the TypeScript types of those objects, added to the generated `.d.ts`.

mod convert;
mod model;
mod result;
mod runtime;

use wasm_bindgen::prelude::*;

pub use model::WebModel;
pub use runtime::WebRuntime;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = include_str!("types.d.ts");

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str);
}

/// A panic would otherwise reach JavaScript as a bare "unreachable" trap.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            console_error(&format!("se-runtime panicked (please report): {info}"))
        }))
    });
}
