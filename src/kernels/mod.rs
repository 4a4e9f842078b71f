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

/// What the host code assumes of one entry point of a shader, checked against the WGSL
/// (reflected with naga) by tests/shaders.rs: where each `Params` member it writes
/// sits, and how many invocations a workgroup has.
pub struct EntryPoint {
    pub shader: crate::device::Shader,
    pub name: &'static str,
    pub params: Layout,
    pub workgroup: Workgroup,
}

/// A uniform struct's size and its members' byte offsets by name, padding (`_` names)
/// left out. A member may have two names, one per shader that reads it.
pub struct Layout {
    pub size: usize,
    pub members: &'static [(&'static str, usize)],
}

/// The workgroup size the host divides its work by.
pub enum Workgroup {
    Invocations(usize),
    /// [`matmul::Tile::invocations`]: the GEMM strategy's `WG_M` x `WG_N`.
    GemmTile,
    /// One workgroup per item whatever its size (softmax's workgroup per row).
    PerItem,
}

/// Invocations per workgroup of the kernels with one invocation per output element.
pub(crate) const ELEMENTWISE_WORKGROUP: usize = 256;

/// A kernel's uniform parameters: a `#[repr(C)]` struct that mirrors the shader's
/// `@binding(0)` struct, with its [`Layout`] as `LAYOUT`. A member written `a | b` is
/// named `a` in Rust and `a` or `b` in the shaders.
macro_rules! uniform {
    (struct $name:ident {
        $($(#[$doc:meta])* $field:ident $(| $alias:ident)?: $ty:ty),+ $(,)?
    }) => {
        #[repr(C)]
        #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
        pub(super) struct $name {
            $($(#[$doc])* $field: $ty),+
        }

        impl $name {
            pub(super) const LAYOUT: $crate::kernels::Layout = $crate::kernels::Layout {
                size: std::mem::size_of::<$name>(),
                members: &[$(
                    (stringify!($field), std::mem::offset_of!($name, $field)),
                    $((stringify!($alias), std::mem::offset_of!($name, $field)),)?
                )+],
            };
        }
    };
}
pub(crate) use uniform;

const fn entry(
    shader: crate::device::Shader,
    name: &'static str,
    params: Layout,
    workgroup: Workgroup,
) -> EntryPoint {
    EntryPoint {
        shader,
        name,
        params,
        workgroup,
    }
}

/// Every entry point of every shader in [`SHADERS`].
pub const ENTRY_POINTS: &[EntryPoint] = {
    use Workgroup::{GemmTile, Invocations, PerItem};
    &[
        entry(
            layer_norm::SHADER,
            "layer_norm",
            layer_norm::Params::LAYOUT,
            Invocations(layer_norm::WORKGROUP),
        ),
        entry(
            unary::SHADER,
            "unary",
            unary::Params::LAYOUT,
            Invocations(ELEMENTWISE_WORKGROUP),
        ),
        entry(
            binary::SHADER,
            "binary",
            binary::Params::LAYOUT,
            Invocations(ELEMENTWISE_WORKGROUP),
        ),
        entry(
            conv2d::SHADER_F32,
            "conv2d_igemm",
            conv2d::Params::LAYOUT,
            GemmTile,
        ),
        entry(
            conv2d::SHADER_F16,
            "conv2d_igemm",
            conv2d::Params::LAYOUT,
            GemmTile,
        ),
        entry(
            conv2d::SHADER_F32,
            "conv2d_depthwise",
            conv2d::Params::LAYOUT,
            Invocations(conv2d::DEPTHWISE_WORKGROUP),
        ),
        entry(
            conv2d::SHADER_F16,
            "conv2d_depthwise",
            conv2d::Params::LAYOUT,
            Invocations(conv2d::DEPTHWISE_WORKGROUP),
        ),
        entry(
            matmul::SHADER_F32,
            "matmul",
            matmul::Params::LAYOUT,
            GemmTile,
        ),
        entry(
            matmul::SHADER_F16A,
            "matmul",
            matmul::Params::LAYOUT,
            GemmTile,
        ),
        entry(
            matmul::SHADER_F16B,
            "matmul",
            matmul::Params::LAYOUT,
            GemmTile,
        ),
        entry(
            squeeze::SHADER_TREE,
            "squeeze",
            squeeze::Params::LAYOUT,
            Invocations(squeeze::WORKGROUP),
        ),
        entry(
            squeeze::SHADER_TREE,
            "squeeze_vec4",
            squeeze::Params::LAYOUT,
            Invocations(squeeze::WORKGROUP),
        ),
        entry(
            squeeze::SHADER_SUBGROUP,
            "squeeze_subgroup",
            squeeze::Params::LAYOUT,
            Invocations(squeeze::WORKGROUP),
        ),
        entry(
            squeeze::SHADER_SUBGROUP,
            "squeeze_subgroup_vec4",
            squeeze::Params::LAYOUT,
            Invocations(squeeze::WORKGROUP),
        ),
        entry(
            excite::SHADER,
            "excite",
            excite::Params::LAYOUT,
            Invocations(excite::WORKGROUP),
        ),
        entry(
            excite::SHADER,
            "excite_layer",
            excite::LayerParams::LAYOUT,
            Invocations(excite::LAYER_WORKGROUP),
        ),
        entry(
            excite::SHADER,
            "excite_layer_vec4",
            excite::LayerParams::LAYOUT,
            Invocations(excite::LAYER_WORKGROUP),
        ),
        entry(
            scale::SHADER,
            "scale",
            scale::Params::LAYOUT,
            Invocations(ELEMENTWISE_WORKGROUP),
        ),
        entry(
            scale::SHADER,
            "scale_vec4",
            scale::Params::LAYOUT,
            Invocations(ELEMENTWISE_WORKGROUP),
        ),
        entry(
            pool::SHADER,
            "max_pool2d",
            pool::Params::LAYOUT,
            Invocations(ELEMENTWISE_WORKGROUP),
        ),
        entry(
            pool::SHADER,
            "avg_pool2d",
            pool::Params::LAYOUT,
            Invocations(ELEMENTWISE_WORKGROUP),
        ),
        entry(
            softmax::SHADER,
            "softmax_rows",
            softmax::Params::LAYOUT,
            Invocations(softmax::Strategy::Rows.rows_per_workgroup()),
        ),
        entry(
            softmax::SHADER,
            "softmax_workgroup",
            softmax::Params::LAYOUT,
            PerItem,
        ),
        entry(
            concat::SHADER,
            "concat",
            concat::Params::LAYOUT,
            Invocations(ELEMENTWISE_WORKGROUP),
        ),
        entry(
            transpose::SHADER,
            "transpose",
            transpose::Params::LAYOUT,
            Invocations(ELEMENTWISE_WORKGROUP),
        ),
        entry(
            pad::SHADER,
            "pad",
            pad::Params::LAYOUT,
            Invocations(ELEMENTWISE_WORKGROUP),
        ),
        entry(
            reduce::SHADER,
            "reduce",
            reduce::Params::LAYOUT,
            Invocations(reduce::WORKGROUP),
        ),
    ]
};

// The device pieces every kernel family uses.
pub(crate) use crate::device::{Dispatch, Shader, distinct_output, grid, groups};
