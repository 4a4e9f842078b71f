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
pub mod layer_norm;
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

/// The [`Shader`](crate::device::Shader) `name`, its source the listed files of
/// `shaders/` (without `.wgsl`) joined in order: the pieces of `shaders/shared/` it uses,
/// each listed only by the shaders that call it, then its own file. A prelude that opens
/// with `enable f16;` comes first, where WGSL needs the directive.
macro_rules! shader {
    ($name:literal, [$($file:literal),+ $(,)?]) => {
        $crate::device::Shader {
            name: $name,
            source: concat!($(include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/shaders/",
                $file,
                ".wgsl"
            ))),+),
        }
    };
}
pub(crate) use shader;

/// Every shader the runtime builds, for validation tests.
pub const SHADERS: &[crate::device::Shader] = &[
    unary::SHADER,
    binary::SHADER,
    conv2d::SHADER_F32,
    conv2d::SHADER_F16,
    matmul::SHADER_F32,
    matmul::SHADER_F16A,
    matmul::SHADER_F16B,
    squeeze::SHADER_TREE,
    squeeze::SHADER_SUBGROUP,
    excite::SHADER,
    scale::SHADER,
    pool::SHADER,
    layer_norm::SHADER,
    reduce::SHADER,
    softmax::SHADER,
    concat::SHADER,
    transpose::SHADER,
    pad::SHADER,
];

// The device pieces every kernel family uses.
pub(crate) use crate::device::{Dispatch, Shader, distinct_output, grid, groups};
