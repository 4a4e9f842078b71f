//! The squeeze of an SE block: global average or max pooling over each channel's
//! H x W plane (GPU: `kernels::squeeze`; CPU twin `cpu::squeeze`).

use super::Op;
use super::infer::{InferResult, Inferred, Inputs, unsupported};
use super::view::view;
use crate::error::{Error, Result};
use crate::tensor::{Const, numel};

/// How the squeeze summarises a channel's plane.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SqueezeMode {
    /// Global average pooling (the SE paper's squeeze).
    #[default]
    Avg,
    /// Global max pooling.
    Max,
}

/// `[N, C, H, W]` of a rank-4 shape with no zero dimension, or an error naming `what`.
pub fn nchw(what: &str, shape: &[usize]) -> Result<[usize; 4]> {
    let [n, c, h, w] = *shape else {
        return Err(Error::shape(what, "[N, C, H, W]", shape));
    };
    if numel(shape)? == 0 {
        return Err(Error::invalid(
            what,
            format!("shape {shape:?} has a zero dimension"),
        ));
    }
    Ok([n, c, h, w])
}

/// GlobalAveragePool / GlobalMaxPool: a reduction over every spatial dimension.
pub fn infer_global_pool(mode: SqueezeMode, x: &Inputs) -> InferResult<Inferred> {
    x.floats_only()?;
    let xs = x.shape(0)?;
    if xs.len() < 3 {
        return Err(x.bad(format!("input of shape {xs:?} has no spatial dimensions")));
    }
    let mut shape = xs.to_vec();
    shape[2..].fill(1);
    Inferred::tensor(Op::Reduce { mode, axis: 2 }, shape)
}

/// ReduceMean with its axes as an attribute (opset < 18) or constant input 1; only
/// a suffix of the axes (e.g. H and W) runs, as a squeeze.
pub fn infer_reduce_mean(
    axes: Option<&[i64]>,
    keepdims: bool,
    noop_with_empty_axes: bool,
    x: &Inputs,
) -> InferResult<Inferred> {
    x.data_f32()?;
    let xs = x.shape(0)?.to_vec();
    let axes: Vec<i64> = match axes {
        Some(a) => a.to_vec(),
        None => x
            .const_input(1, "the axes")?
            .map(Const::to_i64s)
            .unwrap_or_default(),
    };
    if (axes.is_empty() && noop_with_empty_axes) || xs.is_empty() {
        return view(x, xs);
    }
    let mut axes: Vec<usize> = if axes.is_empty() {
        (0..xs.len()).collect()
    } else {
        x.axes(&axes, xs.len())?
    };
    axes.sort_unstable();
    axes.dedup();
    let first = axes[0];
    if axes != (first..xs.len()).collect::<Vec<_>>() {
        unsupported!(
            "ReduceMean over axes {axes:?} of a rank-{} tensor: only trailing axes (e.g. H and W) are supported",
            xs.len()
        );
    }
    let mut shape = xs[..first].to_vec();
    if keepdims {
        shape.resize(xs.len(), 1);
    }
    let op = Op::Reduce {
        mode: SqueezeMode::Avg,
        axis: first,
    };
    Inferred::tensor(op, shape)
}
