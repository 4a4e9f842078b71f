//! ONNX Pad: its modes and shape rule (GPU: `kernels::pad`; CPU twin `cpu::pad`).

use super::Op;
use super::infer::{InferResult, Inferred, Inputs, unsupported};
use super::transpose::MAX_RANK;
use super::view::view;
use crate::error::{Error, Result};

/// What fills the padding.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PadMode {
    /// A fixed value.
    Constant(f32),
    /// Mirror without repeating the edge: `[1, 2, 3]` padded by 2 on both sides is
    /// `[3, 2, 1, 2, 3, 2, 1]`. Wider pads mirror again, as NumPy (the ONNX reference)
    /// does: by 4 on the left, `[1, 2, 3, 2, 1, 2, 3]`; a length-1 axis repeats.
    /// ONNX Runtime accepts only pads below the axis length, with the same results.
    Reflect,
    /// Repeat the edge element; needs a non-empty axis wherever it pads.
    Edge,
}

/// The shape of `x` padded by `pads` (ONNX order: all begins, then all ends).
pub fn pad_shape(x: &[usize], pads: &[usize], mode: PadMode) -> Result<Vec<usize>> {
    let rank = x.len();
    if rank > MAX_RANK {
        return Err(Error::invalid(
            "pad",
            format!("rank {rank} is over the supported {MAX_RANK}"),
        ));
    }
    if pads.len() != 2 * rank {
        return Err(Error::invalid(
            "pad",
            format!(
                "a rank-{rank} tensor needs {} pads (begins, then ends), got {}",
                2 * rank,
                pads.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(rank);
    for (d, &n) in x.iter().enumerate() {
        let (begin, end) = (pads[d], pads[rank + d]);
        let widest = begin.max(end);
        match mode {
            PadMode::Reflect | PadMode::Edge if widest > 0 && n == 0 => {
                return Err(Error::invalid(
                    "pad",
                    format!(
                        "{mode:?} padding along axis {d} has nothing to copy: the axis is empty"
                    ),
                ));
            }
            _ => {}
        }
        let len = n
            .checked_add(begin)
            .and_then(|v| v.checked_add(end))
            .ok_or_else(|| Error::invalid("pad", format!("axis {d} overflows")))?;
        out.push(len);
    }
    Ok(out)
}

/// Pad with its pads (and value) as attributes (opset < 11) or constant inputs
/// `[x, pads, value?, axes?]`; no padding at all is a `View`.
pub fn infer(pads: Option<&[i64]>, mode: &str, value: f32, x: &Inputs) -> InferResult<Inferred> {
    x.data_f32()?;
    let xs = x.shape(0)?.to_vec();
    let r = xs.len();
    let raw = match pads {
        Some(p) => p.to_vec(),
        None => match x.const_input(1, "the pads")? {
            Some(k) => k.to_i64s(),
            None => return Err(x.bad("the pads input is missing")),
        },
    };
    let value = match x.const_input(2, "the constant value")? {
        Some(k) if k.len() == 1 => k.to_f32s()[0],
        Some(_) => return Err(x.bad("the constant value must be a scalar")),
        None => value,
    };
    let axes: Vec<usize> = match x.const_input(3, "the axes")? {
        Some(k) => x.axes(&k.to_i64s(), r)?,
        None => (0..r).collect(),
    };
    if raw.len() != 2 * axes.len() {
        return Err(x.bad(format!("{} pads for {} axes", raw.len(), axes.len())));
    }
    if raw.iter().any(|&p| p < 0) {
        unsupported!("negative pads {raw:?} (cropping) are not supported");
    }
    let mut full = vec![0usize; 2 * r];
    for (j, &a) in axes.iter().enumerate() {
        full[a] = raw[j] as usize;
        full[r + a] = raw[axes.len() + j] as usize;
    }
    let kind = match mode {
        "reflect" => PadMode::Reflect,
        "edge" => PadMode::Edge,
        _ => PadMode::Constant(value),
    };
    if kind == PadMode::Reflect && (0..r).any(|i| full[i] >= xs[i] || full[r + i] >= xs[i]) {
        return Err(x.bad(format!(
            "reflect pads {full:?} must be smaller than the input {xs:?}"
        )));
    }
    if full.iter().all(|&p| p == 0) {
        return view(x, xs);
    }
    let shape = (0..r).map(|i| xs[i] + full[i] + full[r + i]).collect();
    Inferred::tensor(Op::Pad { pads: full, kind }, shape)
}
