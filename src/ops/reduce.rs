//! Reductions over any set of axes (ReduceSum, ReduceMean, ReduceMax, ...): GPU
//! `kernels::reduce`, CPU twin `cpu::reduce`. A mean or max over trailing axes
//! (H and W) stays the squeeze (`Op::Reduce`), which the SE-block pass recognises.

use super::Op;
use super::binary::check_rank;
use super::infer::{InferResult, Inferred, Inputs};
use super::squeeze::SqueezeMode;
use super::view::view;
use crate::tensor::{Const, DType};

/// What a reduction computes over its elements; the discriminant (declaration
/// order) is the shader's `kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceKind {
    Sum,
    Mean,
    Max,
    Min,
    /// `sqrt(sum(x^2))`
    L2,
    SumSquare,
    /// `sum(|x|)`
    L1,
    Prod,
    /// `log(sum(x))`
    LogSum,
    /// `log(sum(exp(x)))`, computed around the maximum.
    LogSumExp,
}

impl ReduceKind {
    pub const ALL: [ReduceKind; 10] = {
        use ReduceKind::*;
        [
            Sum, Mean, Max, Min, L2, SumSquare, L1, Prod, LogSum, LogSumExp,
        ]
    };

    /// The kind of the ONNX operator `Reduce<name>`.
    pub fn from_onnx(op_type: &str) -> Option<ReduceKind> {
        let name = op_type.strip_prefix("Reduce")?;
        ReduceKind::ALL
            .into_iter()
            .find(|k| format!("{k:?}") == name)
    }

    /// Whether the axes are an input rather than an attribute at `opset`
    /// (ReduceSum from opset 13, the others from 18).
    pub fn axes_as_input(self, opset: i64) -> bool {
        opset >= if self == ReduceKind::Sum { 13 } else { 18 }
    }
}

/// The shape of `shape` reduced over the sorted `axes`: each reduced dimension 1
/// with `keepdims`, dropped without.
pub fn reduced_shape(shape: &[usize], axes: &[usize], keepdims: bool) -> Vec<usize> {
    (0..shape.len())
        .filter(|i| keepdims || !axes.contains(i))
        .map(|i| if axes.contains(&i) { 1 } else { shape[i] })
        .collect()
}

/// A reduction with its axes as an attribute or constant input 1 (none: every axis,
/// or no reduction with `noop_with_empty_axes`). Canonical: the squeeze for a mean or
/// max over trailing axes, `ReduceAxes` otherwise; folded on a constant.
pub fn infer(
    kind: ReduceKind,
    axes: Option<&[i64]>,
    keepdims: bool,
    noop_with_empty_axes: bool,
    x: &Inputs,
) -> InferResult<Inferred> {
    let xs = x.shape(0)?.to_vec();
    let axes: Vec<i64> = match axes {
        Some(a) => a.to_vec(),
        None => x
            .const_input(1, "the axes")?
            .map(Const::to_i64s)
            .unwrap_or_default(),
    };
    if axes.is_empty() && (noop_with_empty_axes || xs.is_empty()) {
        return view(x, xs);
    }
    let mut axes: Vec<usize> = if axes.is_empty() {
        (0..xs.len()).collect()
    } else {
        x.axes(&axes, xs.len())?
    };
    axes.sort_unstable();
    axes.dedup();
    let shape = reduced_shape(&xs, &axes, keepdims);
    let op = Op::ReduceAxes {
        kind,
        axes: axes.clone(),
    };
    if x.konst(0).is_some() {
        return Inferred::constant(op, shape, DType::F32);
    }
    x.data_f32()?;
    check_rank(xs.len())?;
    let first = axes[0];
    let trailing = axes == (first..xs.len()).collect::<Vec<_>>();
    let squeeze = match kind {
        ReduceKind::Mean => Some(SqueezeMode::Avg),
        ReduceKind::Max => Some(SqueezeMode::Max),
        _ => None,
    };
    match squeeze {
        Some(mode) if trailing => Inferred::tensor(Op::Reduce { mode, axis: first }, shape),
        _ => Inferred::tensor(op, shape),
    }
}

/// How a reduction walks its input: the kept and the reduced dimensions, each as
/// `(size, input stride)` in row-major order. Output element `i` starts at `i`
/// decomposed over `kept`; its `j`-th input element is `j` decomposed over `reduced`
/// on top.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReduceLayout {
    pub kept: Vec<(usize, usize)>,
    pub reduced: Vec<(usize, usize)>,
}

impl ReduceLayout {
    pub fn new(shape: &[usize], axes: &[usize]) -> ReduceLayout {
        let mut stride = 1;
        let (mut kept, mut reduced) = (vec![], vec![]);
        for (i, &d) in shape.iter().enumerate().rev() {
            let side = if axes.contains(&i) {
                &mut reduced
            } else {
                &mut kept
            };
            side.insert(0, (d, stride));
            stride *= d;
        }
        ReduceLayout { kept, reduced }
    }

    /// Elements each output reduces.
    pub fn count(&self) -> usize {
        self.reduced.iter().map(|&(d, _)| d).product()
    }

    /// The input offset of element `i` of `dims` (row-major).
    pub fn offset(dims: &[(usize, usize)], i: usize) -> usize {
        let (mut rest, mut off) = (i, 0);
        for &(d, s) in dims.iter().rev() {
            off += rest % d * s;
            rest /= d;
        }
        off
    }
}
