//! se-runtime: GPU inference for Squeeze-and-Excitation networks on WebGPU.
//!
//! Module map:
//! - [`device`]: adapter choice, device, pipeline cache, submission, readback;
//! - [`tensor`]: f32 GPU tensors (NCHW) and the buffer pool;
//! - [`kernels`]: one module per WGSL kernel family in `shaders/`;
//! - [`cpu`]: the plain-Rust reference of every kernel, named to match;
//! - [`se_block`]: a whole SE block (squeeze, excite, scale) as one call;
//! - `web` (wasm32 only): the JavaScript API of the npm package.

pub mod cpu;
pub mod device;
pub mod error;
pub mod kernels;
pub mod se_block;
pub mod tensor;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use device::{Runtime, RuntimeOptions};
pub use error::{Error, Result};
pub use kernels::Activation;
pub use kernels::squeeze::SqueezeMode;
pub use se_block::{SeBlock, SeOutput};
pub use tensor::{HostTensor, Tensor};
