//! The ONNX operators the importer accepts, each with the parser of its attributes
//! into a typed [`Op`] for the model's opset. [`ANY_OPERANDS`] and
//! [`CONSTANT_OPERANDS`] are the one list: the importer dispatches on it and
//! [`operators`] reports it.

use super::attributes::{Ctx, Parsed, four, parsed, two};
use super::proto::attribute_proto::AttributeType;
use super::proto::tensor_proto::DataType;
use super::{TensorError, tensor_to_const};
use crate::ops::reduce::ReduceKind;
use crate::ops::{
    Activation, BinaryOp, Conv, Conv2dParams, Op, Pool, Pool2dParams, SqueezeMode, UnaryOp,
};
use crate::tensor::{Const, DType, HostTensor};

/// The node type whose value becomes a constant rather than an op.
pub(super) const CONSTANT: &str = "Constant";

type Parser = fn(&Ctx) -> Parsed<Op>;

/// What an operator's inputs may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operands {
    /// Tensors computed at run time or constants.
    Any,
    /// Constants only: shape arithmetic, evaluated when the model loads; on a tensor
    /// computed at run time the node is unsupported.
    Constant,
}

/// The default-domain operators the importer accepts on any operands (and
/// `Constant`), with their parsers.
const ANY_OPERANDS: &[(&str, Parser)] = &[
    ("Conv", conv),
    ("MaxPool", pool),
    ("AveragePool", pool),
    ("BatchNormalization", batch_norm),
    ("Relu", |_| act(Activation::Relu)),
    ("Sigmoid", |_| act(Activation::Sigmoid)),
    ("Tanh", |_| act(Activation::Tanh)),
    ("HardSwish", |_| act(Activation::HardSwish)),
    ("HardSigmoid", hard_sigmoid),
    ("Clip", clip),
    ("Ceil", |_| unary(UnaryOp::Ceil)),
    ("Floor", |_| unary(UnaryOp::Floor)),
    ("Round", |_| unary(UnaryOp::Round)),
    ("Sqrt", |_| unary(UnaryOp::Sqrt)),
    ("Reciprocal", |_| unary(UnaryOp::Reciprocal)),
    ("Exp", |_| unary(UnaryOp::Exp)),
    ("Log", |_| unary(UnaryOp::Log)),
    ("Neg", |_| unary(UnaryOp::Neg)),
    ("Abs", |_| unary(UnaryOp::Abs)),
    ("Erf", |_| unary(UnaryOp::Erf)),
    ("Gelu", gelu),
    ("Add", |_| binary(BinaryOp::Add)),
    ("Sum", |c| variadic(c, BinaryOp::Add)),
    ("Max", |c| variadic(c, BinaryOp::Max)),
    ("Min", |c| variadic(c, BinaryOp::Min)),
    ("Sub", |_| binary(BinaryOp::Sub)),
    ("Mul", |_| binary(BinaryOp::Mul)),
    ("Div", |_| binary(BinaryOp::Div)),
    ("Pow", |_| binary(BinaryOp::Pow)),
    ("GlobalAveragePool", |_| {
        op(Op::GlobalPool(SqueezeMode::Avg))
    }),
    ("GlobalMaxPool", |_| op(Op::GlobalPool(SqueezeMode::Max))),
    ("ReduceSum", reduce),
    ("ReduceMean", reduce),
    ("ReduceMax", reduce),
    ("ReduceMin", reduce),
    ("ReduceL2", reduce),
    ("ReduceSumSquare", reduce),
    ("ReduceL1", reduce),
    ("ReduceProd", reduce),
    ("ReduceLogSum", reduce),
    ("ReduceLogSumExp", reduce),
    ("Gemm", gemm),
    ("MatMul", |_| {
        op(Op::MatMul {
            act: Activation::Identity,
        })
    }),
    ("Flatten", |c| {
        op(Op::Flatten {
            axis: c.int("axis", 1)?,
        })
    }),
    ("Reshape", reshape),
    ("Squeeze", squeeze),
    ("Unsqueeze", unsqueeze),
    ("Concat", concat),
    ("Split", split),
    ("LayerNormalization", |c| {
        op(Op::LayerNormAttr {
            axis: c.int("axis", -1)?,
            epsilon: c.float("epsilon", 1e-5)?,
            outputs: c.node.output.len(),
        })
    }),
    ("Slice", slice),
    ("Softmax", softmax),
    ("LogSoftmax", softmax),
    ("Pad", pad),
    ("Transpose", |c| {
        op(Op::TransposeAttr {
            perm: c.ints("perm")?,
        })
    }),
    ("Identity", |_| op(Op::Identity)),
    // Inference: no dropout.
    ("Dropout", |_| op(Op::Identity)),
    ("Expand", |_| op(Op::Expand)),
    // Its output is an integer constant, whatever its input.
    ("Shape", shape),
    // A Cast to f32 of an f32 tensor runs (as an Identity); others only on constants.
    ("Cast", cast),
];

