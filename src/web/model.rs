//! The JS `Model`: a model loaded (`runtime.loadModel`) and prepared on a runtime's
//! backend, to `classify` images, run raw tensors, profile, and describe itself.

use std::collections::BTreeMap;

use js_sys::{Array, Float32Array, Function, Object};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::classifier::{ImageClassifier, Overrides};
use crate::preprocess::{self, ImageRef};
use crate::{CpuSession, HostTensor, Inference, Model, ModelInfo, Session};

use super::convert;
use super::result::{self, ClassScore, Times};
use super::runtime::{Backend, WebRuntime};

#[wasm_bindgen]
extern "C" {
    /// Milliseconds since the page started, for timings.
    #[wasm_bindgen(js_namespace = performance)]
    fn now() -> f64;
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
        let bytes = convert::source_bytes(&source, "loadModel").await?;
        let fail = convert::failed("loadModel");
        let model = Model::from_bytes(&bytes).map_err(fail)?;
        let options = convert::options(options);
        let mut metadata = model.info().metadata.clone();
        metadata.extend(convert::metadata_option(&options)?);
        let classifier = ImageClassifier::new(model.info(), &metadata, Overrides::default())
            .map_err(|e| fail(e.into()))?;
        let classes = model
            .info()
            .outputs
            .first()
            .and_then(|o| o.shape.last().copied())
            .unwrap_or(0);
        if let Some(l) = &classifier.labels
            && l.len() != classes
        {
            return Err(JsError::new(&format!(
                "loadModel: se_runtime.labels names {} classes but the model's first output has {classes}",
                l.len()
            )));
        }
        // A model that fixes its batch size gets copies of the image; row 0 is reported.
        let batch = convert::batch_option(&options, model.info().batch)?;
        let on_progress = convert::get(&options, "onProgress")
            .dyn_into::<Function>()
            .ok();
        let executor = match &self.backend {
            Backend::Gpu { rt, .. } => Executor::Gpu {
                session: Session::with_progress(rt, &model, batch, |done, total| {
                    if let Some(f) = &on_progress {
                        let _ = f.call1(&JsValue::NULL, &convert::progress("compile", done, total));
                    }
                })
                .map_err(fail)?,
            },
            Backend::Cpu { .. } => Executor::Cpu(CpuSession::new(&model, batch).map_err(fail)?),
        };
        let [h, w] = classifier.size();
        let web = WebModel {
            info: model.info().clone(),
            executor,
            classifier,
            metadata,
            batch,
        };
        let blank = vec![255u8; 4 * h as usize * w as usize];
        let blank = ImageRef::new(w, h, &blank).map_err(fail)?;
        web.run(
            web.classifier
                .preprocess
                .to_tensor(&[blank])
                .map_err(fail)?,
        )
        .await
        .map_err(fail)?;
        Ok(web)
    }
}

/// Where a model runs.
enum Executor {
    Gpu { session: Session },
    Cpu(CpuSession),
}

/// A model prepared on a runtime: `classify` images, read `info()`.
#[wasm_bindgen(js_name = Model)]
pub struct WebModel {
    info: ModelInfo,
    executor: Executor,
    classifier: ImageClassifier,
    /// The model's metadata with `options.metadata` merged in.
    metadata: BTreeMap<String, String>,
    batch: usize,
}

impl WebModel {
    async fn run(&self, input: HostTensor) -> crate::Result<Inference> {
        let input = if self.batch > 1 {
            let shape = [&[self.batch], &input.shape[1..]].concat();
            HostTensor::new(&shape, input.data.repeat(self.batch))?
        } else {
            input
        };
        self.run_raw(input).await
    }

    /// A raw input of this model's batch and image shape.
    fn input_tensor(&self, input: &Float32Array) -> crate::Result<HostTensor> {
        let shape = &self.info.inputs[0].shape;
        let shape = [&[self.batch], &shape[1..]].concat();
        HostTensor::new(&shape, input.to_vec())
    }

    /// Runs an input that already has the session's batch size. Overlapping calls
    /// queue: a GPU session holds its lock from input to readback, and the CPU session
    /// runs to completion without awaiting.
    async fn run_raw(&self, input: HostTensor) -> crate::Result<Inference> {
        let inputs = [(self.classifier.input.as_str(), input)];
        match &self.executor {
            Executor::Gpu { session, .. } => session.run(&inputs).await,
            Executor::Cpu(session) => session.run(&inputs).await,
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
        let start = now();
        let fail = convert::failed("classify");
        let k = convert::top_k_option(&convert::options(options))?;
        let pixels = convert::image_pixels(&image)?;
        let image = ImageRef::new(pixels.width, pixels.height, &pixels.data).map_err(fail)?;
        let input = self
            .classifier
            .preprocess
            .to_tensor(&[image])
            .map_err(fail)?;
        let prepared = now();
        let inference = self.run(input).await.map_err(fail)?;
        let done = now();

        let output = &inference.outputs[0].1;
        let scores = &output.data[..output.len() / self.batch];
        let probabilities = preprocess::probabilities(scores);
        let top: Vec<ClassScore> = preprocess::top_k(&probabilities, k)
            .into_iter()
            .map(|(index, probability)| ClassScore {
                index,
                label: self.classifier.label(index),
                probability,
            })
            .collect();
        let times = Times {
            start,
            prepared,
            done,
        };
        Ok(result::classify_result(
            &top,
            &probabilities,
            &inference.excitations,
            times,
            self.backend_name(),
        )
        .into())
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
        let fail = convert::failed("runTensor");
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
        let fail = convert::failed("profile");
        let Executor::Gpu { session, .. } = &self.executor else {
            return Err(JsError::new(
                "profile: the CPU fallback has no GPU timestamps",
            ));
        };
        let input = self.input_tensor(&input).map_err(fail)?;
        let times = session
            .profile(&[(self.classifier.input.as_str(), input)])
            .await
            .map_err(fail)?;
        Ok(result::step_times(&session.plan().steps, &times))
    }

    /// What the model is: inputs, outputs, labels, SE blocks, layers, size, metadata
    /// and preprocessing.
    #[wasm_bindgen(unchecked_return_type = "ModelInfo")]
    pub fn info(&self) -> JsValue {
        let loaded = result::Loaded {
            metadata: &self.metadata,
            preprocess: &self.classifier.preprocess,
            labels: self.classifier.labels.as_deref(),
            backend: self.backend_name(),
        };
        result::model_info(&self.info, loaded).into()
    }
}
