//! JavaScript values to Rust ones: option objects, model sources (URL, bytes, Blob)
//! and image pixels (any canvas image source, ImageData or raw RGBA).

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_url(url: &str) -> js_sys::Promise;
}

/// `obj[key]`, or `undefined` when `obj` is not an object.
pub(super) fn get(obj: &JsValue, key: &str) -> JsValue {
    if obj.is_object() {
        Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// A thrown JS value as text.
pub(super) fn describe(e: &JsValue) -> String {
    if let Some(s) = e.as_string() {
        return s;
    }
    let message = get(e, "message");
    message.as_string().unwrap_or_else(|| format!("{e:?}"))
}

/// A runtime error as the JS error of API call `call`: "`call`: what went wrong".
pub(super) fn failed(call: &'static str) -> impl Fn(crate::Error) -> JsError + Copy {
    move |e| JsError::new(&format!("{call}: {e}"))
}

/// `{ phase, done, total }`, what a `loadModel` `onProgress` callback gets.
pub(super) fn progress(phase: &str, done: usize, total: usize) -> JsValue {
    let o = Object::new();
    for (key, value) in [
        ("phase", JsValue::from_str(phase)),
        ("done", JsValue::from(done as u32)),
        ("total", JsValue::from(total as u32)),
    ] {
        let _ = Reflect::set(&o, &JsValue::from_str(key), &value);
    }
    o.into()
}

/// An optional options object as a value `get` can read (`undefined` when absent).
pub(super) fn options(options: Option<Object>) -> JsValue {
    options.map_or(JsValue::UNDEFINED, Into::into)
}

/// Which backend `Runtime.create` was asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Wanted {
    Auto,
    WebGpu,
    Cpu,
}

/// `options.backend` of `Runtime.create`: "auto" (the default), "webgpu" or "cpu".
pub(super) fn backend_option(options: &JsValue) -> Result<Wanted, JsError> {
    let wanted = get(options, "backend")
        .as_string()
        .unwrap_or_else(|| "auto".into());
    match wanted.as_str() {
        "auto" => Ok(Wanted::Auto),
        "webgpu" => Ok(Wanted::WebGpu),
        "cpu" => Ok(Wanted::Cpu),
        _ => Err(JsError::new(&format!(
            "Runtime.create: unknown backend '{wanted}'; use \"auto\", \"webgpu\" or \"cpu\""
        ))),
    }
}

/// `options.metadata` of `loadModel`: `se_runtime.*` entries over the model's own.
pub(super) fn metadata_option(options: &JsValue) -> Result<Vec<(String, String)>, JsError> {
    let overrides = get(options, "metadata");
    if !overrides.is_object() {
        return Ok(Vec::new());
    }
    Object::entries(overrides.unchecked_ref())
        .iter()
        .map(|entry| {
            let entry: Array = entry.unchecked_into();
            match (entry.get(0).as_string(), entry.get(1).as_string()) {
                (Some(k), Some(v)) => Ok((k, v)),
                _ => Err(JsError::new(
                    "loadModel: options.metadata must map strings to strings",
                )),
            }
        })
        .collect()
}

/// `options.batch` of `loadModel`: the model's fixed batch size, else 1 unless given.
pub(super) fn batch_option(options: &JsValue, fixed: Option<usize>) -> Result<usize, JsError> {
    match get(options, "batch") {
        v if v.is_undefined() => Ok(fixed.unwrap_or(1)),
        v => match v.as_f64() {
            Some(b) if b >= 1.0 && b.fract() == 0.0 && fixed.is_none_or(|f| f as f64 == b) => {
                Ok(b as usize)
            }
            _ => Err(JsError::new(&format!(
                "loadModel: options.batch must be a whole number >= 1{}",
                fixed.map_or(String::new(), |f| format!(
                    " and equal to the batch size {f} that the model fixes"
                ))
            ))),
        },
    }
}

/// `options.topK` of `classify` (default 5).
pub(super) fn top_k_option(options: &JsValue) -> Result<usize, JsError> {
    match get(options, "topK") {
        v if v.is_undefined() => Ok(5),
        v => match v.as_f64() {
            Some(k) if k >= 1.0 && k.fract() == 0.0 => Ok(k as usize),
            _ => Err(JsError::new("classify: topK must be a whole number >= 1")),
        },
    }
}

/// The bytes behind `source`: a URL string (fetched), an ArrayBuffer, a typed array or
/// a Blob/File.
pub(super) async fn source_bytes(source: &JsValue, what: &str) -> Result<Vec<u8>, JsError> {
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
        let reading =
            |e: JsValue| JsError::new(&format!("{what}: reading {url} failed: {}", describe(&e)));
        let buffer = response.array_buffer().map_err(reading)?;
        let buffer = JsFuture::from(buffer).await.map_err(reading)?;
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

/// RGBA pixels of an image: width, height, `4 * width * height` bytes.
pub(super) struct Rgba {
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
pub(super) fn image_pixels(image: &JsValue) -> Result<Rgba, JsError> {
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
