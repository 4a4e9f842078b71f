//! Shape inference, constant folding and op canonicalisation, in one walk over the
//! topologically sorted nodes once the batch size is bound.
//!
//! Every node gets its output shapes; nodes whose inputs are all constant (and
//! `Shape` of anything, since shapes are static here) are evaluated and removed;
//! attributes given as constant inputs are resolved into canonical ops. Unsupported
//! nodes are collected, not returned one by one: downstream nodes of an unsupported
//! node are skipped (their shapes are unknown), and the error lists every
//! unsupported node found.

use super::fold;
use super::op::AutoPad;
use super::{Const, DType, Dim, Graph, IntTensor, Node, Op, PadMode, SqueezeMode, ValueId};
use crate::error::{Error, ModelError, Result, Unsupported};
use crate::onnx::MAX_ELEMENTS;
use crate::ops::Activation;
use crate::ops::Conv2dParams;
use crate::ops::Pool2dParams;
use crate::ops::binary::{BinaryOp, MAX_RANK};
use crate::ops::matmul::matmul_shapes;
use crate::ops::transpose::MAX_RANK as MAX_LAYOUT_RANK;
use crate::tensor::{HostTensor, broadcast_shapes};

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
            check_size(&format!("input '{name}'"), &shape)?;
            g.values[input.value].shape = Some(shape);
        }
    }

    let mut folded = vec![false; g.nodes.len()];
    for (i, is_folded) in folded.iter_mut().enumerate() {
        let node = &g.nodes[i];
        if let Op::Unsupported(reason) = &node.op {
            unsupported.push(Unsupported {
                node: node.name.clone(),
                op: node.op_type.clone(),
                reason: reason.clone(),
            });
            continue;
        }
        // An input without a shape comes from something unsupported: already reported.
        if node.present_inputs().any(|v| g.values[v].shape.is_none()) {
            continue;
        }
        let ctx = Ctx { g, node };
        match infer_node(&ctx) {
            Ok(Inferred { op, outputs }) => {
                if outputs.len() != g.nodes[i].outputs.len() {
                    return Err(ModelError::BadNode {
                        node: node.name.clone(),
                        op: node.op_type.clone(),
                        message: format!(
                            "{} outputs, expected {}",
                            node.outputs.len(),
                            outputs.len()
                        ),
                    }
                    .into());
                }
                if let Some(o) = outputs
                    .iter()
                    .find(|o| o.konst.is_none() && o.shape.contains(&0))
                {
                    unsupported.push(Unsupported {
                        node: node.name.clone(),
                        op: node.op_type.clone(),
                        reason: format!("its output of shape {:?} is empty", o.shape),
                    });
                    continue;
                }
                let all_const = outputs.iter().all(|o| o.konst.is_some());
                for (&v, out) in g.nodes[i].outputs.clone().iter().zip(outputs) {
                    check_size(&format!("output of node '{}'", g.nodes[i].name), &out.shape)?;
                    let value = &mut g.values[v];
                    value.shape = Some(out.shape);
                    value.dtype = out.dtype;
                    value.konst = out.konst;
                }
                g.nodes[i].op = op;
                *is_folded = all_const;
            }
            Err(Issue::Unsupported(reason)) => unsupported.push(Unsupported {
                node: node.name.clone(),
                op: node.op_type.clone(),
                reason,
            }),
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

fn check_size(what: &str, shape: &[usize]) -> Result<(), ModelError> {
    let n = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    match n {
        Some(n) if n <= MAX_ELEMENTS => Ok(()),
        _ => Err(ModelError::TooLarge {
            what: format!("{what} of shape {shape:?}"),
            elements: shape.iter().map(|&d| d as f64).product::<f64>().to_string(),
            limit: MAX_ELEMENTS,
        }),
    }
}

pub(crate) enum Issue {
    Unsupported(String),
    Invalid(ModelError),
}

impl From<ModelError> for Issue {
    fn from(e: ModelError) -> Self {
        Issue::Invalid(e)
    }
}

type R<T> = std::result::Result<T, Issue>;

struct Out {
    shape: Vec<usize>,
    dtype: DType,
    konst: Option<Const>,
}

fn tensor(shape: Vec<usize>) -> Out {
    Out {
        shape,
        dtype: DType::F32,
        konst: None,
    }
}

fn folded(c: Const) -> Out {
    Out {
        shape: c.shape().to_vec(),
        dtype: c.dtype(),
        konst: Some(c),
    }
}

struct Inferred {
    op: Op,
    outputs: Vec<Out>,
}

fn one(op: Op, out: Out) -> R<Inferred> {
    Ok(Inferred {
        op,
        outputs: vec![out],
    })
}

struct Ctx<'a> {
    g: &'a Graph,
    node: &'a Node,
}

macro_rules! unsupported {
    ($($t:tt)*) => { return Err(Issue::Unsupported(format!($($t)*))) };
}

impl Ctx<'_> {
    fn bad(&self, message: impl Into<String>) -> Issue {
        Issue::Invalid(ModelError::BadNode {
            node: self.node.name.clone(),
            op: self.node.op_type.clone(),
            message: message.into(),
        })
    }

    fn input(&self, i: usize) -> R<ValueId> {
        self.node
            .input(i)
            .ok_or_else(|| self.bad(format!("required input {i} is missing")))
    }

    fn shape(&self, i: usize) -> R<&[usize]> {
        Ok(self.g.shape(self.input(i)?))
    }

    fn konst(&self, i: usize) -> Option<&Const> {
        self.node.input(i).and_then(|v| self.g.konst(v))
    }

    /// An optional input that must be a constant (an attribute passed as an input).
    fn const_input(&self, i: usize, what: &str) -> R<Option<&Const>> {
        match self.node.input(i) {
            None => Ok(None),
            Some(v) => match self.g.konst(v) {
                Some(c) => Ok(Some(c)),
                None => unsupported!("{what} (input {i}) is computed at run time"),
            },
        }
    }

    fn all_const(&self) -> bool {
        self.node
            .present_inputs()
            .all(|v| self.g.konst(v).is_some())
    }

    /// Requires every present input to be f32 (integer tensors only exist as constants).
    fn floats_only(&self) -> R<()> {
        for v in self.node.present_inputs() {
            if self.g.values[v].dtype != DType::F32 {
                unsupported!(
                    "input '{}' is an integer tensor; only f32 tensors are computed at run time",
                    self.g.values[v].name
                );
            }
        }
        Ok(())
    }

    /// Normalises a possibly negative axis for a rank-`rank` tensor.
    fn axis(&self, axis: i64, rank: usize) -> R<usize> {
        let r = rank as i64;
        if axis < -r || axis >= r {
            return Err(self.bad(format!("axis {axis} is out of range for rank {rank}")));
        }
        Ok(if axis < 0 { axis + r } else { axis } as usize)
    }
}