/// The operators the importer accepts on constant operands only.
const CONSTANT_OPERANDS: &[(&str, Parser)] = &[
    ("Gather", |c| {
        op(Op::Gather {
            axis: c.int("axis", 0)?,
        })
    }),
    ("ConstantOfShape", constant_of_shape),
];

/// The ONNX operator types (default domain) the importer accepts, each with what its
/// operands may be.
pub fn operators() -> impl Iterator<Item = (&'static str, Operands)> {
    let with = |operands| move |&(name, _): &(&'static str, Parser)| (name, operands);
    std::iter::once((CONSTANT, Operands::Any))
        .chain(ANY_OPERANDS.iter().map(with(Operands::Any)))
        .chain(CONSTANT_OPERANDS.iter().map(with(Operands::Constant)))
}

/// The node's op, or why it is unsupported.
pub(super) fn parse_op(c: &Ctx) -> Parsed<Op> {
    let mut parsers = ANY_OPERANDS.iter().chain(CONSTANT_OPERANDS);
    match parsers.find(|(name, _)| *name == c.op_type) {
        Some((_, parse)) => parse(c),
        None if c.op_type.is_empty() => Ok(Err("the node has no op_type".into())),
        None => Ok(Err(format!("operator {} is not supported", c.op_type))),
    }
}

/// A `Constant` node's value.
pub(super) fn constant(c: &Ctx) -> Parsed<Const> {
    if let Some(k) = parsed!(tensor_attribute(c, "value")) {
        return Ok(Ok(k));
    }
    if let Some(f) = c.float_opt("value_float")? {
        return Ok(Ok(Const::f32(HostTensor {
            shape: vec![],
            data: vec![f],
        })));
    }
    if let Some(a) = c.typed("value_floats", AttributeType::Floats)? {
        return Ok(Ok(Const::f32(HostTensor {
            shape: vec![a.floats.len()],
            data: a.floats.clone(),
        })));
    }
    if let Some(i) = c.int_opt("value_int")? {
        return Ok(Ok(Const::i64(vec![], vec![i])));
    }
    if let Some(v) = c.ints("value_ints")? {
        return Ok(Ok(Const::i64(vec![v.len()], v)));
    }
    Ok(Err(
        "only tensor, float(s) and int(s) constants are supported".into(),
    ))
}

/// A tensor attribute decoded into a constant.
fn tensor_attribute(c: &Ctx, name: &str) -> Parsed<Option<Const>> {
    let Some(a) = c.typed(name, AttributeType::Tensor)? else {
        return Ok(Ok(None));
    };
    let t = a.t.as_ref().ok_or_else(|| c.bad(name, "no tensor"))?;
    Ok(match tensor_to_const(t) {
        Ok(k) => Ok(Some(k)),
        Err(TensorError::Invalid(e)) => return Err(e),
        Err(TensorError::Unsupported(r)) => Err(r),
    })
}

fn conv(c: &Ctx) -> Parsed<Op> {
    if let Some(k) = c.ints("kernel_shape")?
        && k.len() != 2
    {
        return Ok(Err(format!(
            "kernel_shape {k:?}: only 2-D convolution is supported"
        )));
    }
    let kernel = parsed!(c.spatial("kernel_shape", 2, 1));
    let stride = parsed!(c.spatial("strides", 2, 1));
    let dilation = parsed!(c.spatial("dilations", 2, 1));
    let pads = parsed!(c.spatial("pads", 4, 0));
    let groups = c.int("group", 1)?;
    if groups < 1 {
        return Err(c.bad("group", format!("{groups} is below 1")));
    }
    Ok(Ok(Op::Conv(Conv {
        kernel: kernel.map(|k| [k[0], k[1]]),
        params: Conv2dParams {
            stride: two(stride, 1),
            padding: four(pads),
            dilation: two(dilation, 1),
            groups: groups as usize,
        },
        auto_pad: parsed!(c.auto_pad()),
        act: Activation::Identity,
    })))
}

/// MaxPool and AveragePool.
fn pool(c: &Ctx) -> Parsed<Op> {
    let Some(k) = c.ints("kernel_shape")? else {
        return Err(c.bad("kernel_shape", "missing"));
    };
    if k.len() != 2 {
        return Ok(Err(format!(
            "kernel_shape {k:?}: only 2-D pooling is supported"
        )));
    }
    let kernel = parsed!(c.spatial("kernel_shape", 2, 1)).unwrap_or_default();
    let stride = parsed!(c.spatial("strides", 2, 1));
    let dilation = parsed!(c.spatial("dilations", 2, 1));
    let pads = parsed!(c.spatial("pads", 4, 0));
    let max = c.op_type == "MaxPool";
    Ok(Ok(Op::Pool(Pool {
        mode: if max {
            SqueezeMode::Max
        } else {
            SqueezeMode::Avg
        },
        params: Pool2dParams {
            kernel: [kernel[0], kernel[1]],
            stride: two(stride, 1),
            padding: four(pads),
            dilation: two(dilation, 1),
            ceil_mode: c.flag("ceil_mode", false)?,
            count_include_pad: !max && c.flag("count_include_pad", false)?,
        },
        auto_pad: parsed!(c.auto_pad()),
    })))
}

fn batch_norm(c: &Ctx) -> Parsed<Op> {
    if c.flag("training_mode", false)? {
        return Ok(Err(
            "training_mode=1 is not supported (inference only)".into()
        ));
    }
    if c.opset < 9 && c.int("spatial", 1)? != 1 {
        return Ok(Err("spatial=0 is not supported".into()));
    }
    Ok(Ok(Op::BatchNorm {
        epsilon: c.float("epsilon", 1e-5)?,
    }))
}

fn op(op: Op) -> Parsed<Op> {
    Ok(Ok(op))
}

fn act(a: Activation) -> Parsed<Op> {
    op(Op::Act(a))
}

fn hard_sigmoid(c: &Ctx) -> Parsed<Op> {
    act(Activation::HardSigmoid {
        alpha: c.float("alpha", 0.2)?,
        beta: c.float("beta", 0.5)?,
    })
}

/// Bounds are attributes before opset 11, inputs (resolved by inference) since.
fn clip(c: &Ctx) -> Parsed<Op> {
    Ok(Ok(if c.opset < 11 {
        Op::Clip {
            min: Some(c.float("min", f32::MIN)?),
            max: Some(c.float("max", f32::MAX)?),
        }
    } else {
        Op::Clip {
            min: None,
            max: None,
        }
    }))
}

fn binary(b: BinaryOp) -> Parsed<Op> {
    op(Op::Binary(b, Activation::Identity))
}

/// Sum, Max or Min: `op` of its inputs (the importer chains more than two),
/// Identity of one.
fn variadic(c: &Ctx, op: BinaryOp) -> Parsed<Op> {
    match c.node.input.len() {
        0 => Err(c.bad("inputs", format!("{} needs at least one input", c.op_type))),
        1 => Ok(Ok(Op::Identity)),
        _ => binary(op),
    }
}

fn unary(u: UnaryOp) -> Parsed<Op> {
    op(Op::Unary(u))
}

fn gelu(c: &Ctx) -> Parsed<Op> {
    match c.string("approximate", "none")?.as_str() {
        "none" => unary(UnaryOp::Gelu),
        "tanh" => unary(UnaryOp::GeluTanh),
        other => Err(c.bad(
            "approximate",
            format!("'{other}' is neither 'none' nor 'tanh'"),
        )),
    }
}

/// Reduce<kind>: axes are an attribute before opset 13 (ReduceSum) or 18 (the
/// others), an input since, when `noop_with_empty_axes` applies too.
fn reduce(c: &Ctx) -> Parsed<Op> {
    let kind = ReduceKind::from_onnx(c.op_type)
        .ok_or_else(|| c.bad("op_type", "internal: not a reduction"))?;
    let as_input = kind.axes_as_input(c.opset);
    Ok(Ok(Op::ReduceAttr {
        kind,
        axes: if as_input { None } else { c.ints("axes")? },
        keepdims: c.flag("keepdims", true)?,
        noop_with_empty_axes: as_input && c.flag("noop_with_empty_axes", false)?,
    }))
}

fn gemm(c: &Ctx) -> Parsed<Op> {
    Ok(Ok(Op::Gemm {
        alpha: c.float("alpha", 1.0)?,
        beta: c.float("beta", 1.0)?,
        trans_a: c.flag("transA", false)?,
        trans_b: c.flag("transB", false)?,
    }))
}

fn reshape(c: &Ctx) -> Parsed<Op> {
    Ok(Ok(Op::Reshape {
        allowzero: c.opset >= 14 && c.flag("allowzero", false)?,
    }))
}

/// Axes are an attribute before opset 13, an input since.
fn squeeze(c: &Ctx) -> Parsed<Op> {
    Ok(Ok(Op::Squeeze {
        axes: if c.opset < 13 { c.ints("axes")? } else { None },
    }))
}

fn unsqueeze(c: &Ctx) -> Parsed<Op> {
    let axes = if c.opset < 13 {
        Some(c.ints("axes")?.ok_or_else(|| c.bad("axes", "missing"))?)
    } else {
        None
    };
    Ok(Ok(Op::Unsqueeze { axes }))
}

fn concat(c: &Ctx) -> Parsed<Op> {
    Ok(Ok(Op::ConcatAttr {
        axis: c.int_opt("axis")?.ok_or_else(|| c.bad("axis", "missing"))?,
    }))
}

/// `split` is an attribute before opset 13, an input since; `num_outputs` from 18.
fn split(c: &Ctx) -> Parsed<Op> {
    Ok(Ok(Op::SplitAttr {
        axis: c.int("axis", 0)?,
        split: if c.opset < 13 { c.ints("split")? } else { None },
        num_outputs: if c.opset >= 18 {
            c.int_opt("num_outputs")?
        } else {
            None
        },
        outputs: c.node.output.len(),
    }))
}

fn softmax(c: &Ctx) -> Parsed<Op> {
    Ok(Ok(Op::SoftmaxAttr {
        axis: c.int("axis", if c.opset < 13 { 1 } else { -1 })?,
        coerce_2d: c.opset < 13,
        log: c.op_type == "LogSoftmax",
    }))
}

/// Pads and value are attributes before opset 11, inputs since.
fn pad(c: &Ctx) -> Parsed<Op> {
    let mode = c.string("mode", "constant")?;
    if !matches!(mode.as_str(), "constant" | "reflect" | "edge") {
        return Ok(Err(format!("mode '{mode}' is not supported")));
    }
    let old = c.opset < 11;
    Ok(Ok(Op::PadAttr {
        pads: if old {
            Some(c.ints("pads")?.ok_or_else(|| c.bad("pads", "missing"))?)
        } else {
            None
        },
        mode,
        value: if old { c.float("value", 0.0)? } else { 0.0 },
    }))
}

fn shape(c: &Ctx) -> Parsed<Op> {
    Ok(Ok(Op::Shape {
        start: c.int("start", 0)?,
        end: c.int_opt("end")?,
    }))
}

/// Floating types become f32, integer and boolean ones i64.
fn cast(c: &Ctx) -> Parsed<Op> {
    use DataType as T;
    let to = c.int_opt("to")?.ok_or_else(|| c.bad("to", "missing"))?;
    let to = T::try_from(to as i32).map_err(|_| c.bad("to", format!("unknown type {to}")))?;
    let dt = match to {
        T::Float | T::Double => DType::F32,
        T::Int64
        | T::Int32
        | T::Int16
        | T::Int8
        | T::Uint8
        | T::Uint16
        | T::Uint32
        | T::Uint64
        | T::Bool => DType::I64,
        other => {
            return Ok(Err(format!(
                "cast to {} is not supported",
                other.as_str_name()
            )));
        }
    };
    Ok(Ok(Op::Cast { to: dt }))
}

/// Starts, ends and axes are attributes before opset 10, inputs since.
fn slice(c: &Ctx) -> Parsed<Op> {
    Ok(Ok(if c.opset < 10 {
        Op::Slice {
            starts: Some(
                c.ints("starts")?
                    .ok_or_else(|| c.bad("starts", "missing"))?,
            ),
            ends: Some(c.ints("ends")?.ok_or_else(|| c.bad("ends", "missing"))?),
            axes: c.ints("axes")?,
            steps: None,
        }
    } else {
        Op::Slice {
            starts: None,
            ends: None,
            axes: None,
            steps: None,
        }
    }))
}

fn constant_of_shape(c: &Ctx) -> Parsed<Op> {
    let value = match parsed!(tensor_attribute(c, "value")) {
        Some(k) if k.len() == 1 => k,
        Some(_) => return Err(c.bad("value", "must hold one element")),
        None => Const::f32(HostTensor {
            shape: vec![1],
            data: vec![0.0],
        }),
    };
    Ok(Ok(Op::ConstantOfShape { value }))
}
