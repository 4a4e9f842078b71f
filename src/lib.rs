//! se-runtime: GPU inference for Squeeze-and-Excitation networks on WebGPU.
//!
//! Module map:
//! - [`ops`]: backend-neutral operator definitions (parameters, shape rules);
//! - [`device`]: adapter choice, device, pipeline cache, submission, readback;
//! - [`tensor`]: f32 GPU tensors (NCHW) and the buffer pool;
//! - [`kernels`]: one module per WGSL kernel family in `shaders/`;
//! - [`cpu`]: the plain-Rust reference of every kernel, named to match;
//! - [`se_block`]: a whole SE block (squeeze, excite, scale) as one call;
//! - [`onnx`] -> [`graph`] -> [`passes`] -> [`plan`]: the model compiler (ONNX import,
//!   shape inference and constant folding, SE-aware fusion, buffer planning);
//! - [`model`]: the public `Model` API over it;
//! - [`preprocess`]: images to input tensors, scores to labelled probabilities;
//! - [`classifier`]: an image classifier's input, preprocessing and labels, from its
//!   metadata (used by the program and the browser bindings alike);
//! - [`profile`]: GPU time per group of dispatches, from timestamp queries;
//! - `web` (wasm32 only): the JavaScript API of the npm package.

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
pub mod profile;
pub mod se_block;
pub mod tensor;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use device::{LimitCaps, Runtime, RuntimeOptions};
pub use error::{ClassifierError, Error, ModelError, PreprocessError, Result, Unsupported};
pub use model::{CompileOptions, LayerInfo, Model, ModelInfo, SeBlockInfo, TensorInfo};
pub use ops::{Activation, SqueezeMode};
pub use passes::Fusions;
pub use plan::{CpuSession, Excitation, Inference, Session};
pub use se_block::{SeBlock, SeOutput};
pub use tensor::HalfTensor;
pub use tensor::{HostTensor, Tensor};

// Native image decoding's error ([`preprocess::decode_image`]).
pub use error::ImageError;