/// Explicit pads for `auto_pad` SAME_UPPER / SAME_LOWER.
fn same_pads(input: usize, k: usize, s: usize, d: usize, upper: bool) -> (usize, usize) {
    let out = input.div_ceil(s);
    let eff = k.saturating_sub(1) * d + 1;
    let total = (out.saturating_sub(1) * s + eff).saturating_sub(input);
    let small = total / 2;
    if upper {
        (small, total - small)
    } else {
        (total - small, small)
    }
}

/// Resolves auto_pad into `[top, left, bottom, right]`.
fn resolve_pads(
    auto: AutoPad,
    pads: [usize; 4],
    hw: [usize; 2],
    k: [usize; 2],
    s: [usize; 2],
    d: [usize; 2],
) -> [usize; 4] {
    match auto {
        AutoPad::NotSet => pads,
        AutoPad::Valid => [0; 4],
        AutoPad::SameUpper | AutoPad::SameLower => {
            let up = auto == AutoPad::SameUpper;
            let (t, b) = same_pads(hw[0], k[0], s[0], d[0], up);
            let (l, r) = same_pads(hw[1], k[1], s[1], d[1], up);
            [t, l, b, r]
        }
    }
}

fn infer_node(c: &Ctx) -> R<Inferred> {
    let node = c.node;
    match &node.op {
        Op::Conv(conv) => {
            c.floats_only()?;
            let x = c.shape(0)?;
            let w = c.shape(1)?;
            if x.len() != 4 {
                unsupported!(
                    "input of rank {}: only 2-D convolution (NCHW) is supported",
                    x.len()
                );
            }
            if w.len() != 4 {
                return Err(c.bad(format!("weights of rank {}, expected 4", w.len())));
            }
            if let Some(k) = conv.kernel
                && k != [w[2], w[3]]
            {
                return Err(c.bad(format!("kernel_shape {k:?} differs from weights {w:?}")));
            }
            if let Some(b) = c.node.input(2)
                && c.g.shape(b) != [w[0]]
            {
                return Err(c.bad(format!(
                    "bias of shape {:?}, expected [{}]",
                    c.g.shape(b),
                    w[0]
                )));
            }
            let p = &conv.params;
            let params = Conv2dParams {
                padding: resolve_pads(
                    conv.auto_pad,
                    p.padding,
                    [x[2], x[3]],
                    [w[2], w[3]],
                    p.stride,
                    p.dilation,
                ),
                ..*p
            };
            // Checked here: the kernel's arithmetic assumes sizes that cannot overflow.
            let [top, left, bottom, right] = params.padding;
            for (axis, size, (before, after), k, d) in [
                ("H", x[2], (top, bottom), w[2], params.dilation[0]),
                ("W", x[3], (left, right), w[3], params.dilation[1]),
            ] {
                let pads = before + after;
                let span = k
                    .saturating_sub(1)
                    .checked_mul(d)
                    .and_then(|v| v.checked_add(1));
                let padded = size.checked_add(pads);
                if span.is_some_and(|s| before.max(after) >= s) {
                    // Valid ONNX (those outputs are the bias), but never a real model.
                    unsupported!(
                        "pads {:?} along {axis} reach past the kernel's extent of {}: \
                         some outputs would see padding only",
                        params.padding,
                        span.unwrap_or_default()
                    );
                }
                if span.is_none() || padded.is_none() || span > padded {
                    return Err(c.bad(format!(
                        "along {axis} the kernel of {k} with dilation {d} spans more than \
                         the input's {size} plus {pads} of padding"
                    )));
                }
            }
            let out = params
                .output_shape(x, w)
                .map_err(|e| c.bad(e.to_string()))?;
            let op = Op::Conv(super::Conv {
                params,
                auto_pad: AutoPad::NotSet,
                kernel: Some([w[2], w[3]]),
                act: conv.act,
            });
            one(op, tensor(out))
        }

        Op::Pool(pool) => {
            c.floats_only()?;
            let x = c.shape(0)?;
            if x.len() != 4 {
                unsupported!(
                    "input of rank {}: only 2-D pooling (NCHW) is supported",
                    x.len()
                );
            }
            let p = &pool.params;
            let params = Pool2dParams {
                padding: resolve_pads(
                    pool.auto_pad,
                    p.padding,
                    [x[2], x[3]],
                    p.kernel,
                    p.stride,
                    p.dilation,
                ),
                ..*p
            };
            // Valid ONNX, but windows over padding only have no defined value.
            let out = match params.output_shape(x) {
                Ok(s) => s,
                Err(e) => unsupported!("{e}"),
            };
            let op = Op::Pool(super::Pool {
                mode: pool.mode,
                params,
                auto_pad: AutoPad::NotSet,
            });
            one(op, tensor(out))
        }

        Op::BatchNorm { .. } => {
            c.floats_only()?;
            let x = c.shape(0)?.to_vec();
            if x.len() < 2 {
                return Err(c.bad(format!("input of shape {x:?} has no channel dimension")));
            }
            for i in 1..5 {
                if c.shape(i)? != [x[1]] {
                    return Err(c.bad(format!(
                        "parameter {i} has shape {:?}, expected [{}]",
                        c.shape(i)?,
                        x[1]
                    )));
                }
                if c.konst(i).is_none() {
                    unsupported!(
                        "parameter {i} is computed at run time; only constant statistics are supported"
                    );
                }
            }
            one(node.op.clone(), tensor(x))
        }

        Op::Act(a) => act(c, *a),

        Op::Clip { min, max } => {
            let bound = |i: usize, attr: &Option<f32>, default: f32| -> R<f32> {
                if let Some(v) = attr {
                    return Ok(*v);
                }
                match c.const_input(i, "a Clip bound")? {
                    None => Ok(default),
                    Some(k) if k.len() == 1 => Ok(k.to_f32s()[0]),
                    Some(_) => Err(c.bad("Clip bounds must be scalars")),
                }
            };
            let lo = bound(1, min, f32::MIN)?;
            let hi = bound(2, max, f32::MAX)?;
            let a = if lo == 0.0 && hi == f32::MAX {
                Activation::Relu
            } else {
                Activation::Clip { min: lo, max: hi }
            };
            act(c, a)
        }

        Op::Binary(op, a) => {
            let (sa, sb) = (c.shape(0)?, c.shape(1)?);
            let shape = broadcast_shapes(sa, sb)
                .map_err(|_| c.bad(format!("cannot broadcast {sa:?} with {sb:?}")))?;
            if let (Some(x), Some(y)) = (c.konst(0), c.konst(1)) {
                return one(node.op.clone(), folded(fold_binary(c, *op, x, y)?));
            }
            c.floats_only()?;
            if shape.len() > MAX_RANK {
                unsupported!("rank {} is over the supported {MAX_RANK}", shape.len());
            }
            one(Op::Binary(*op, *a), tensor(shape))
        }

        Op::GlobalPool(mode) => {
            c.floats_only()?;
            let x = c.shape(0)?;
            if x.len() < 3 {
                return Err(c.bad(format!("input of shape {x:?} has no spatial dimensions")));
            }
            let mut shape = x.to_vec();
            shape[2..].fill(1);
            one(
                Op::Reduce {
                    mode: *mode,
                    axis: 2,
                },
                tensor(shape),
            )
        }

        Op::ReduceMean {
            axes,
            keepdims,
            noop_with_empty_axes,
        } => {
            c.data_f32()?;
            let x = c.shape(0)?.to_vec();
            let axes: Vec<i64> = match axes {
                Some(a) => a.clone(),
                None => c
                    .const_input(1, "the axes")?
                    .map(Const::to_i64s)
                    .unwrap_or_default(),
            };
            if (axes.is_empty() && *noop_with_empty_axes) || x.is_empty() {
                return view(c, x);
            }
            let mut axes: Vec<usize> = if axes.is_empty() {
                (0..x.len()).collect()
            } else {
                axes.iter().map(|&a| c.axis(a, x.len())).collect::<R<_>>()?
            };
            axes.sort_unstable();
            axes.dedup();
            let first = axes[0];
            if axes != (first..x.len()).collect::<Vec<_>>() {
                unsupported!(
                    "ReduceMean over axes {axes:?} of a rank-{} tensor: only trailing axes (e.g. H and W) are supported",
                    x.len()
                );
            }
            let mut shape = x[..first].to_vec();
            if *keepdims {
                shape.resize(x.len(), 1);
            }
            one(
                Op::Reduce {
                    mode: SqueezeMode::Avg,
                    axis: first,
                },
                tensor(shape),
            )
        }

        Op::MatMul { .. } => {
            c.floats_only()?;
            let (a, b) = (c.shape(0)?, c.shape(1)?);
            let Some((_, _, _, out)) = matmul_shapes(a, b) else {
                return Err(c.bad(format!("cannot multiply {a:?} by {b:?}")));
            };
            if out.len() > MAX_RANK {
                unsupported!("rank {} is over the supported {MAX_RANK}", out.len());
            }
            one(node.op.clone(), tensor(out))
        }

        Op::Gemm {
            trans_a, trans_b, ..
        } => {
            c.floats_only()?;
            let (a, b) = (c.shape(0)?, c.shape(1)?);
            if a.len() != 2 || b.len() != 2 {
                return Err(c.bad(format!("Gemm needs 2-D inputs, got {a:?} and {b:?}")));
            }
            let (m, k) = if *trans_a { (a[1], a[0]) } else { (a[0], a[1]) };
            let (k2, n) = if *trans_b { (b[1], b[0]) } else { (b[0], b[1]) };
            if k != k2 {
                return Err(c.bad(format!(
                    "inner dimensions differ: A {a:?} (transA={trans_a}), B {b:?} (transB={trans_b})"
                )));
            }
            if let Some(cv) = node.input(2) {
                let cs = c.g.shape(cv);
                if broadcast_shapes(cs, &[m, n]).ok().as_deref() != Some(&[m, n][..]) {
                    return Err(c.bad(format!(
                        "C of shape {cs:?} does not broadcast to [{m}, {n}]"
                    )));
                }
            }
            one(node.op.clone(), tensor(vec![m, n]))
        }

        Op::Flatten { axis } => {
            let x = c.shape(0)?;
            let r = x.len() as i64;
            if *axis < -r || *axis > r {
                return Err(c.bad(format!("axis {axis} is out of range for rank {r}")));
            }
            let a = if *axis < 0 { axis + r } else { *axis } as usize;
            view(c, vec![x[..a].iter().product(), x[a..].iter().product()])
        }

        Op::Reshape { allowzero } => {
            let x = c.shape(0)?;
            let Some(target) = c.const_input(1, "the target shape")? else {
                return Err(c.bad("the shape input is missing"));
            };
            let target = target.to_i64s();
            let mut shape = Vec::with_capacity(target.len());
            let mut infer_at = None;
            for (i, &t) in target.iter().enumerate() {
                match t {
                    0 if !allowzero => shape.push(*x.get(i).ok_or_else(|| {
                        c.bad(format!("0 at position {i} has no input dimension to copy"))
                    })?),
                    -1 if infer_at.is_none() => {
                        infer_at = Some(i);
                        shape.push(1);
                    }
                    t if t >= 0 => shape.push(t as usize),
                    _ => return Err(c.bad(format!("invalid target shape {target:?}"))),
                }
            }
            let total: usize = x.iter().product();
            // The target is data from the file: its product may overflow.
            let Some(known) = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) else {
                return Err(c.bad(format!("cannot reshape {x:?} to {target:?}")));
            };
            if let Some(i) = infer_at {
                if known == 0 || !total.is_multiple_of(known) {
                    return Err(c.bad(format!("cannot reshape {x:?} to {target:?}")));
                }
                shape[i] = total / known;
            }
            if shape.iter().product::<usize>() != total {
                return Err(c.bad(format!("cannot reshape {x:?} to {target:?}")));
            }
            view(c, shape)
        }

        Op::Squeeze { axes } => {
            let x = c.shape(0)?.to_vec();
            let axes = match axes {
                Some(a) => Some(a.clone()),
                None => c.const_input(1, "the axes")?.map(Const::to_i64s),
            };
            let shape: Vec<usize> = match axes {
                None => x.iter().copied().filter(|&d| d != 1).collect(),
                Some(axes) => {
                    let axes: Vec<usize> =
                        axes.iter().map(|&a| c.axis(a, x.len())).collect::<R<_>>()?;
                    if let Some(&a) = axes.iter().find(|&&a| x[a] != 1) {
                        return Err(c.bad(format!("cannot squeeze axis {a} of {x:?}")));
                    }
                    (0..x.len())
                        .filter(|i| !axes.contains(i))
                        .map(|i| x[i])
                        .collect()
                }
            };
            view(c, shape)
        }

        Op::Unsqueeze { axes } => {
            let x = c.shape(0)?.to_vec();
            let axes = match axes {
                Some(a) => a.clone(),
                None => match c.const_input(1, "the axes")? {
                    Some(k) => k.to_i64s(),
                    None => return Err(c.bad("the axes input is missing")),
                },
            };
            let rank = x.len() + axes.len();
            let mut axes: Vec<usize> = axes.iter().map(|&a| c.axis(a, rank)).collect::<R<_>>()?;
            axes.sort_unstable();
            if axes.windows(2).any(|w| w[0] == w[1]) {
                return Err(c.bad(format!("repeated axes {axes:?}")));
            }
            let mut rest = x.iter();
            let shape = (0..rank)
                .map(|i| {
                    if axes.contains(&i) {
                        1
                    } else {
                        *rest.next().unwrap_or(&1)
                    }
                })
                .collect();
            view(c, shape)
        }

        Op::ConcatAttr { axis } => {
            let first = c.shape(0)?.to_vec();
            let a = c.axis(*axis, first.len())?;
            let mut shape = first.clone();
            shape[a] = 0;
            for v in node.present_inputs() {
                let s = c.g.shape(v);
                let same_rest =
                    s.len() == first.len() && (0..s.len()).all(|i| i == a || s[i] == first[i]);
                if !same_rest {
                    return Err(c.bad(format!(
                        "cannot concatenate {first:?} and {s:?} on axis {a}"
                    )));
                }
                shape[a] += s[a];
            }
            if c.all_const() {
                let consts: Vec<&Const> =
                    node.present_inputs().filter_map(|v| c.g.konst(v)).collect();
                return one(
                    Op::Concat { axis: a },
                    folded(fold_concat(&consts, a, shape)),
                );
            }
            c.floats_only()?;
            if node.present_inputs().count() == 1 {
                return view(c, shape);
            }
            one(Op::Concat { axis: a }, tensor(shape))
        }

        Op::SoftmaxAttr { axis, coerce_2d } => {
            c.floats_only()?;
            let x = c.shape(0)?.to_vec();
            let a = c.axis(*axis, x.len())?;
            let op = Op::Softmax {
                axis: a,
                coerce_2d: *coerce_2d && a + 1 < x.len(),
            };
            one(op, tensor(x))
        }

        Op::PadAttr { pads, mode, value } => {
            c.data_f32()?;
            let x = c.shape(0)?.to_vec();
            let r = x.len();
            let raw = match pads {
                Some(p) => p.clone(),
                None => match c.const_input(1, "the pads")? {
                    Some(k) => k.to_i64s(),
                    None => return Err(c.bad("the pads input is missing")),
                },
            };
            let value = match c.const_input(2, "the constant value")? {
                Some(k) if k.len() == 1 => k.to_f32s()[0],
                Some(_) => return Err(c.bad("the constant value must be a scalar")),
                None => *value,
            };
            let axes: Vec<usize> = match c.const_input(3, "the axes")? {
                Some(k) => k
                    .to_i64s()
                    .iter()
                    .map(|&a| c.axis(a, r))
                    .collect::<R<_>>()?,
                None => (0..r).collect(),
            };
            if raw.len() != 2 * axes.len() {
                return Err(c.bad(format!("{} pads for {} axes", raw.len(), axes.len())));
            }
            if raw.iter().any(|&p| p < 0) {
                unsupported!("negative pads {raw:?} (cropping) are not supported");
            }
            let mut full = vec![0usize; 2 * r];
            for (j, &a) in axes.iter().enumerate() {
                full[a] = raw[j] as usize;
                full[r + a] = raw[axes.len() + j] as usize;
            }
            let kind = match mode.as_str() {
                "reflect" => PadMode::Reflect,
                "edge" => PadMode::Edge,
                _ => PadMode::Constant(value),
            };
            if kind == PadMode::Reflect && (0..r).any(|i| full[i] >= x[i] || full[r + i] >= x[i]) {
                return Err(c.bad(format!(
                    "reflect pads {full:?} must be smaller than the input {x:?}"
                )));
            }
            if full.iter().all(|&p| p == 0) {
                return view(c, x);
            }
            let shape = (0..r).map(|i| x[i] + full[i] + full[r + i]).collect();
            one(Op::Pad { pads: full, kind }, tensor(shape))
        }

        Op::TransposeAttr { perm } => {
            let x = c.shape(0)?.to_vec();
            let r = x.len();
            let perm: Vec<usize> = match perm {
                Some(p) => {
                    let mut seen = vec![false; r];
                    let mut out = Vec::with_capacity(r);
                    for &a in p {
                        match usize::try_from(a) {
                            Ok(a) if a < r && !seen[a] => {
                                seen[a] = true;
                                out.push(a);
                            }
                            _ => {
                                return Err(
                                    c.bad(format!("perm {p:?} is not a permutation of 0..{r}"))
                                );
                            }
                        }
                    }
                    if out.len() != r {
                        return Err(c.bad(format!("perm {p:?} is not a permutation of 0..{r}")));
                    }
                    out
                }
                None => (0..r).rev().collect(),
            };
            let shape: Vec<usize> = perm.iter().map(|&p| x[p]).collect();
            if let Some(k) = c.konst(0) {
                let out = fold::map_data(
                    k,
                    shape,
                    |d| fold::transpose(d, &x, &perm),
                    |d| fold::transpose(d, &x, &perm),
                );
                return one(Op::Transpose { perm }, folded(out));
            }
            c.floats_only()?;
            if perm.iter().enumerate().all(|(i, &p)| i == p) {
                return view(c, shape);
            }
            if r > MAX_LAYOUT_RANK {
                unsupported!("rank {r} is over the supported {MAX_LAYOUT_RANK}");
            }
            one(Op::Transpose { perm }, tensor(shape))
        }

        Op::Identity => {
            let x = c.input(0)?;
            match c.g.konst(x) {
                Some(k) => one(Op::Identity, folded(k.clone())),
                None => {
                    c.floats_only()?;
                    one(Op::Identity, tensor(c.g.shape(x).to_vec()))
                }
            }
        }

        Op::Expand => {
            let x = c.shape(0)?.to_vec();
            let Some(target) = c.const_input(1, "the target shape")? else {
                return Err(c.bad("the shape input is missing"));
            };
            let target: Vec<usize> = target
                .to_i64s()
                .iter()
                .map(|&d| usize::try_from(d).map_err(|_| c.bad(format!("negative dimension {d}"))))
                .collect::<R<_>>()?;
            check_size("Expand target", &target)?;
            let shape = broadcast_shapes(&x, &target)
                .map_err(|_| c.bad(format!("cannot expand {x:?} to {target:?}")))?;
            if let Some(k) = c.konst(0) {
                let zeros = Const::i64(shape.clone(), vec![0; shape.iter().product()]);
                return one(
                    Op::Expand,
                    folded(fold_binary(c, BinaryOp::Add, k, &zeros)?),
                );
            }
            c.data_f32()?;
            if shape == x {
                return view(c, shape);
            }
            if shape.len() > MAX_RANK {
                unsupported!("rank {} is over the supported {MAX_RANK}", shape.len());
            }
            one(Op::Expand, tensor(shape))
        }

        Op::Shape { start, end } => {
            let x = c.shape(0)?;
            let r = x.len() as i64;
            let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
            let (s, e) = (clamp(*start), clamp(end.unwrap_or(r)));
            let dims: Vec<i64> = x[s..e.max(s)].iter().map(|&d| d as i64).collect();
            one(node.op.clone(), folded(Const::i64(vec![dims.len()], dims)))
        }

        Op::Gather { axis } => {
            let (Some(data), Some(idx)) = (c.konst(0), c.konst(1)) else {
                unsupported!("Gather on a tensor computed at run time is not supported");
            };
            let a = c.axis(*axis, data.shape().len())?;
            let idx_shape = idx.shape().to_vec();
            let idx = idx.to_i64s();
            let ds = data.shape().to_vec();
            let mut shape = ds[..a].to_vec();
            shape.extend(&idx_shape);
            shape.extend(&ds[a + 1..]);
            let out = match data {
                Const::F32(t) => fold::gather(&t.data, &ds, a, &idx).map(|v| {
                    Const::f32(HostTensor {
                        shape: shape.clone(),
                        data: v,
                    })
                }),
                Const::I64(t) => {
                    fold::gather(&t.data, &ds, a, &idx).map(|v| Const::i64(shape.clone(), v))
                }
            };
            let out = out.ok_or_else(|| {
                c.bad(format!(
                    "indices {idx:?} out of range for axis {a} of {ds:?}"
                ))
            })?;
            one(node.op.clone(), folded(out))
        }

        Op::Cast { to } => {
            let x = c.input(0)?;
            match (c.g.konst(x), to) {
                (Some(k), DType::F32) => one(
                    Op::Identity,
                    folded(Const::f32(HostTensor {
                        shape: k.shape().to_vec(),
                        data: k.to_f32s(),
                    })),
                ),
                (Some(k), DType::I64) => one(
                    Op::Identity,
                    folded(Const::i64(k.shape().to_vec(), k.to_i64s())),
                ),
                (None, DType::F32) if c.g.values[x].dtype == DType::F32 => {
                    one(Op::Identity, tensor(c.g.shape(x).to_vec()))
                }
                (None, _) => {
                    unsupported!("Cast of a tensor computed at run time to {to:?} is not supported")
                }
            }
        }

        Op::Slice { starts, ends, axes } => {
            let Some(data) = c.konst(0) else {
                unsupported!("Slice of a tensor computed at run time is not supported");
            };
            let ds = data.shape().to_vec();
            let input_form = starts.is_none();
            let get = |attr: &Option<Vec<i64>>, i: usize, what: &str| -> R<Option<Vec<i64>>> {
                Ok(match attr {
                    Some(v) => Some(v.clone()),
                    None => c.const_input(i, what)?.map(Const::to_i64s),
                })
            };
            let starts =
                get(starts, 1, "the starts")?.ok_or_else(|| c.bad("starts are missing"))?;
            let ends = get(ends, 2, "the ends")?.ok_or_else(|| c.bad("ends are missing"))?;
            let axes = get(axes, 3, "the axes")?;
            let steps = if input_form {
                get(&None, 4, "the steps")?
            } else {
                None
            };
            let axes: Vec<usize> = match axes {
                Some(a) => a.iter().map(|&a| c.axis(a, ds.len())).collect::<R<_>>()?,
                None => (0..starts.len()).collect(),
            };
            let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
            if ends.len() != starts.len()
                || axes.len() != starts.len()
                || steps.len() != starts.len()
            {
                return Err(c.bad("starts, ends, axes and steps differ in length"));
            }
            if steps.contains(&0) {
                return Err(c.bad("a step is 0"));
            }
            let mut picks: Vec<Vec<usize>> = ds.iter().map(|&d| (0..d).collect()).collect();
            for j in 0..starts.len() {
                picks[axes[j]] = fold::slice_indices(ds[axes[j]], starts[j], ends[j], steps[j]);
            }
            let shape: Vec<usize> = picks.iter().map(Vec::len).collect();
            let out = fold::map_data(
                data,
                shape,
                |d| fold::slice(d, &ds, &picks),
                |d| fold::slice(d, &ds, &picks),
            );
            one(node.op.clone(), folded(out))
        }

        Op::ConstantOfShape { value } => {
            let Some(shape) = c.konst(0) else {
                unsupported!("ConstantOfShape with a shape computed at run time is not supported");
            };
            let dims = shape.to_i64s();
            let shape = crate::onnx::checked_dims(&node.name, &dims)?;
            let n: usize = shape.iter().product();
            let out = match value {
                Const::F32(t) => Const::f32(HostTensor {
                    shape,
                    data: vec![t.data[0]; n],
                }),
                Const::I64(t) => Const::i64(shape, vec![t.data[0]; n]),
            };
            one(node.op.clone(), folded(out))
        }

        // Canonical ops only reach inference when a graph is inferred twice.
        Op::Reduce { .. }
        | Op::Softmax { .. }
        | Op::Concat { .. }
        | Op::Transpose { .. }
        | Op::Pad { .. }
        | Op::View
        | Op::SeBlock(_) => Err(c.bad("internal: canonical op before inference")),
        Op::Unsupported(r) => Err(Issue::Unsupported(r.clone())),
    }
}

