//! Plain-Rust reference kernels, one module per GPU kernel family and named to
//! match (`shaders/conv2d.wgsl` <-> `kernels::conv2d` <-> `cpu::conv2d`). Written for
//! clarity and to stay comparable line by line with the shaders; tests compare the
//! two, and the browser build falls back to them where WebGPU is missing.

pub mod activation;
pub mod binary;
pub mod concat;
pub mod conv2d;
pub mod excite;
pub mod layer_norm;
pub mod matmul;
pub mod pad;
pub mod pool;
pub mod reduce;
pub mod scale;
pub mod se_block;
pub mod slice;
pub mod softmax;
pub mod squeeze;
pub mod transpose;
pub mod unary;
