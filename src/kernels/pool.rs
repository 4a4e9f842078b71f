//! 2-D max and average pooling on NCHW with ONNX MaxPool/AveragePool semantics
//! (`shaders/pool.wgsl`; CPU twin `crate::cpu::pool`).

use super::{
    Dispatch, ELEMENTWISE_WORKGROUP, Shader, distinct_output, grid, groups, shader, uniform,
};
use crate::device::Runtime;
use crate::device::Tensor;
use crate::error::{Error, Result};
use crate::ops::Pool2dParams;

pub const SHADER: Shader = shader!("pool", ["shared/grid", "shared/x_to_y", "pool"]);

uniform! {
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
    let wg = grid(rt, groups(y.len(), ELEMENTWISE_WORKGROUP));
    rt.dispatch(SHADER, entry, constants, &params, &[x, y], wg)
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
