//! 2-D convolution: the graph op, its parameters and shape rule (GPU:
//! `kernels::conv2d`; CPU twin `cpu::conv2d`), and `auto_pad`, shared with pooling.

use super::infer::{InferResult, Inferred, Inputs, unsupported};
use super::{Activation, Op};
use crate::error::{Error, Result};

/// A 2-D convolution, possibly with fused bias, residual and activation.
/// Inputs: `[x, w, bias?, residual?]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv {
    /// `kernel_shape` as the attribute declares it (checked against the weights).
    pub kernel: Option<[usize; 2]>,
    /// `params.padding` is resolved from `auto_pad` by inference.
    pub params: Conv2dParams,
    pub auto_pad: AutoPad,
    pub act: Activation,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoPad {
    NotSet,
    SameUpper,
    SameLower,
    Valid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dParams {
    pub stride: [usize; 2],
    /// Top, left, bottom, right.
    pub padding: [usize; 4],
    pub dilation: [usize; 2],
    pub groups: usize,
}

impl Default for Conv2dParams {
    fn default() -> Self {
        Self {
            stride: [1, 1],
            padding: [0; 4],
            dilation: [1, 1],
            groups: 1,
        }
    }
}

impl Conv2dParams {
    /// `[N, Co, OH, OW]` for input `x` `[N, Ci, H, W]` and weights `w`
    /// `[Co, Ci / groups, KH, KW]`, or why they do not fit together.
    pub fn output_shape(&self, x: &[usize], w: &[usize]) -> Result<Vec<usize>> {
        let (&[n, ci, h, wd], &[co, cg, kh, kw]) = (x, w) else {
            return Err(Error::shape(
                "conv2d input and weights (rank 4 each)",
                "[N, Ci, H, W] and [Co, Ci/groups, KH, KW]",
                format!("{x:?} and {w:?}"),
            ));
        };
        let g = self.groups;
        if self.stride.contains(&0) || self.dilation.contains(&0) || g == 0 {
            return Err(Error::invalid(
                "conv2d",
                format!(
                    "stride {:?}, dilation {:?} and groups {g} must all be >= 1",
                    self.stride, self.dilation
                ),
            ));
        }
        if ci == 0 || co == 0 || kh == 0 || kw == 0 {
            return Err(Error::invalid(
                "conv2d",
                format!("channels and kernel size must be >= 1, got input {x:?}, weights {w:?}"),
            ));
        }
        if ci % g != 0 || co % g != 0 {
            return Err(Error::invalid(
                "conv2d",
                format!("groups {g} must divide input channels {ci} and output channels {co}"),
            ));
        }
        if cg * g != ci {
            return Err(Error::shape(
                "conv2d weights' input channels (Ci / groups)",
                ci / g,
                cg,
            ));
        }
        let [top, left, bottom, right] = self.padding;
        // Checked: direct callers may pass attribute values the importer never would.
        let out = |size: usize, pad: [usize; 2], k: usize, s: usize, d: usize| {
            let span = d.checked_mul(k - 1)?.checked_add(1)?;
            let padded = size.checked_add(pad[0])?.checked_add(pad[1])?;
            Some((padded >= span).then(|| (padded - span) / s + 1))
        };
        match (
            out(h, [top, bottom], kh, self.stride[0], self.dilation[0]),
            out(wd, [left, right], kw, self.stride[1], self.dilation[1]),
        ) {
            (Some(Some(oh)), Some(Some(ow))) => Ok(vec![n, co, oh, ow]),
            (None, _) | (_, None) => Err(Error::invalid(
                "conv2d",
                format!(
                    "padding {:?} and dilation {:?} overflow the output size",
                    self.padding, self.dilation
                ),
            )),
            _ => Err(Error::invalid(
                "conv2d",
                format!("the dilated {kh}x{kw} kernel is larger than the padded {h}x{wd} input"),
            )),
        }
    }
}

/// Explicit pads for `auto_pad` SAME_UPPER / SAME_LOWER.
fn same_pads(input: usize, k: usize, s: usize, d: usize, upper: bool) -> (usize, usize) {
    let out = input.div_ceil(s);
    let eff = k.saturating_sub(1) * d + 1;
    let total = (out.saturating_sub(1) * s + eff).saturating_sub(input);
    let small = total / 2;
    if upper {
        (small, total - small)
    } else {
        (total - small, small)
    }
}

impl AutoPad {
    /// Explicit `[top, left, bottom, right]` pads for an `hw` input, kernel `k`,
    /// strides `s` and dilations `d` (`pads` as declared, used with `NotSet`).
    pub fn resolve(
        self,
        pads: [usize; 4],
        hw: [usize; 2],
        k: [usize; 2],
        s: [usize; 2],
        d: [usize; 2],
    ) -> [usize; 4] {
        match self {
            AutoPad::NotSet => pads,
            AutoPad::Valid => [0; 4],
            AutoPad::SameUpper | AutoPad::SameLower => {
                let up = self == AutoPad::SameUpper;
                let (t, b) = same_pads(hw[0], k[0], s[0], d[0], up);
                let (l, r) = same_pads(hw[1], k[1], s[1], d[1], up);
                [t, l, b, r]
            }
        }
    }
}

/// Conv: `[x, w, bias?]` in NCHW; resolves `auto_pad`.
pub fn infer(conv: &Conv, x: &Inputs) -> InferResult<Inferred> {
    x.floats_only()?;
    let (xs, w) = (x.shape(0)?, x.shape(1)?);
    if xs.len() != 4 {
        unsupported!(
            "input of rank {}: only 2-D convolution (NCHW) is supported",
            xs.len()
        );
    }
    if w.len() != 4 {
        return Err(x.bad(format!("weights of rank {}, expected 4", w.len())));
    }
    if let Some(k) = conv.kernel
        && k != [w[2], w[3]]
    {
        return Err(x.bad(format!("kernel_shape {k:?} differs from weights {w:?}")));
    }
    if let Some(b) = x.get(2)
        && b.shape != [w[0]]
    {
        return Err(x.bad(format!("bias of shape {:?}, expected [{}]", b.shape, w[0])));
    }
    let p = &conv.params;
    let params = Conv2dParams {
        padding: conv.auto_pad.resolve(
            p.padding,
            [xs[2], xs[3]],
            [w[2], w[3]],
            p.stride,
            p.dilation,
        ),
        ..*p
    };
    // Checked here: the kernel's arithmetic assumes sizes that cannot overflow.
    let [top, left, bottom, right] = params.padding;
    for (axis, size, (before, after), k, d) in [
        ("H", xs[2], (top, bottom), w[2], params.dilation[0]),
        ("W", xs[3], (left, right), w[3], params.dilation[1]),
    ] {
        let pads = before + after;
        let span = k
            .saturating_sub(1)
            .checked_mul(d)
            .and_then(|v| v.checked_add(1));
        let padded = size.checked_add(pads);
        if span.is_some_and(|s| before.max(after) >= s) {
            // Valid ONNX (those outputs are the bias), but never a real model.
            unsupported!(
                "pads {:?} along {axis} reach past the kernel's extent of {}: \
                 some outputs would see padding only",
                params.padding,
                span.unwrap_or_default()
            );
        }
        if span.is_none() || padded.is_none() || span > padded {
            return Err(x.bad(format!(
                "along {axis} the kernel of {k} with dilation {d} spans more than \
                 the input's {size} plus {pads} of padding"
            )));
        }
    }
    let out = params
        .output_shape(xs, w)
        .map_err(|e| x.bad(e.to_string()))?;
    let op = Op::Conv(Conv {
        params,
        auto_pad: AutoPad::NotSet,
        kernel: Some([w[2], w[3]]),
        act: conv.act,
    });
    Inferred::tensor(op, out)
}
