//! `ModelProto` -> graph IR: values for initializers, inputs and node outputs, one
//! typed [`Op`] per node with its attributes parsed for the model's opset.
//!
//! Malformed models fail here with a [`ModelError`]; valid nodes the runtime cannot
//! run become [`Op::Unsupported`] so that inference can report all of them at once.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::proto::{self, AttributeProto, NodeProto, attribute_proto::AttributeType};
use super::{MAX_OPSET, MAX_SPATIAL, MIN_OPSET, TensorError, tensor_to_const};
use crate::error::{ModelError, Result, Unsupported};
use crate::graph::{Dim, Graph, Input, Node};
use crate::ops::SqueezeMode;
use crate::ops::{Activation, AutoPad, BinaryOp, Conv, Conv2dParams, Op, Pool, Pool2dParams};
use crate::tensor::{Const, DType, HostTensor};

/// An imported model: its graph and what the model says about itself.
#[derive(Clone, Debug)]
pub(crate) struct Imported {
    pub graph: Graph,
    /// Initializers and inputs the runtime cannot handle (nodes carry their own).
    pub unsupported: Vec<Unsupported>,
    pub metadata: BTreeMap<String, String>,
    pub producer: String,
    /// Float elements of all initializers and Constant nodes.
    pub parameters: usize,
    pub onnx_nodes: usize,
}

fn default_domain(d: Option<&str>) -> bool {
    matches!(d, None | Some("") | Some("ai.onnx"))
}