impl Ctx<'_> {
    /// Like `floats_only` for the data input 0 only (the others are attribute inputs).
    fn data_f32(&self) -> R<()> {
        let v = self.input(0)?;
        if self.g.values[v].dtype != DType::F32 {
            unsupported!(
                "input '{}' is an integer tensor; only f32 tensors are computed at run time",
                self.g.values[v].name
            );
        }
        Ok(())
    }
}

fn act(c: &Ctx, a: Activation) -> R<Inferred> {
    if let Some(k) = c.konst(0)
        && let Some(t) = k.as_f32()
    {
        return one(
            Op::Act(a),
            folded(Const::f32(crate::cpu::unary::unary(t, a))),
        );
    }
    c.data_f32()?;
    one(Op::Act(a), tensor(c.shape(0)?.to_vec()))
}

/// A reshape-like op: canonical `View`, folded when the input is constant.
fn view(c: &Ctx, shape: Vec<usize>) -> R<Inferred> {
    let x = c.input(0)?;
    if let Some(k) = c.g.konst(x) {
        let out = fold::map_data(k, shape, <[f32]>::to_vec, <[i64]>::to_vec);
        return one(Op::View, folded(out));
    }
    c.data_f32()?;
    one(Op::View, tensor(shape))
}

fn fold_binary(c: &Ctx, op: BinaryOp, x: &Const, y: &Const) -> R<Const> {
    match (x, y) {
        (Const::I64(a), Const::I64(b)) => fold::binary_i64(op, a, b)
            .map(|t| Const::I64(std::sync::Arc::new(t)))
            .ok_or_else(|| c.bad("integer division by zero or shapes that do not broadcast")),
        _ => {
            let to_f = |k: &Const| HostTensor {
                shape: k.shape().to_vec(),
                data: k.to_f32s(),
            };
            let out = crate::cpu::binary::binary(op, &to_f(x), &to_f(y), Activation::Identity)
                .map_err(|e| c.bad(e.to_string()))?;
            Ok(Const::f32(out))
        }
    }
}

fn fold_concat(consts: &[&Const], axis: usize, shape: Vec<usize>) -> Const {
    if consts.iter().all(|k| k.dtype() == DType::I64) {
        let parts: Vec<IntTensor> = consts
            .iter()
            .map(|k| IntTensor {
                shape: k.shape().to_vec(),
                data: k.to_i64s(),
            })
            .collect();
        let refs: Vec<(&[i64], &[usize])> =
            parts.iter().map(|p| (&p.data[..], &p.shape[..])).collect();
        Const::i64(shape, fold::concat(&refs, axis))
    } else {
        let parts: Vec<HostTensor> = consts
            .iter()
            .map(|k| HostTensor {
                shape: k.shape().to_vec(),
                data: k.to_f32s(),
            })
            .collect();
        let refs: Vec<(&[f32], &[usize])> =
            parts.iter().map(|p| (&p.data[..], &p.shape[..])).collect();
        Const::f32(HostTensor {
            shape,
            data: fold::concat(&refs, axis),
        })
    }
}
