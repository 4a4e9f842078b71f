//! 2-D max and average pooling on NCHW with ONNX MaxPool/AveragePool semantics
//! (`shaders/pool.wgsl`; CPU twin `crate::cpu::pool`).

use super::{Dispatch, distinct_output, grid, groups, shader};
use crate::device::Runtime;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

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

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
    h: u32,
    w: u32,
    oh: u32,
    ow: u32,
    kh: u32,
    kw: u32,
    sh: u32,
    sw: u32,
    dh: u32,
    dw: u32,
    pad_top: u32,
    pad_left: u32,
    pad_bottom: u32,
    pad_right: u32,
    _pad: u32,
}

fn prepare(
    rt: &Runtime,
    entry: &'static str,
    x: &Tensor,
    p: &Pool2dParams,
    y: &Tensor,
) -> Result<Dispatch> {
    let shape = p.output_shape(x.shape())?;
    if y.shape() != shape.as_slice() {
        return Err(Error::shape(format!("{entry} output"), &shape, y.shape()));
    }
    distinct_output(entry, &[x], y)?;
    let params = Params {
        len: y.len() as u32,
        h: x.shape()[2] as u32,
        w: x.shape()[3] as u32,
        oh: shape[2] as u32,
        ow: shape[3] as u32,
        kh: p.kernel[0] as u32,
        kw: p.kernel[1] as u32,
        sh: p.stride[0] as u32,
        sw: p.stride[1] as u32,
        dh: p.dilation[0] as u32,
        dw: p.dilation[1] as u32,
        pad_top: p.padding[0] as u32,
        pad_left: p.padding[1] as u32,
        pad_bottom: p.padding[2] as u32,
        pad_right: p.padding[3] as u32,
        _pad: 0,
    };
    // Only the average entry reads the flag; max pipelines stay one per shape-free key.
    let constants: &[(&str, f64)] = if entry == "avg_pool2d" {
        &[(
            "COUNT_INCLUDE_PAD",
            f64::from(u8::from(p.count_include_pad)),
        )]
    } else {
        &[]
    };
    let wg = grid(rt, groups(y.len(), 256));
    rt.dispatch(shader!("pool"), entry, constants, &params, &[x, y], wg)
}

/// `y = max_pool2d(x)`; padding never wins the max.
pub fn max_pool2d(rt: &Runtime, x: &Tensor, p: &Pool2dParams, y: &Tensor) -> Result<Dispatch> {
    prepare(rt, "max_pool2d", x, p, y)
}

/// `y = avg_pool2d(x)`: the window sum over the input elements it covers, divided by
/// their count, or with `count_include_pad` by the count of window taps inside the
/// padded input (taps past the end padding, from `ceil_mode`, never count).
pub fn avg_pool2d(rt: &Runtime, x: &Tensor, p: &Pool2dParams, y: &Tensor) -> Result<Dispatch> {
    prepare(rt, "avg_pool2d", x, p, y)
}
