//! ONNX Pad for tensors up to rank 6 (`shaders/pad.wgsl`; CPU twin `crate::cpu::pad`).

use super::transpose::MAX_RANK;
use super::{Dispatch, distinct_output, grid, groups, shader};
use crate::device::Runtime;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

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

impl PadMode {
    /// The shader's `MODE` override.
    fn code(self) -> u32 {
        match self {
            PadMode::Constant(_) => 0,
            PadMode::Reflect => 1,
            PadMode::Edge => 2,
        }
    }
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

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
    rank: u32,
    value: f32,
    _pad: u32,
    out_dims: [u32; 8],
    in_dims: [u32; 8],
    begins: [u32; 8],
}

/// `y = pad(x, pads, mode)`; pads are `[begin_0, .., begin_r-1, end_0, .., end_r-1]`.
pub fn pad(
    rt: &Runtime,
    x: &Tensor,
    pads: &[usize],
    mode: PadMode,
    y: &Tensor,
) -> Result<Dispatch> {
    let shape = pad_shape(x.shape(), pads, mode)?;
    if y.shape() != shape.as_slice() {
        return Err(Error::shape("pad output", &shape, y.shape()));
    }
    distinct_output("pad", &[x], y)?;
    let mut params = Params {
        len: y.len() as u32,
        rank: shape.len() as u32,
        value: match mode {
            PadMode::Constant(v) => v,
            _ => 0.0,
        },
        _pad: 0,
        out_dims: [0; 8],
        in_dims: [0; 8],
        begins: [0; 8],
    };
    for d in 0..shape.len() {
        params.out_dims[d] = shape[d] as u32;
        params.in_dims[d] = x.shape()[d] as u32;
        params.begins[d] = pads[d] as u32;
    }
    let constants = [("MODE", f64::from(mode.code()))];
    let wg = grid(rt, groups(y.len(), 256));
    rt.dispatch(shader!("pad"), "pad", &constants, &params, &[x, y], wg)
}
