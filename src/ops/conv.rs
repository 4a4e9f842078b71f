//! 2-D convolution parameters and their shape rule (GPU: `kernels::conv2d`; CPU twin
//! `cpu::conv2d`).

use crate::error::{Error, Result};

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
