//! Shape inference, constant folding and op canonicalisation, in one walk over the
//! topologically sorted nodes once the batch size is bound.
//!
//! Every node gets its output shapes by its op's rule in [`crate::ops`]; nodes the
//! rule marks constant (inputs all constant, or `Shape` of anything, since shapes are
//! static here) are evaluated by the constant folder and removed; attributes given
//! as constant inputs are resolved into canonical ops. Unsupported
//! nodes are collected, not returned one by one: downstream nodes of an unsupported
//! node are skipped (their shapes are unknown), and the error lists every
//! unsupported node found.

use super::{Dim, Graph, Node, fold};
use crate::error::{Error, Result, Unsupported};
use crate::ops::Op;
use crate::ops::infer::{InferResult, Inferred, Input, Inputs, Issue, unsupported};
use crate::tensor::{Const, DType, check_elements};

/// Binds the batch size, infers all shapes and folds constants. `unsupported` holds
/// what the importer already found; the error lists it together with inference's.
/// Returns the number of nodes folded into constants.
pub fn infer(g: &mut Graph, batch: usize, mut unsupported: Vec<Unsupported>) -> Result<usize> {
    for input in g.inputs.clone() {
        let name = g.values[input.value].name.clone();
        let mut shape = Vec::with_capacity(input.dims.len());
        for (i, d) in input.dims.iter().enumerate() {
            match d {
                Dim::Fixed(n) => shape.push(*n),
                Dim::Symbolic(_) if i == 0 => shape.push(batch),
                Dim::Symbolic(p) => {
                    unsupported.push(Unsupported {
                        node: name.clone(),
                        op: "input".into(),
                        reason: format!(
                            "dimension {i} is symbolic ('{p}'); only the batch dimension (0) may be \
                             (fix the others with CompileOptions::input_shapes)"
                        ),
                    });
                    break;
                }
            }
        }
        if shape.len() == input.dims.len() {
            check_elements(&format!("input '{name}'"), &shape)?;
            g.values[input.value].shape = Some(shape);
        }
    }

    let mut folded = vec![false; g.nodes.len()];
    for (i, is_folded) in folded.iter_mut().enumerate() {
        let node = &g.nodes[i];
        if let Op::Unsupported(reason) = &node.op {
            unsupported.push(unsupported_node(node, reason.clone()));
            continue;
        }
        // An input without a shape comes from something unsupported: already reported.
        if node.present_inputs().any(|v| g.values[v].shape.is_none()) {
            continue;
        }
        match infer_node(g, node) {
            Ok((inferred, mut value)) => {
                let Inferred {
                    op,
                    outputs,
                    constant,
                } = inferred;
                // A constant has one output.
                for (&v, out) in node.outputs.clone().iter().zip(outputs) {
                    let slot = &mut g.values[v];
                    slot.shape = Some(out.shape);
                    slot.dtype = out.dtype;
                    slot.konst = value.take();
                }
                g.nodes[i].op = op;
                *is_folded = constant;
            }
            Err(Issue::Unsupported(reason)) => unsupported.push(unsupported_node(node, reason)),
            Err(Issue::Invalid(e)) => return Err(e.into()),
        }
    }
    if !unsupported.is_empty() {
        return Err(Error::UnsupportedModel { nodes: unsupported });
    }
    for (name, v) in &g.outputs {
        if g.values[*v].dtype != DType::F32 {
            return Err(Error::UnsupportedModel {
                nodes: vec![Unsupported {
                    node: name.clone(),
                    op: "output".into(),
                    reason: "integer outputs are not supported".into(),
                }],
            });
        }
    }
    let count = folded.iter().filter(|&&f| f).count();
    let mut it = folded.into_iter();
    g.nodes.retain(|_| !it.next().unwrap_or(false));
    Ok(count)
}

/// Infers one node and, when it is a constant, evaluates it.
fn infer_node(g: &Graph, node: &Node) -> InferResult<(Inferred, Option<Const>)> {
    let inputs = inputs(g, node);
    let inferred = node.op.infer(&inputs)?;
    let outputs = &inferred.outputs;
    if outputs.len() != node.outputs.len() {
        let message = format!("{} outputs, expected {}", node.outputs.len(), outputs.len());
        return Err(inputs.bad(message));
    }
    if let Some(o) = outputs
        .iter()
        .find(|o| !inferred.constant && o.shape.contains(&0))
    {
        unsupported!("its output of shape {:?} is empty", o.shape);
    }
    for out in outputs {
        check_elements(&format!("output of node '{}'", node.name), &out.shape)?;
    }
    if !inferred.constant {
        return Ok((inferred, None));
    }
    let [out] = &outputs[..] else {
        return Err(inputs.bad("internal: a constant with several outputs"));
    };
    let value = fold::evaluate(&inferred.op, &inputs, &out.shape)?;
    if value.shape() != out.shape || value.dtype() != out.dtype {
        return Err(inputs.bad(format!(
            "internal: folded to {:?} {:?}, inferred {:?} {:?}",
            value.dtype(),
            value.shape(),
            out.dtype,
            out.shape
        )));
    }
    Ok((inferred, Some(value)))
}

fn unsupported_node(node: &Node, reason: String) -> Unsupported {
    Unsupported {
        node: node.name.clone(),
        op: node.op_type.clone(),
        reason,
    }
}

/// The view of `node`'s inputs that shape inference rules read.
fn inputs<'a>(g: &'a Graph, node: &'a Node) -> Inputs<'a> {
    let slots = node
        .inputs
        .iter()
        .map(|v| {
            v.map(|v| {
                let value = &g.values[v];
                Input {
                    name: &value.name,
                    shape: g.shape(v),
                    dtype: value.dtype,
                    value: value.konst.as_ref(),
                }
            })
        })
        .collect();
    Inputs {
        node: &node.name,
        op_type: &node.op_type,
        slots,
    }
}
