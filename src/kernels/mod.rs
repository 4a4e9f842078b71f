//! GPU kernels, one module per WGSL file in `shaders/`, each with a CPU reference of
//! the same name in `crate::cpu`.
//!
//! Each kernel function prepares a [`Dispatch`](crate::device::Dispatch) through
//! [`Runtime::dispatch`](crate::device::Runtime::dispatch), whose binding convention
//! every shader follows: `@binding(0)` is the kernel's uniform parameters,
//! `@binding(1..)` its tensors, inputs first, then outputs.

pub mod activation;
pub mod binary;
pub mod concat;
pub mod conv2d;
pub mod excite;
pub mod matmul;
pub mod pad;
pub mod pool;
pub mod reduce;
pub mod scale;
pub mod slice;
pub mod softmax;
pub mod squeeze;
pub mod transpose;
pub mod unary;

/// The [`Shader`](crate::device::Shader) for `shaders/<name>.wgsl`, with the shared
/// activation functions prepended.
macro_rules! shader {
    ($name:literal) => {
        $crate::device::Shader {
            name: $name,
            source: concat!(
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/shaders/activation.wgsl"
                )),
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/shaders/",
                    $name,
                    ".wgsl"
                )),
            ),
        }
    };
    // `name` built from shaders/<prelude>.wgsl, the activation functions, then
    // shaders/<body>.wgsl: a prelude can open with `enable f16;`, which must come first.
    ($name:literal, $prelude:literal, $body:literal) => {
        $crate::device::Shader {
            name: $name,
            source: concat!(
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/shaders/",
                    $prelude,
                    ".wgsl"
                )),
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/shaders/activation.wgsl"
                )),
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/shaders/",
                    $body,
                    ".wgsl"
                )),
            ),
        }
    };
}
pub(crate) use shader;

/// Every shader the runtime builds, for validation tests.
pub const SHADERS: &[crate::device::Shader] = &[
    shader!("unary"),
    shader!("binary"),
    shader!("conv2d", "conv2d_f32", "conv2d"),
    shader!("conv2d_f16", "conv2d_f16", "conv2d"),
    shader!("matmul", "matmul_f32", "matmul"),
    shader!("matmul_f16a", "matmul_f16a", "matmul"),
    shader!("matmul_f16b", "matmul_f16b", "matmul"),
    shader!("squeeze"),
    shader!("squeeze_subgroup"),
    shader!("excite"),
    shader!("scale"),
    shader!("pool"),
    shader!("reduce"),
    shader!("softmax"),
    shader!("concat"),
    shader!("transpose"),
    shader!("pad"),
];

// The device pieces every kernel family uses.
pub(crate) use crate::device::{Dispatch, distinct_output, grid, groups};
