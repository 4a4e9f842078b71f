//! Typed operators with parsed attributes.
//!
//! Some variants exist only between import and shape inference (their attributes may
//! still sit in constant inputs: `Clip`, `Reshape`, `Squeeze`, `Pad`...); inference
//! turns them into canonical variants (`Act`, `View`, `Reduce`, ...) that the passes
//! and the plan work on. Fused variants (`Conv` with an activation and a residual,
//! `MatMul` with a bias, `SeBlock`) are produced by the passes.

use super::conv::Conv;
use super::infer::{InferResult, Inferred, Inputs, Issue};
use super::pool::Pool;
use super::reduce::{self, ReduceKind};
use super::{Activation, BinaryOp, PadMode, SqueezeMode, UnaryOp};
use super::{activation, batch_norm, binary, concat, constant, conv, matmul};
use super::{layer_norm, pad, pool, slice, softmax, squeeze, transpose, unary, view};
use crate::tensor::{Const, DType};

#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// An op the runtime cannot run; the reason goes into `Error::UnsupportedModel`.
    Unsupported(String),

    // ---- compute ops (canonical after inference) ----
    Conv(Conv),
    /// `[x, a, b?]`: `act(a @ b + bias)` with NumPy matmul semantics.
    MatMul {
        act: Activation,
    },
    Act(Activation),
    /// An elementwise math function (never fused).
    Unary(UnaryOp),
    Binary(BinaryOp, Activation),
    /// Mean or max over the trailing dimensions of the input, from dimension `axis` on
    /// (GlobalAveragePool, GlobalMaxPool, ReduceMean over a suffix of axes).
    Reduce {
        mode: SqueezeMode,
        axis: usize,
    },
    /// A reduction over `axes` (sorted, distinct); the output keeps or drops them.
    ReduceAxes {
        kind: ReduceKind,
        axes: Vec<usize>,
    },
    Pool(Pool),
    /// `coerce_2d`: opset < 13 semantics (softmax over all dimensions from `axis` on);
    /// `log`: LogSoftmax.
    Softmax {
        axis: usize,
        coerce_2d: bool,
        log: bool,
    },
    Concat {
        axis: usize,
    },
    /// `[x, scale, bias?]`: each row of the dimensions from `axis` on normalised;
    /// outputs `[y, mean?, inv_std_dev?]`.
    LayerNorm {
        axis: usize,
        epsilon: f32,
    },
    /// Parts of `sizes` along `axis`, one output each.
    Split {
        axis: usize,
        sizes: Vec<usize>,
    },
    Transpose {
        perm: Vec<usize>,
    },
    Pad {
        pads: Vec<usize>,
        kind: PadMode,
    },
    /// Reshape-like: the output is the input's data with the output value's shape.
    View,
    /// A squeeze-and-excitation block found by the `se_block` pass.
    /// Inputs: `[x, w1 [R,C], b1 [R], w2 [C,R], b2 [C], residual?]`;
    /// outputs: `[y [N,C,H,W], excitation [N,C]]`.
    SeBlock {
        name: String,
        pooling: SqueezeMode,
        hidden: Activation,
        gate: Activation,
        /// Applied after the scale and the residual add.
        act: Activation,
    },

    // ---- lowered by passes ----
    BatchNorm {
        epsilon: f32,
    },
    Gemm {
        alpha: f32,
        beta: f32,
        trans_a: bool,
        trans_b: bool,
    },
    /// Identity, Dropout (inference) and no-op Casts.
    Identity,
    /// NumPy broadcast of input 0 to the output's shape (inputs `[x, shape]`).
    Expand,

    // ---- resolved by inference (attributes may come from constant inputs) ----
    Clip {
        min: Option<f32>,
        max: Option<f32>,
    },
    GlobalPool(SqueezeMode),
    ReduceAttr {
        kind: ReduceKind,
        axes: Option<Vec<i64>>,
        keepdims: bool,
        noop_with_empty_axes: bool,
    },
    SoftmaxAttr {
        axis: i64,
        coerce_2d: bool,
        log: bool,
    },
    ConcatAttr {
        axis: i64,
    },
    /// `split` as an attribute (opset < 13) or input 1, or `num_outputs` (opset 18);
    /// `outputs`: the node's.
    /// `outputs`: the node's.
    LayerNormAttr {
        axis: i64,
        epsilon: f32,
        outputs: usize,
    },
    SplitAttr {
        axis: i64,
        split: Option<Vec<i64>>,
        num_outputs: Option<i64>,
        outputs: usize,
    },
    TransposeAttr {
        perm: Option<Vec<i64>>,
    },
    PadAttr {
        pads: Option<Vec<i64>>,
        mode: String,
        value: f32,
    },
    Flatten {
        axis: i64,
    },
    Squeeze {
        axes: Option<Vec<i64>>,
    },
    Reshape {
        allowzero: bool,
    },
    Unsqueeze {
        axes: Option<Vec<i64>>,
    },

    /// Attribute form (opset < 10) or inputs `[data, starts, ends, axes?, steps?]`;
    /// inference resolves every attribute (`Some`). Folded on a constant, a strided
    /// copy otherwise.
    Slice {
        starts: Option<Vec<i64>>,
        ends: Option<Vec<i64>>,
        axes: Option<Vec<i64>>,
        steps: Option<Vec<i64>>,
    },

    // ---- constant-only ops: evaluated at load time (`graph::fold`), unsupported otherwise ----
    Shape {
        start: i64,
        end: Option<i64>,
    },
    Gather {
        axis: i64,
    },
    Cast {
        to: DType,
    },
    ConstantOfShape {
        value: Const,
    },
}