pub(crate) fn import(m: &proto::ModelProto) -> Result<Imported> {
    let graph = m.graph.as_ref().ok_or(ModelError::NoGraph)?;
    let opset = m
        .opset_import
        .iter()
        .find(|o| default_domain(o.domain.as_deref()))
        .and_then(|o| o.version)
        .unwrap_or(0);
    if !(MIN_OPSET..=MAX_OPSET).contains(&opset) {
        return Err(ModelError::Opset {
            version: opset,
            min: MIN_OPSET,
            max: MAX_OPSET,
        }
        .into());
    }

    let mut g = Graph {
        opset,
        ..Default::default()
    };
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut unsupported = Vec::new();
    let mut parameters = 0;
    let mut define = |g: &mut Graph, name: &str| -> Result<usize, ModelError> {
        if names.contains_key(name) {
            return Err(ModelError::DuplicateValue(name.into()));
        }
        let v = g.add_value(name, DType::F32);
        names.insert(name.into(), v);
        Ok(v)
    };

    for t in &graph.initializer {
        let name = t.name.clone().unwrap_or_default();
        if name.is_empty() {
            return Err(ModelError::BadTensor {
                tensor: String::new(),
                message: "an initializer has no name".into(),
            }
            .into());
        }
        let v = define(&mut g, &name)?;
        match tensor_to_const(t) {
            Ok(c) => {
                if c.dtype() == DType::F32 {
                    parameters += c.len();
                }
                g.values[v].dtype = c.dtype();
                g.values[v].shape = Some(c.shape().to_vec());
                g.values[v].konst = Some(c);
            }
            Err(TensorError::Invalid(e)) => return Err(e.into()),
            Err(TensorError::Unsupported(reason)) => unsupported.push(Unsupported {
                node: name,
                op: "initializer".into(),
                reason,
            }),
        }
    }
    for s in &graph.sparse_initializer {
        let name = s
            .values
            .as_ref()
            .and_then(|t| t.name.clone())
            .unwrap_or_default();
        define(&mut g, &name)?;
        unsupported.push(Unsupported {
            node: name,
            op: "initializer".into(),
            reason: "sparse initializers are not supported".into(),
        });
    }

    let initializer_names: HashSet<&str> = graph
        .initializer
        .iter()
        .filter_map(|t| t.name.as_deref())
        .collect();
    for vi in &graph.input {
        let name = vi.name.clone().unwrap_or_default();
        // IR < 4 lists initializers among the inputs too: they stay constants.
        if initializer_names.contains(name.as_str()) {
            continue;
        }
        let v = define(&mut g, &name)?;
        match input_dims(vi) {
            Ok(dims) => g.inputs.push(Input { value: v, dims }),
            Err(reason) => unsupported.push(Unsupported {
                node: name,
                op: "input".into(),
                reason,
            }),
        }
    }

    for n in &graph.node {
        if n.output.first().is_none_or(|o| o.is_empty()) {
            return Err(ModelError::BadNode {
                node: n.name.clone().unwrap_or_default(),
                op: n.op_type.clone().unwrap_or_default(),
                message: "the node's first output is missing".into(),
            }
            .into());
        }
        for o in n.output.iter().filter(|o| !o.is_empty()) {
            define(&mut g, o)?;
        }
    }

    for (index, n) in graph.node.iter().enumerate() {
        let op_type = n.op_type.clone().unwrap_or_default();
        let name = node_name(n, index);
        let mut inputs = Vec::with_capacity(n.input.len());
        for i in &n.input {
            if i.is_empty() {
                inputs.push(None);
                continue;
            }
            let v = names.get(i).ok_or_else(|| ModelError::DanglingInput {
                node: name.clone(),
                op: op_type.clone(),
                input: i.clone(),
            })?;
            inputs.push(Some(*v));
        }
        // Defined above; an empty (omitted) first output was rejected there.
        let outputs: Vec<usize> = n
            .output
            .iter()
            .filter(|o| !o.is_empty())
            .filter_map(|o| names.get(o).copied())
            .collect();
        let ctx = Ctx {
            node: n,
            name: &name,
            op_type: &op_type,
            opset,
        };
        let op = if !default_domain(n.domain.as_deref()) {
            Op::Unsupported(format!(
                "operator domain '{}' is not supported",
                n.domain.as_deref().unwrap_or_default()
            ))
        } else if op_type == "Constant" {
            match constant(&ctx)? {
                Ok(c) => {
                    let v = outputs[0];
                    if c.dtype() == DType::F32 {
                        parameters += c.len();
                    }
                    g.values[v].dtype = c.dtype();
                    g.values[v].shape = Some(c.shape().to_vec());
                    g.values[v].konst = Some(c);
                    continue;
                }
                Err(reason) => Op::Unsupported(reason),
            }
        } else {
            match parse_op(&ctx)? {
                Ok(op) => op,
                Err(reason) => Op::Unsupported(reason),
            }
        };
        // Sum(a, b, c, ...) (older Caffe2 / CNTK exports) is a chain of Adds.
        if op == Op::Binary(BinaryOp::Add, Activation::Identity) && inputs.len() > 2 {
            let mut acc = inputs[0];
            let last = inputs.len() - 1;
            for (k, &next) in inputs.iter().enumerate().skip(1) {
                let (node_name, out) = if k == last {
                    (name.clone(), outputs[0])
                } else {
                    let partial = format!("{name}/partial{k}");
                    (partial.clone(), g.add_value(partial, DType::F32))
                };
                g.nodes.push(Node {
                    name: node_name,
                    op_type: op_type.clone(),
                    op: op.clone(),
                    inputs: vec![acc, next],
                    outputs: vec![out],
                });
                acc = Some(out);
            }
            continue;
        }
        g.nodes.push(Node {
            name,
            op_type,
            op,
            inputs,
            outputs,
        });
    }

    for vi in &graph.output {
        let name = vi.name.clone().unwrap_or_default();
        let v = *names
            .get(&name)
            .ok_or_else(|| ModelError::DanglingOutput(name.clone()))?;
        g.outputs.push((name, v));
    }

    // Every supported op has one output; the others (BatchNormalization's running
    // statistics, Dropout's mask, MaxPool's indices) must be unused.
    let mut used: HashSet<usize> = g.outputs.iter().map(|(_, v)| *v).collect();
    for n in &g.nodes {
        used.extend(n.present_inputs());
    }
    for n in &mut g.nodes {
        if let Some(extra) = n.outputs.iter().skip(1).find(|v| used.contains(v)) {
            if !matches!(n.op, Op::Unsupported(_)) {
                n.op = Op::Unsupported(format!(
                    "its extra output '{}' is used; only the first output is supported",
                    g.values[*extra].name
                ));
            }
        }
        n.outputs.truncate(1);
    }

    g.toposort()?;
    let metadata = m
        .metadata_props
        .iter()
        .map(|p| {
            (
                p.key.clone().unwrap_or_default(),
                p.value.clone().unwrap_or_default(),
            )
        })
        .collect();
    Ok(Imported {
        onnx_nodes: graph.node.len(),
        graph: g,
        unsupported,
        metadata,
        producer: format!(
            "{} {}",
            m.producer_name.as_deref().unwrap_or_default(),
            m.producer_version.as_deref().unwrap_or_default()
        )
        .trim()
        .to_string(),
        parameters,
    })
}

/// The node's name, else its first output's name (always present and usually
/// meaningful), else its position.
fn node_name(n: &NodeProto, index: usize) -> String {
    match n.name.as_deref() {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => n
            .output
            .iter()
            .find(|o| !o.is_empty())
            .cloned()
            .unwrap_or_else(|| format!("#{index}")),
    }
}

