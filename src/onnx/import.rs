//! `ModelProto` -> graph IR: values for initializers, inputs and node outputs, one
//! typed [`Op`] per node with its attributes parsed for the model's opset.
//!
//! Malformed models fail here with a [`ModelError`]; valid nodes the runtime cannot
//! run become [`Op::Unsupported`] so that inference can report all of them at once.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::attributes::Ctx;
use super::operators::{CONSTANT, constant, parse_op};
use super::proto::{self, NodeProto};
use super::{MAX_OPSET, MIN_OPSET, TensorError, tensor_to_const};
use crate::error::{ModelError, Result, Unsupported};
use crate::graph::{Dim, Graph, Input, Node};
use crate::ops::{Activation, BinaryOp, Op};
use crate::tensor::DType;

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
        } else if op_type == CONSTANT {
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
        // Sum, Max and Min of more than two inputs are chains of binary ops.
        if let Op::Binary(BinaryOp::Add | BinaryOp::Max | BinaryOp::Min, Activation::Identity) = op
            && inputs.len() > 2
        {
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

    // Every supported op but Split and LayerNormalization has one output; the others
    // (BatchNormalization's running statistics, Dropout's mask, MaxPool's indices)
    // must be unused.
    let mut used: HashSet<usize> = g.outputs.iter().map(|(_, v)| *v).collect();
    for n in &g.nodes {
        used.extend(n.present_inputs());
    }
    for n in &mut g.nodes {
        if matches!(n.op, Op::SplitAttr { .. } | Op::LayerNormAttr { .. }) {
            continue;
        }
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