impl Op {
    /// A short label for layer lists: the op with its fusions, e.g. `Conv+Relu+Add`.
    pub fn label(&self) -> String {
        let with_act = |base: &str, act: &Activation| match act {
            Activation::Identity => base.to_string(),
            a => format!("{base}+{}", a.onnx_name()),
        };
        match self {
            Op::Conv(c) => with_act("Conv", &c.act),
            Op::MatMul { act } => with_act("MatMul", act),
            Op::Act(a) => a.onnx_name().to_string(),
            Op::Unary(u) => format!("{u:?}"),
            Op::Binary(b, act) => with_act(&format!("{b:?}"), act),
            Op::Reduce { mode, .. } => format!("Reduce{mode:?}"),
            Op::ReduceAxes { kind, .. } => format!("Reduce{kind:?}"),
            Op::Pool(p) => format!("{:?}Pool", p.mode),
            Op::Softmax { log: false, .. } => "Softmax".into(),
            Op::Softmax { log: true, .. } => "LogSoftmax".into(),
            Op::Concat { .. } => "Concat".into(),
            Op::Split { .. } => "Split".into(),
            Op::LayerNorm { .. } => "LayerNorm".into(),
            Op::Slice { .. } => "Slice".into(),
            Op::Transpose { .. } => "Transpose".into(),
            Op::Pad { .. } => "Pad".into(),
            Op::View => "View".into(),
            Op::SeBlock { act, .. } => with_act("SeBlock", act),
            other => format!("{other:?}"),
        }
    }
}

impl Op {
    /// Infers one node: its canonical op, its outputs' shapes and whether it is a
    /// constant, by the rule beside each op.
    pub fn infer(&self, x: &Inputs) -> InferResult<Inferred> {
        let op = self;
        match op {
            Op::Conv(c) => conv::infer(c, x),
            Op::Pool(p) => pool::infer(p, x),
            Op::BatchNorm { .. } => batch_norm::infer(op, x),
            Op::Act(a) => activation::infer(*a, x),
            Op::Unary(u) => unary::infer(*u, x),
            Op::Clip { min, max } => activation::infer_clip(*min, *max, x),
            Op::Binary(b, a) => binary::infer(*b, *a, x),
            Op::Expand => binary::infer_expand(x),
            Op::GlobalPool(mode) => squeeze::infer_global_pool(*mode, x),
            Op::ReduceAttr {
                kind,
                axes,
                keepdims,
                noop_with_empty_axes,
            } => reduce::infer(*kind, axes.as_deref(), *keepdims, *noop_with_empty_axes, x),
            Op::MatMul { .. } => matmul::infer(op, x),
            Op::Gemm {
                trans_a, trans_b, ..
            } => matmul::infer_gemm(op, *trans_a, *trans_b, x),
            Op::Flatten { axis } => view::infer_flatten(*axis, x),
            Op::Reshape { allowzero } => view::infer_reshape(*allowzero, x),
            Op::Squeeze { axes } => view::infer_squeeze(axes.as_deref(), x),
            Op::Unsqueeze { axes } => view::infer_unsqueeze(axes.as_deref(), x),
            Op::Identity => view::infer_identity(x),
            Op::ConcatAttr { axis } => concat::infer(*axis, x),
            Op::SoftmaxAttr {
                axis,
                coerce_2d,
                log,
            } => softmax::infer(*axis, *coerce_2d, *log, x),
            Op::PadAttr { pads, mode, value } => pad::infer(pads.as_deref(), mode, *value, x),
            Op::TransposeAttr { perm } => transpose::infer(perm.as_deref(), x),
            Op::Shape { start, end } => constant::infer_shape(*start, *end, x),
            Op::Gather { axis } => constant::infer_gather(*axis, x),
            Op::Cast { to } => constant::infer_cast(*to, x),
            Op::Slice {
                starts, ends, axes, ..
            } => slice::infer_slice(starts.as_deref(), ends.as_deref(), axes.as_deref(), x),
            Op::LayerNormAttr {
                axis,
                epsilon,
                outputs,
            } => layer_norm::infer(*axis, *epsilon, *outputs, x),
            Op::SplitAttr {
                axis,
                split,
                num_outputs,
                outputs,
            } => slice::infer_split(*axis, split.as_deref(), *num_outputs, *outputs, x),
            Op::ConstantOfShape { value } => constant::infer_constant_of_shape(value, x),
            // Canonical ops only reach inference when a graph is inferred twice.
            Op::Reduce { .. }
            | Op::ReduceAxes { .. }
            | Op::Softmax { .. }
            | Op::Concat { .. }
            | Op::Split { .. }
            | Op::LayerNorm { .. }
            | Op::Transpose { .. }
            | Op::Pad { .. }
            | Op::View
            | Op::SeBlock { .. } => Err(x.bad("internal: canonical op before inference")),
            Op::Unsupported(r) => Err(Issue::Unsupported(r.clone())),
        }
    }
}
