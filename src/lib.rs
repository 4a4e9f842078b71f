//! se-runtime: GPU inference for Squeeze-and-Excitation networks on WebGPU.
//!
//! Module map:
//! - [`device`]: adapter choice, device, pipeline cache, submission, readback;
//! - [`tensor`]: f32 GPU tensors (NCHW) and the buffer pool;
//! - [`kernels`]: one module per WGSL kernel family in `shaders/`;
//! - [`cpu`]: the plain-Rust reference of every kernel, named to match;
//! - [`onnx`] -> [`graph`] -> [`passes`] -> [`plan`]: the model compiler (ONNX import,
//!   shape inference and constant folding, SE-aware fusion, buffer planning);
//! - [`model`]: the public `Model` API over it.

pub mod cpu;
pub mod device;
pub mod error;
pub mod graph;
pub mod kernels;
pub mod model;
pub mod onnx;
pub mod passes;
pub mod plan;
pub mod tensor;

pub use device::{Runtime, RuntimeOptions};
pub use error::{Error, ModelError, Result, Unsupported};
pub use graph::PoolMode;
pub use kernels::Activation;
pub use model::{LayerInfo, Model, ModelInfo, SeBlockInfo, TensorInfo};
pub use passes::Fusions;
pub use tensor::{HostTensor, Tensor};
