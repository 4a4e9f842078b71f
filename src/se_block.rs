//! A whole Squeeze-and-Excitation block as one call: squeeze (global pooling),
//! excite (FC C -> R, hidden activation, FC R -> C, gate) and scale (`x * gate`),
//! recorded into a single GPU submission. The block's configuration and weights
//! are backend-neutral ([`crate::ops::se_block`]); CPU twin: `crate::cpu::se_block`.

use crate::device::Runtime;
use crate::device::Tensor;
use crate::error::Result;
use crate::kernels::excite::excite;
use crate::kernels::scale::scale;
use crate::kernels::squeeze::squeeze;
use crate::ops::Activation;

pub use crate::ops::se_block::SeBlock;

/// What a forward pass returns: the scaled feature map and the excitation weights.
pub struct SeOutput {
    /// `x * excitation[n, c]`, shape `[N, C, H, W]`.
    pub output: Tensor,
    /// The per-channel weights the gate produced, shape `[N, C]`.
    pub excitation: Tensor,
}

impl SeBlock {
    /// Runs the block on `x [N, C, H, W]`: squeeze, excite and scale recorded in one
    /// submission. The weights are uploaded on each call (they are small: 2 C R floats).
    pub async fn forward(&self, rt: &Runtime, x: &Tensor) -> Result<SeOutput> {
        let [n, c, _, _] = self.check_input(x.shape())?;
        let w1 = rt.upload_host(&self.w1)?;
        let b1 = rt.upload_host(&self.b1)?;
        let w2 = rt.upload_host(&self.w2)?;
        let b2 = rt.upload_host(&self.b2)?;
        let squeezed = rt.tensor(&[n, c])?;
        let excitation = rt.tensor(&[n, c])?;
        let output = rt.tensor(x.shape())?;
        let dispatches = [
            squeeze(rt, x, self.pooling, &squeezed)?,
            excite(
                rt,
                &squeezed,
                &w1,
                &b1,
                self.hidden,
                &w2,
                &b2,
                self.gate,
                &excitation,
            )?,
            scale(rt, x, &excitation, None, Activation::Identity, &output)?,
        ];
        rt.run(&dispatches)?;
        Ok(SeOutput { output, excitation })
    }
}