/// A graph input's declared dimensions; `Err` says why the input is unsupported.
fn input_dims(vi: &proto::ValueInfoProto) -> Result<Vec<Dim>, String> {
    use proto::tensor_shape_proto::dimension::Value as D;
    let Some(proto::type_proto::Value::TensorType(t)) =
        vi.r#type.as_ref().and_then(|t| t.value.as_ref())
    else {
        return Err("the input is not a tensor".into());
    };
    let elem = t.elem_type.unwrap_or(0);
    if elem != proto::tensor_proto::DataType::Float as i32 {
        let dt = proto::tensor_proto::DataType::try_from(elem)
            .map(|d| d.as_str_name())
            .unwrap_or("unknown");
        return Err(format!(
            "input dtype {dt}; only FLOAT (f32) inputs are supported"
        ));
    }
    let Some(shape) = &t.shape else {
        return Err("the input declares no shape (dynamic rank)".into());
    };
    shape
        .dim
        .iter()
        .map(|d| match &d.value {
            Some(D::DimValue(v)) if *v > 0 => Ok(Dim::Fixed(*v as usize)),
            Some(D::DimValue(0)) => Err("a dimension is 0 (an empty tensor)".into()),
            // -1 is how some exporters (paddle2onnx) write a dynamic dimension.
            Some(D::DimValue(v)) if *v < -1 => Err(format!("a dimension is negative ({v})")),
            Some(D::DimParam(p)) if !p.is_empty() => Ok(Dim::Symbolic(p.clone())),
            _ => Ok(Dim::Symbolic("?".into())),
        })
        .collect()
}

struct Ctx<'a> {
    node: &'a NodeProto,
    name: &'a str,
    op_type: &'a str,
    opset: i64,
}

/// Outcome of parsing one node: malformed (`Err`), unsupported (`Ok(Err(reason))`)
/// or an op.
type Parsed<T> = Result<Result<T, String>, ModelError>;

impl Ctx<'_> {
    fn attr(&self, name: &str) -> Option<&AttributeProto> {
        self.node
            .attribute
            .iter()
            .find(|a| a.name.as_deref() == Some(name))
    }

    fn bad(&self, attribute: &str, message: impl Into<String>) -> ModelError {
        ModelError::BadAttribute {
            node: self.name.into(),
            op: self.op_type.into(),
            attribute: attribute.into(),
            message: message.into(),
        }
    }

    /// Checks the attribute's declared type (older writers leave it unset).
    fn typed(&self, name: &str, ty: AttributeType) -> Result<Option<&AttributeProto>, ModelError> {
        let Some(a) = self.attr(name) else {
            return Ok(None);
        };
        match a.r#type {
            Some(t) if t != ty as i32 && t != AttributeType::Undefined as i32 => Err(self.bad(
                name,
                format!(
                    "expected type {}, found {}",
                    ty.as_str_name(),
                    AttributeType::try_from(t)
                        .map(|t| t.as_str_name())
                        .unwrap_or("unknown")
                ),
            )),
            _ => Ok(Some(a)),
        }
    }

    fn int_opt(&self, name: &str) -> Result<Option<i64>, ModelError> {
        self.typed(name, AttributeType::Int)?
            .map(|a| a.i.ok_or_else(|| self.bad(name, "no int value")))
            .transpose()
    }

    fn int(&self, name: &str, default: i64) -> Result<i64, ModelError> {
        Ok(self.int_opt(name)?.unwrap_or(default))
    }

    fn flag(&self, name: &str, default: bool) -> Result<bool, ModelError> {
        match self.int(name, default as i64)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(self.bad(name, format!("expected 0 or 1, found {v}"))),
        }
    }

    fn ints(&self, name: &str) -> Result<Option<Vec<i64>>, ModelError> {
        Ok(self
            .typed(name, AttributeType::Ints)?
            .map(|a| a.ints.clone()))
    }

    fn float_opt(&self, name: &str) -> Result<Option<f32>, ModelError> {
        self.typed(name, AttributeType::Float)?
            .map(|a| a.f.ok_or_else(|| self.bad(name, "no float value")))
            .transpose()
    }

    fn float(&self, name: &str, default: f32) -> Result<f32, ModelError> {
        Ok(self.float_opt(name)?.unwrap_or(default))
    }

    fn string(&self, name: &str, default: &str) -> Result<String, ModelError> {
        Ok(self
            .typed(name, AttributeType::String)?
            .map(|a| String::from_utf8_lossy(a.s.as_deref().unwrap_or_default()).into_owned())
            .unwrap_or_else(|| default.to_string()))
    }

    /// `n` values in `min..=MAX_SPATIAL` for a 2-D spatial attribute.
    fn spatial(&self, name: &str, n: usize, min: i64) -> Parsed<Option<Vec<usize>>> {
        let Some(v) = self.ints(name)? else {
            return Ok(Ok(None));
        };
        if v.len() != n {
            return Ok(Err(format!(
                "{name} {v:?}: only 2-D {} is supported",
                if self.op_type == "Conv" {
                    "convolution"
                } else {
                    "pooling"
                }
            )));
        }
        if let Some(bad) = v.iter().find(|&&x| x < min) {
            return Err(self.bad(name, format!("value {bad} is below {min}")));
        }
        if let Some(bad) = v.iter().find(|&&x| x > MAX_SPATIAL) {
            return Err(self.bad(
                name,
                format!("value {bad} is over the limit of {MAX_SPATIAL}"),
            ));
        }
        Ok(Ok(Some(v.iter().map(|&x| x as usize).collect())))
    }

    fn auto_pad(&self) -> Parsed<AutoPad> {
        Ok(Ok(match self.string("auto_pad", "NOTSET")?.as_str() {
            "NOTSET" | "" => AutoPad::NotSet,
            "SAME_UPPER" => AutoPad::SameUpper,
            "SAME_LOWER" => AutoPad::SameLower,
            "VALID" => AutoPad::Valid,
            other => return Err(self.bad("auto_pad", format!("unknown value '{other}'"))),
        }))
    }
}

