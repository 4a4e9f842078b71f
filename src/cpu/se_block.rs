//! CPU twin of [`SeBlock::forward`](crate::se_block::SeBlock::forward), composed from
//! the kernel twins exactly as the GPU forward composes the kernels.

use super::{excite::excite, scale::scale, squeeze::squeeze};
use crate::error::Result;
use crate::ops::Activation;
use crate::ops::se_block::SeBlock;
use crate::tensor::HostTensor;

/// `(output [N, C, H, W], excitation [N, C])` of `block` on `x`.
pub fn se_block(block: &SeBlock, x: &HostTensor) -> Result<(HostTensor, HostTensor)> {
    block.check_input(&x.shape)?;
    let s = squeeze(x, block.pooling)?;
    let e = excite(
        &s,
        &block.w1,
        &block.b1,
        block.hidden,
        &block.w2,
        &block.b2,
        block.gate,
    )?;
    let out = scale(x, &e, None, Activation::Identity)?;
    Ok((out, e))
}
