//! se-runtime: GPU inference for Squeeze-and-Excitation networks on WebGPU.
//!
//! Module map:
//! - [`ops`]: backend-neutral operator definitions: the graph's ops, their parameters,
//!   shape rules and per-op shape inference, the SE block's weights;
//! - [`device`]: the only code that talks to wgpu: adapter choice, device, pipeline
//!   cache, GPU tensors and the buffer pool, submission, readback, timestamp profiling;
//! - [`tensor`]: f32 host tensors (NCHW), model constants and shape helpers;
//! - [`kernels`]: one module per WGSL kernel family in `shaders/`;
//! - [`cpu`]: the plain-Rust reference of every kernel, named to match;
//! - [`se_block`]: a whole SE block (squeeze, excite, scale) as one call;
//! - [`onnx`] -> [`graph`] -> [`passes`] -> [`plan`]: the model compiler (ONNX import,
//!   the inference walk and constant folding, SE-aware fusion, buffer planning);
//! - [`backend`]: what runs a plan: the GPU ([`Session`]), the CPU reference
//!   ([`CpuSession`]), behind one trait;
//! - [`model`]: the public `Model` API over it;
//! - [`preprocess`]: images to input tensors, scores to labelled probabilities;
//! - [`classifier`]: an image classifier's input, preprocessing and labels, from its
//!   metadata (used by the program and the browser bindings alike);
//! - `web` (wasm32 only): the JavaScript API of the npm package.

pub mod backend;
pub mod cam;
pub mod classifier;
pub mod cpu;
pub mod device;
pub mod error;
pub mod graph;
pub mod kernels;
pub mod model;
pub mod onnx;
pub mod ops;
pub mod passes;
pub mod plan;
pub mod preprocess;
pub mod se_block;
pub mod tensor;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use backend::{CpuSession, Excitation, Inference, Session};
pub use device::{BackendPreference, HalfTensor, LimitCaps, Runtime, RuntimeOptions, Tensor};
pub use error::{ClassifierError, Error, ModelError, PreprocessError, Result, Unsupported};
pub use model::{CompileOptions, LayerInfo, Model, ModelInfo, SeBlockInfo, TensorInfo};
pub use ops::{Activation, SqueezeMode};
pub use passes::Fusions;
pub use se_block::{SeBlock, SeOutput};
pub use tensor::HostTensor;

// Native image decoding's error ([`preprocess::decode_image`]).
pub use error::ImageError;
