//! Shape rule of the SE scale `act(x * g[n, c] + residual)` (GPU: `kernels::scale`;
//! CPU twin `cpu::scale`).

use super::squeeze::nchw;
use crate::error::{Error, Result};

/// Checks `scale`'s operand shapes and returns `[N, C, H, W]`.
pub fn scale_dims(x: &[usize], g: &[usize], residual: Option<&[usize]>) -> Result<[usize; 4]> {
    let [n, c, h, w] = nchw("scale input", x)?;
    if g != [n, c] {
        return Err(Error::shape("scale gate", [n, c], g));
    }
    if let Some(r) = residual {
        if r != x {
            return Err(Error::shape("scale residual", x, r));
        }
    }
    Ok([n, c, h, w])
}
