//! Concatenation of N tensors along one axis (`shaders/concat.wgsl`; CPU twin
//! `crate::cpu::concat`). One dispatch per input copies it into its slice of the output.

use super::{
    Dispatch, ELEMENTWISE_WORKGROUP, Shader, distinct_output, grid, groups, shader, uniform,
};
use crate::device::Runtime;
use crate::device::Tensor;
use crate::error::{Error, Result};
use crate::ops::concat::concat_shape;

pub const SHADER: Shader = shader!("concat", ["shared/grid", "shared/x_to_y", "concat"]);

uniform! {
    struct Params {
        len: u32,
        chunk_in: u32,
        chunk_out: u32,
        offset: u32,
    }
}

/// `y = concat(inputs, axis)`. Inputs with no elements get no dispatch.
pub fn concat(rt: &Runtime, inputs: &[&Tensor], axis: usize, y: &Tensor) -> Result<Vec<Dispatch>> {
    let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape()).collect();
    let shape = concat_shape(&shapes, axis)?;
    if y.shape() != shape.as_slice() {
        return Err(Error::shape("concat output", &shape, y.shape()));
    }
    distinct_output("concat", inputs, y)?;
    // Viewed as [outer, axis, inner], input i fills axis positions offset..offset + n_i
    // of every outer slice: contiguous runs of n_i * inner elements.
    let inner: usize = shape[axis + 1..].iter().product();
    let mut offset = 0;
    let mut dispatches = Vec::with_capacity(inputs.len());
    for x in inputs {
        let n = x.shape()[axis];
        if !x.is_empty() {
            let params = Params {
                len: x.len() as u32,
                chunk_in: (n * inner) as u32,
                chunk_out: (shape[axis] * inner) as u32,
                offset: (offset * inner) as u32,
            };
            let wg = grid(rt, groups(x.len(), ELEMENTWISE_WORKGROUP));
            dispatches.push(rt.dispatch(SHADER, "concat", &[], &params, &[x, y], wg)?);
        }
        offset += n;
    }
    Ok(dispatches)
}
