//! The lowering of each plan step to the kernel dispatches that compute it.

use crate::device::{Dispatch, HalfTensor, Runtime, Tensor};
use crate::error::Result;
use crate::kernels;
use crate::kernels::{conv2d, matmul};
use crate::ops::SqueezeMode;
use crate::plan::{Operand, StepOp};

/// The dispatches of one step. `half`: the f16 copy of a constant operand when weights
/// are stored as f16.
pub(super) fn step(
    rt: &Runtime,
    op: &StepOp,
    view: &dyn Fn(&Operand) -> Result<Tensor>,
    half: &dyn Fn(&Operand) -> Result<Option<HalfTensor>>,
) -> Result<Vec<Dispatch>> {
    let opt = |o: &Option<Operand>| o.as_ref().map(view).transpose();
    Ok(match op {
        StepOp::Conv(c) => {
            let (x, b, r, y) = (view(&c.x)?, opt(&c.bias)?, opt(&c.residual)?, view(&c.y)?);
            let (b, r, p) = (b.as_ref(), r.as_ref(), &c.conv);
            let s = conv2d::strategy(rt.profile(), x.shape(), &c.w.shape, p)?;
            vec![match half(&c.w)? {
                Some(w) => conv2d::conv2d_f16(rt, s, &x, &w, b, r, p, c.act, &y)?,
                None => conv2d::conv2d_with(rt, s, &x, &view(&c.w)?, b, r, p, c.act, &y)?,
            }]
        }
        StepOp::MatMul { a, b, bias, act, y } => {
            let (a, bias, y) = (view(a)?, opt(bias)?, view(y)?);
            let bias = bias.as_ref();
            let s = matmul::strategy(rt.profile(), a.shape(), &b.shape)?;
            vec![match half(b)? {
                Some(b) => matmul::matmul_f16(rt, s, &a, &b, bias, *act, &y)?,
                None => matmul::matmul_with(rt, s, &a, &view(b)?, bias, *act, &y)?,
            }]
        }
        StepOp::Unary { x, act, y } => vec![kernels::unary::unary(rt, &view(x)?, *act, &view(y)?)?],
        StepOp::Math { x, op, y } => {
            vec![kernels::unary::unary_op(rt, &view(x)?, *op, &view(y)?)?]
        }
        StepOp::Binary { op, a, b, act, y } => {
            vec![kernels::binary::binary(
                rt,
                *op,
                &view(a)?,
                &view(b)?,
                *act,
                &view(y)?,
            )?]
        }
        StepOp::Squeeze { x, mode, y } => {
            vec![kernels::squeeze::squeeze(rt, &view(x)?, *mode, &view(y)?)?]
        }
        StepOp::Reduce { x, kind, axes, y } => {
            vec![kernels::reduce::reduce(
                rt,
                &view(x)?,
                *kind,
                axes,
                &view(y)?,
            )?]
        }
        StepOp::Pool { x, mode, params, y } => {
            let (x, y) = (view(x)?, view(y)?);
            vec![match mode {
                SqueezeMode::Max => kernels::pool::max_pool2d(rt, &x, params, &y)?,
                SqueezeMode::Avg => kernels::pool::avg_pool2d(rt, &x, params, &y)?,
            }]
        }
        StepOp::Softmax { x, axis, log, y } => {
            let (x, y) = (view(x)?, view(y)?);
            vec![match log {
                false => kernels::softmax::softmax(rt, &x, *axis, &y)?,
                true => kernels::softmax::log_softmax(rt, &x, *axis, &y)?,
            }]
        }
        StepOp::Concat { xs, axis, y } => {
            let xs = xs.iter().map(view).collect::<Result<Vec<_>>>()?;
            let refs: Vec<&Tensor> = xs.iter().collect();
            kernels::concat::concat(rt, &refs, *axis, &view(y)?)?
        }
        StepOp::LayerNorm(l) => {
            let (x, scale, b) = (view(&l.x)?, view(&l.scale)?, opt(&l.bias)?);
            let stats = [view(&l.mean)?, view(&l.inv_std)?];
            let norm = kernels::layer_norm::layer_norm;
            let y = view(&l.y)?;
            vec![norm(
                rt,
                &x,
                &scale,
                b.as_ref(),
                1,
                l.epsilon,
                &y,
                [&stats[0], &stats[1]],
            )?]
        }
        StepOp::Slice { x, axes, y } => {
            vec![kernels::slice::slice(rt, &view(x)?, axes, &view(y)?)?]
        }
        StepOp::Split { x, axis, ys } => {
            let ys = ys.iter().map(view).collect::<Result<Vec<_>>>()?;
            let refs: Vec<&Tensor> = ys.iter().collect();
            kernels::slice::split(rt, &view(x)?, *axis, &refs)?
        }
        StepOp::Transpose { x, perm, y } => vec![kernels::transpose::transpose(
            rt,
            &view(x)?,
            perm,
            &view(y)?,
        )?],
        StepOp::Pad { x, pads, kind, y } => {
            vec![kernels::pad::pad(rt, &view(x)?, pads, *kind, &view(y)?)?]
        }
        StepOp::SeBlock(se) => {
            let r = opt(&se.residual)?;
            kernels::excite::se_block(
                rt,
                &view(&se.x)?,
                &view(&se.w1)?,
                &view(&se.b1)?,
                &view(&se.w2)?,
                &view(&se.b2)?,
                r.as_ref(),
                se.pooling,
                se.hidden,
                se.gate,
                se.act,
                &view(&se.squeezed)?,
                &view(&se.excitation)?,
                &view(&se.y)?,
            )?
        }
    })
}
