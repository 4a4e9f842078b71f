//! 2-D max and average pooling: the graph op, its parameters and shape rule, with
//! ONNX MaxPool/AveragePool semantics (GPU: `kernels::pool`; CPU twin `cpu::pool`).

use super::conv::AutoPad;
use super::infer::{InferResult, Inferred, Inputs, unsupported};
use super::{Op, SqueezeMode};
use crate::error::{Error, Result};

/// MaxPool / AveragePool over H and W (`params.padding` resolved from `auto_pad`
/// by inference).
#[derive(Clone, Debug, PartialEq)]
pub struct Pool {
    pub mode: SqueezeMode,
    pub params: Pool2dParams,
    pub auto_pad: AutoPad,
}

/// Pooling window geometry. `padding` is `[top, left, bottom, right]`, like conv2d.
/// `count_include_pad` only affects average pooling; `dilation` applies to both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dParams {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 4],
    pub dilation: [usize; 2],
    pub ceil_mode: bool,
    pub count_include_pad: bool,
}

impl Default for Pool2dParams {
    /// A 1x1 window, stride 1, no padding: the ONNX attribute defaults.
    fn default() -> Self {
        Self {
            kernel: [1, 1],
            stride: [1, 1],
            padding: [0; 4],
            dilation: [1, 1],
            ceil_mode: false,
            count_include_pad: false,
        }
    }
}

impl Pool2dParams {
    /// `[N, C, OH, OW]` for an input `x = [N, C, H, W]`.
    ///
    /// Rejects zero kernel, stride or dilation, a window larger than the padded input,
    /// and any output window that covers padding only (it would have no element to
    /// pool; ONNX Runtime returns -FLT_MAX or 0 there).
    pub fn output_shape(&self, x: &[usize]) -> Result<Vec<usize>> {
        let &[n, c, h, w] = x else {
            return Err(Error::shape("pool input", "[N, C, H, W]", x));
        };
        let oh = self.output_len(0, h)?;
        let ow = self.output_len(1, w)?;
        Ok(vec![n, c, oh, ow])
    }

    /// Output length along spatial axis `d` (0 = H, 1 = W) for input length `len`.
    fn output_len(&self, d: usize, len: usize) -> Result<usize> {
        let axis = ["H", "W"][d];
        let (k, s, dil) = (self.kernel[d], self.stride[d], self.dilation[d]);
        let (begin, end) = (self.padding[d], self.padding[d + 2]);
        for (name, v) in [("kernel", k), ("stride", s), ("dilation", dil)] {
            if v == 0 {
                return Err(Error::invalid(
                    "pool2d",
                    format!("{name} along {axis} is 0"),
                ));
            }
        }
        let overflow = || Error::invalid("pool2d", format!("sizes along {axis} overflow"));
        let extent = (k - 1).checked_mul(dil).ok_or_else(overflow)? + 1;
        let padded = len
            .checked_add(begin)
            .and_then(|v| v.checked_add(end))
            .ok_or_else(overflow)?;
        if padded < extent {
            return Err(Error::invalid(
                "pool2d",
                format!(
                    "the window along {axis} spans {extent} elements, more than the padded input's {padded}"
                ),
            ));
        }
        let span = padded - extent;
        let mut out = if self.ceil_mode {
            span.div_ceil(s) + 1
        } else {
            span / s + 1
        };
        // ceil_mode: a window that would start in the end padding is dropped (ONNX, PyTorch).
        if self.ceil_mode && (out - 1) * s >= len + begin {
            out -= 1;
        }
        for o in 0..out {
            let start = (o * s) as i64 - begin as i64;
            let hits = (0..k).any(|t| (0..len as i64).contains(&(start + (t * dil) as i64)));
            if !hits {
                return Err(Error::invalid(
                    "pool2d",
                    format!(
                        "output {o} along {axis} pools padding only; use less padding or dilation"
                    ),
                ));
            }
        }
        Ok(out)
    }
}

/// MaxPool / AveragePool over NCHW; resolves `auto_pad`.
pub fn infer(pool: &Pool, x: &Inputs) -> InferResult<Inferred> {
    x.floats_only()?;
    let xs = x.shape(0)?;
    if xs.len() != 4 {
        unsupported!(
            "input of rank {}: only 2-D pooling (NCHW) is supported",
            xs.len()
        );
    }
    let p = &pool.params;
    let params = Pool2dParams {
        padding: pool
            .auto_pad
            .resolve(p.padding, [xs[2], xs[3]], p.kernel, p.stride, p.dilation),
        ..*p
    };
    // Valid ONNX, but windows over padding only have no defined value.
    let out = match params.output_shape(xs) {
        Ok(s) => s,
        Err(e) => unsupported!("{e}"),
    };
    let op = Op::Pool(Pool {
        mode: pool.mode,
        params,
        auto_pad: AutoPad::NotSet,
    });
    Inferred::tensor(op, out)
}
