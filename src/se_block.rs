//! A whole Squeeze-and-Excitation block as one call: squeeze (global pooling),
//! excite (FC C -> R, hidden activation, FC R -> C, gate) and scale (`x * gate`),
//! recorded into a single GPU submission. CPU twin: `crate::cpu::se_block`.
//!
//! Weights use the ONNX 1x1-convolution layout: `w1 [R, C]`, `b1 [R]`, `w2 [C, R]`,
//! `b2 [C]` (a `[R, C, 1, 1]` kernel is accepted and flattened).

use crate::device::Runtime;
use crate::device::Tensor;
use crate::error::{Error, Result};
use crate::kernels::excite::excite;
use crate::kernels::scale::scale;
use crate::kernels::squeeze::squeeze;
use crate::ops::Activation;
use crate::ops::excite::excite_dims;
use crate::ops::squeeze::{SqueezeMode, nchw};
use crate::tensor::{HostTensor, check_host};

/// One SE block's configuration and weights.
#[derive(Clone, Debug, PartialEq)]
pub struct SeBlock {
    /// Input and output channels C.
    pub channels: usize,
    /// Hidden width R of the excitation MLP (C / reduction ratio).
    pub reduced: usize,
    pub pooling: SqueezeMode,
    /// Activation between the two fully connected layers (ReLU in the SE paper).
    pub hidden: Activation,
    /// Activation producing the channel weights (sigmoid in the SE paper).
    pub gate: Activation,
    pub w1: HostTensor,
    pub b1: HostTensor,
    pub w2: HostTensor,
    pub b2: HostTensor,
}

/// What a forward pass returns: the scaled feature map and the excitation weights.
pub struct SeOutput {
    /// `x * excitation[n, c]`, shape `[N, C, H, W]`.
    pub output: Tensor,
    /// The per-channel weights the gate produced, shape `[N, C]`.
    pub excitation: Tensor,
}

/// Deterministic uniform values in [-limit, limit) (SplitMix64 stream from `seed`).
fn uniform(seed: u64, n: usize, limit: f32) -> Vec<f32> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            // The top 24 bits give a uniform f32 in [0, 1) exactly.
            ((z >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * limit
        })
        .collect()
}

impl SeBlock {
    /// A block with random weights, reproducible from `seed`: R = max(1, C / reduction),
    /// ReLU hidden activation, He-style initialisation (uniform in
    /// ±sqrt(6 / fan_in), i.e. variance 2 / fan_in: w1 with fan_in C, w2 with fan_in R)
    /// and zero biases. The same arguments give bit-identical weights on every platform.
    pub fn new(
        channels: usize,
        reduction: usize,
        pooling: SqueezeMode,
        gate: Activation,
        seed: u64,
    ) -> Result<Self> {
        if channels == 0 || reduction == 0 {
            return Err(Error::invalid(
                "SeBlock::new",
                format!("channels ({channels}) and reduction ({reduction}) must be at least 1"),
            ));
        }
        let (c, r) = (channels, (channels / reduction).max(1));
        let limit = |fan_in: usize| (6.0 / fan_in as f32).sqrt();
        Self::from_weights(
            pooling,
            Activation::Relu,
            gate,
            HostTensor::new(&[r, c], uniform(seed, r * c, limit(c)))?,
            HostTensor::zeros(&[r])?,
            // A different stream for w2, so it is not a copy of w1's first values.
            HostTensor::new(&[c, r], uniform(!seed, c * r, limit(r)))?,
            HostTensor::zeros(&[c])?,
        )
    }

    /// A block from given weights: `w1 [R, C]` (or `[R, C, 1, 1]`), `b1 [R]`,
    /// `w2 [C, R]` (or `[C, R, 1, 1]`), `b2 [C]`; shapes are checked against each other.
    pub fn from_weights(
        pooling: SqueezeMode,
        hidden: Activation,
        gate: Activation,
        w1: HostTensor,
        b1: HostTensor,
        w2: HostTensor,
        b2: HostTensor,
    ) -> Result<Self> {
        for (name, t) in [("w1", &w1), ("b1", &b1), ("w2", &w2), ("b2", &b2)] {
            check_host(&format!("SeBlock {name}"), t)?;
        }
        let channels = *w1
            .shape
            .get(1)
            .ok_or_else(|| Error::shape("SeBlock w1", "[R, C] or [R, C, 1, 1]", &w1.shape))?;
        let (_, c, r) = excite_dims(&[1, channels], &w1.shape, &b1.shape, &w2.shape, &b2.shape)?;
        let flat = |t: HostTensor, rows, cols| HostTensor::new(&[rows, cols], t.data);
        Ok(Self {
            channels: c,
            reduced: r,
            pooling,
            hidden,
            gate,
            w1: flat(w1, r, c)?,
            b1,
            w2: flat(w2, c, r)?,
            b2,
        })
    }

    /// Checks that `x` is `[N, C, H, W]` with this block's C; returns its shape.
    pub fn check_input(&self, x: &[usize]) -> Result<[usize; 4]> {
        let [n, c, h, w] = nchw("SeBlock input", x)?;
        if c != self.channels {
            return Err(Error::shape(
                format!("SeBlock input channels (block has {})", self.channels),
                format!("[N, {}, H, W]", self.channels),
                x,
            ));
        }
        Ok([n, c, h, w])
    }

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
