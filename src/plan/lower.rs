//! Lowering one canonical node to its [`StepOp`]: operands viewed with the shapes
//! the kernels take (matmul as `[.., M, K] x [.., K, N]`, reductions as NCHW planes,
//! opset-12 softmax as 2-D).

use super::buffers::Allocator;
use super::{ConvStep, LayerNormStep, Loc, Operand, SeStep, StepOp};
use crate::error::{Error, Result};
use crate::graph::Node;
use crate::ops::Op;
use crate::ops::matmul::matmul_shapes;
use crate::ops::reduce::reduced_shape;
use crate::ops::slice::slice_axes;

/// The step of node `n`, whose inputs and outputs are placed at `ins` and `outs`;
/// scratch buffers come from `alloc` and go back to it.
pub(super) fn lower(
    n: &Node,
    ins: &[Option<Operand>],
    outs: &[Operand],
    alloc: &mut Allocator,
) -> Result<StepOp> {
    let input = |i: usize| {
        ins.get(i)
            .cloned()
            .flatten()
            .ok_or_else(|| Error::invalid("plan", format!("node '{}' lacks input {i}", n.name)))
    };
    let opt = |i: usize| ins.get(i).cloned().flatten();
    let y = outs[0].clone();
    Ok(match &n.op {
        Op::Conv(c) => StepOp::Conv(ConvStep {
            x: input(0)?,
            w: input(1)?,
            bias: opt(2),
            residual: opt(3),
            conv: c.params,
            act: c.act,
            y,
        }),
        Op::MatMul { act } => {
            let (a, b) = (input(0)?, input(1)?);
            let (a2, b2, full, _) = matmul_shapes(&a.shape, &b.shape)
                .ok_or_else(|| Error::shape("matmul operands", &a.shape, &b.shape))?;
            StepOp::MatMul {
                a: Operand { shape: a2, ..a },
                b: Operand { shape: b2, ..b },
                bias: opt(2),
                act: *act,
                y: Operand { shape: full, ..y },
            }
        }
        Op::Act(a) => StepOp::Unary {
            x: input(0)?,
            act: *a,
            y,
        },
        Op::Unary(u) => StepOp::Math {
            x: input(0)?,
            op: *u,
            y,
        },
        Op::Binary(b, act) => StepOp::Binary {
            op: *b,
            a: input(0)?,
            b: input(1)?,
            act: *act,
            y,
        },
        Op::Reduce { mode, axis } => {
            let x = input(0)?;
            let outer: usize = x.shape[..*axis].iter().product();
            let inner: usize = x.shape[*axis..].iter().product();
            let nchw = if *axis == 2 && x.shape.len() == 4 {
                x.shape.clone()
            } else {
                vec![1, outer, inner, 1]
            };
            let nc = nchw[..2].to_vec();
            StepOp::Squeeze {
                x: Operand { shape: nchw, ..x },
                mode: *mode,
                y: Operand { shape: nc, ..y },
            }
        }
        Op::ReduceAxes { kind, axes } => {
            let x = input(0)?;
            let kept = reduced_shape(&x.shape, axes, true);
            StepOp::Reduce {
                x,
                kind: *kind,
                axes: axes.clone(),
                y: Operand { shape: kept, ..y },
            }
        }
        Op::Pool(p) => StepOp::Pool {
            x: input(0)?,
            mode: p.mode,
            params: p.params,
            y,
        },
        Op::Softmax {
            axis,
            coerce_2d: true,
            log,
        } => {
            let x = input(0)?;
            let shape = vec![
                x.shape[..*axis].iter().product(),
                x.shape[*axis..].iter().product(),
            ];
            StepOp::Softmax {
                x: Operand {
                    shape: shape.clone(),
                    ..x
                },
                axis: 1,
                log: *log,
                y: Operand { shape, ..y },
            }
        }
        Op::Softmax {
            axis,
            coerce_2d: false,
            log,
        } => StepOp::Softmax {
            x: input(0)?,
            axis: *axis,
            log: *log,
            y,
        },
        Op::Concat { axis } => StepOp::Concat {
            xs: ins.iter().flatten().cloned().collect(),
            axis: *axis,
            y,
        },
        Op::Slice { .. } => {
            let x = input(0)?;
            StepOp::Slice {
                axes: slice_axes(&x.shape, &n.op),
                x,
                y,
            }
        }
        Op::LayerNorm { axis, epsilon } => {
            let x = input(0)?;
            let rows = vec![
                x.shape[..*axis].iter().product(),
                x.shape[*axis..].iter().product(),
            ];
            let flat = |o: Operand| Operand {
                shape: vec![o.len()],
                ..o
            };
            // The statistics the graph does not read go to scratch buffers, only
            // needed during the step.
            let mut scratch = vec![];
            let mut stat = |k: usize| {
                outs.get(k).cloned().map(flat).unwrap_or_else(|| {
                    let b = alloc.take(rows[0]);
                    scratch.push(b);
                    Operand {
                        loc: Loc::Buffer(b),
                        shape: vec![rows[0]],
                    }
                })
            };
            let (mean, inv_std) = (stat(1), stat(2));
            scratch.into_iter().for_each(|b| alloc.give_back(b));
            StepOp::LayerNorm(LayerNormStep {
                x: Operand {
                    shape: rows.clone(),
                    ..x
                },
                scale: flat(input(1)?),
                bias: opt(2).map(flat),
                epsilon: *epsilon,
                y: Operand { shape: rows, ..y },
                mean,
                inv_std,
            })
        }
        Op::Split { axis, .. } => StepOp::Split {
            x: input(0)?,
            axis: *axis,
            ys: outs.to_vec(),
        },
        Op::Transpose { perm } => StepOp::Transpose {
            x: input(0)?,
            perm: perm.clone(),
            y,
        },
        Op::Pad { pads, kind } => StepOp::Pad {
            x: input(0)?,
            pads: pads.clone(),
            kind: *kind,
            y,
        },
        Op::SeBlock {
            pooling,
            hidden,
            gate,
            act,
            ..
        } => {
            let excitation = outs[1].clone();
            // Only needed during the step.
            let scratch = alloc.take(excitation.len());
            alloc.give_back(scratch);
            StepOp::SeBlock(SeStep {
                x: input(0)?,
                w1: input(1)?,
                b1: input(2)?,
                w2: input(3)?,
                b2: input(4)?,
                residual: opt(5),
                pooling: *pooling,
                hidden: *hidden,
                gate: *gate,
                act: *act,
                squeezed: Operand {
                    loc: Loc::Buffer(scratch),
                    shape: excitation.shape.clone(),
                },
                excitation,
                y,
            })
        }
        other => {
            return Err(Error::invalid(
                "plan",
                format!(
                    "node '{}': {} was not lowered before planning",
                    n.name,
                    other.label()
                ),
            ));
        }
    })
}
