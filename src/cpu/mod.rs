//! Plain-Rust reference kernels, one module per GPU kernel family and named to
//! match (`shaders/conv2d.wgsl` <-> `kernels::conv2d` <-> `cpu::conv2d`). Written for
//! clarity and to stay comparable line by line with the shaders; tests compare the
//! two, and the browser build falls back to them where WebGPU is missing.

pub mod activation;
pub mod binary;
pub mod conv2d;
pub mod matmul;
pub mod excite;
pub mod scale;
pub mod se_block;
pub mod squeeze;
pub mod unary;
