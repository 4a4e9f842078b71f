//! ONNX Pad: its modes and shape rule (GPU: `kernels::pad`; CPU twin `cpu::pad`).

use super::transpose::MAX_RANK;
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