fn two(v: Option<Vec<usize>>, default: usize) -> [usize; 2] {
    v.map_or([default; 2], |v| [v[0], v[1]])
}

fn four(v: Option<Vec<usize>>) -> [usize; 4] {
    v.map_or([0; 4], |v| [v[0], v[1], v[2], v[3]])
}

/// Unwraps a `Parsed` inside a function returning `Parsed`.
macro_rules! parsed {
    ($e:expr) => {
        match $e? {
            Ok(v) => v,
            Err(reason) => return Ok(Err(reason)),
        }
    };
}

fn constant(c: &Ctx) -> Parsed<Const> {
    if let Some(a) = c.typed("value", AttributeType::Tensor)? {
        let t = a.t.as_ref().ok_or_else(|| c.bad("value", "no tensor"))?;
        return Ok(match tensor_to_const(t) {
            Ok(k) => Ok(k),
            Err(TensorError::Invalid(e)) => return Err(e),
            Err(TensorError::Unsupported(r)) => Err(r),
        });
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

fn parse_op(c: &Ctx) -> Parsed<Op> {
    let opset = c.opset;
    let act = |a| Ok(Ok(Op::Act(a)));
    match c.op_type {
        "Conv" => {
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
        "MaxPool" | "AveragePool" => {
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
        "BatchNormalization" => {
            if c.flag("training_mode", false)? {
                return Ok(Err(
                    "training_mode=1 is not supported (inference only)".into()
                ));
            }
            if opset < 9 && c.int("spatial", 1)? != 1 {
                return Ok(Err("spatial=0 is not supported".into()));
            }
            Ok(Ok(Op::BatchNorm {
                epsilon: c.float("epsilon", 1e-5)?,
            }))
        }
        "Relu" => act(Activation::Relu),
        "Sigmoid" => act(Activation::Sigmoid),
        "Tanh" => act(Activation::Tanh),
        "HardSwish" => act(Activation::HardSwish),
        "HardSigmoid" => act(Activation::HardSigmoid {
            alpha: c.float("alpha", 0.2)?,
            beta: c.float("beta", 0.5)?,
        }),
        "Clip" => {
            if opset < 11 {
                Ok(Ok(Op::Clip {
                    min: Some(c.float("min", f32::MIN)?),
                    max: Some(c.float("max", f32::MAX)?),
                }))
            } else {
                Ok(Ok(Op::Clip {
                    min: None,
                    max: None,
                }))
            }
        }
        "Add" => Ok(Ok(Op::Binary(BinaryOp::Add, Activation::Identity))),
        "Sum" => Ok(Ok(match c.node.input.len() {
            0 => return Err(c.bad("inputs", "Sum needs at least one input")),
            1 => Op::Identity,
            _ => Op::Binary(BinaryOp::Add, Activation::Identity),
        })),
        "Sub" => Ok(Ok(Op::Binary(BinaryOp::Sub, Activation::Identity))),
        "Mul" => Ok(Ok(Op::Binary(BinaryOp::Mul, Activation::Identity))),
        "Div" => Ok(Ok(Op::Binary(BinaryOp::Div, Activation::Identity))),
        "GlobalAveragePool" => Ok(Ok(Op::GlobalPool(SqueezeMode::Avg))),
        "GlobalMaxPool" => Ok(Ok(Op::GlobalPool(SqueezeMode::Max))),
        "ReduceMean" => Ok(Ok(Op::ReduceMean {
            axes: if opset < 18 { c.ints("axes")? } else { None },
            keepdims: c.flag("keepdims", true)?,
            noop_with_empty_axes: opset >= 18 && c.flag("noop_with_empty_axes", false)?,
        })),
        "Gemm" => Ok(Ok(Op::Gemm {
            alpha: c.float("alpha", 1.0)?,
            beta: c.float("beta", 1.0)?,
            trans_a: c.flag("transA", false)?,
            trans_b: c.flag("transB", false)?,
        })),
        "MatMul" => Ok(Ok(Op::MatMul {
            act: Activation::Identity,
        })),
        "Flatten" => Ok(Ok(Op::Flatten {
            axis: c.int("axis", 1)?,
        })),
        "Reshape" => Ok(Ok(Op::Reshape {
            allowzero: opset >= 14 && c.flag("allowzero", false)?,
        })),
        "Squeeze" => Ok(Ok(Op::Squeeze {
            axes: if opset < 13 { c.ints("axes")? } else { None },
        })),
        "Unsqueeze" => {
            let axes = if opset < 13 {
                Some(c.ints("axes")?.ok_or_else(|| c.bad("axes", "missing"))?)
            } else {
                None
            };
            Ok(Ok(Op::Unsqueeze { axes }))
        }
        "Concat" => Ok(Ok(Op::ConcatAttr {
            axis: c.int_opt("axis")?.ok_or_else(|| c.bad("axis", "missing"))?,
        })),
        "Softmax" => Ok(Ok(Op::SoftmaxAttr {
            axis: c.int("axis", if opset < 13 { 1 } else { -1 })?,
            coerce_2d: opset < 13,
        })),
        "Pad" => {
            let mode = c.string("mode", "constant")?;
            if !matches!(mode.as_str(), "constant" | "reflect" | "edge") {
                return Ok(Err(format!("mode '{mode}' is not supported")));
            }
            Ok(Ok(Op::PadAttr {
                pads: if opset < 11 {
                    Some(c.ints("pads")?.ok_or_else(|| c.bad("pads", "missing"))?)
                } else {
                    None
                },
                mode,
                value: if opset < 11 {
                    c.float("value", 0.0)?
                } else {
                    0.0
                },
            }))
        }
        "Transpose" => Ok(Ok(Op::TransposeAttr {
            perm: c.ints("perm")?,
        })),
        "Identity" | "Dropout" => Ok(Ok(Op::Identity)),
        "Expand" => Ok(Ok(Op::Expand)),
        "Shape" => Ok(Ok(Op::Shape {
            start: c.int("start", 0)?,
            end: c.int_opt("end")?,
        })),
        "Gather" => Ok(Ok(Op::Gather {
            axis: c.int("axis", 0)?,
        })),
        "Cast" => {
            use proto::tensor_proto::DataType as T;
            let to = c.int_opt("to")?.ok_or_else(|| c.bad("to", "missing"))?;
            let to =
                T::try_from(to as i32).map_err(|_| c.bad("to", format!("unknown type {to}")))?;
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
        "Slice" => Ok(Ok(if opset < 10 {
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
        })),
        "ConstantOfShape" => {
            let value = match c.typed("value", AttributeType::Tensor)? {
                Some(a) => {
                    let t = a.t.as_ref().ok_or_else(|| c.bad("value", "no tensor"))?;
                    match tensor_to_const(t) {
                        Ok(k) if k.len() == 1 => k,
                        Ok(_) => return Err(c.bad("value", "must hold one element")),
                        Err(TensorError::Invalid(e)) => return Err(e),
                        Err(TensorError::Unsupported(r)) => return Ok(Err(r)),
                    }
                }
                None => Const::f32(HostTensor {
                    shape: vec![1],
                    data: vec![0.0],
                }),
            };
            Ok(Ok(Op::ConstantOfShape { value }))
        }
        "" => Ok(Err("the node has no op_type".into())),
        other => Ok(Err(format!("operator {other} is not supported"))),
    }
}
