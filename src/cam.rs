//! Class activation maps (Zhou et al., 2016) for models whose head is global average
//! pooling then one linear layer: `CAM_k(x, y) = sum over c of w[k, c] * f_c(x, y)` on
//! the last feature map `f`, exact and without gradients (the logit of class `k` is the
//! map's mean plus the bias).
//!
//! [`CamHead::find`] reads the head off the compiled graph; a model compiled with
//! [`CompileOptions::cam`](crate::CompileOptions::cam) reads `f` back with every result
//! as the output [`FEATURES`], and [`CamHead::maps`] turns it into maps.

use crate::error::{Error, Result};
use crate::graph::{Graph, ValueId};
use crate::ops::{Activation, Op, SqueezeMode};
use crate::tensor::HostTensor;

/// The name of the extra output holding the last feature map.
pub const FEATURES: &str = "se_runtime.cam_features";

/// What a class activation map needs from a model: the feature map's value and the
/// linear layer's weights.
#[derive(Clone, Debug, PartialEq)]
pub struct CamHead {
    /// The value global average pooling reads, `[N, C, h, w]`.
    pub(crate) features: ValueId,
    /// The linear layer's weights as `[C, K]` (the graph's `x @ w` form).
    pub weights: HostTensor,
}

impl CamHead {
    /// The head of `g`'s first output, walked back through a softmax, views and the
    /// linear layer to the global average pooling; any other head is an
    /// [`Error::NoCam`] naming what was found instead.
    pub(crate) fn find(g: &Graph) -> Result<CamHead> {
        let producers = g.producers();
        let no = |found: String| Error::NoCam { found };
        let (name, v) = g
            .outputs
            .first()
            .cloned()
            .ok_or_else(|| no("the model has no outputs".into()))?;
        let node = |v: ValueId| producers[v].map(|i| &g.nodes[i]);
        let describe = |v: ValueId| match node(v) {
            Some(n) => format!("a {} node '{}'", n.op_type, n.name),
            None => format!("the value '{}'", g.values[v].name),
        };
        // Walks back from `v` past the nodes `skip` accepts: the next node, if `want`
        // accepts it.
        let walk = |mut v: ValueId, skip: fn(&Op) -> bool, want: fn(&Op) -> bool, wanted: &str| {
            while let Some(n) = node(v).filter(|n| skip(&n.op)) {
                v = n.inputs[0].expect("softmax and views have an input");
            }
            node(v)
                .filter(|n| want(&n.op))
                .ok_or_else(|| format!("{}, not {wanted}", describe(v)))
        };
        // Probabilities are a monotone function of the logits: the maps are the logits'.
        let linear = walk(
            v,
            |op| matches!(op, Op::Softmax { .. } | Op::View),
            |op| {
                matches!(
                    op,
                    Op::MatMul {
                        act: Activation::Identity
                    }
                )
            },
            "from a linear layer",
        )
        .map_err(|e| no(format!("output '{name}' comes from {e}")))?;
        let weights = linear
            .input(1)
            .and_then(|w| g.const_f32(w))
            .filter(|w| w.shape.len() == 2)
            .ok_or_else(|| {
                no(format!(
                    "the linear layer '{}' has no constant [C, K] weights",
                    linear.name
                ))
            })?;
        let pool = walk(
            linear.inputs[0].expect("matmul has an input"),
            |op| matches!(op, Op::View),
            |op| {
                matches!(
                    op,
                    Op::Reduce {
                        mode: SqueezeMode::Avg,
                        axis: 2
                    }
                )
            },
            "global average pooling",
        )
        .map_err(|e| no(format!("the linear layer '{}' reads {e}", linear.name)))?;
        let features = pool.inputs[0].expect("pooling has an input");
        let c = g.shape(features).get(1).copied();
        if g.shape(features).len() != 4 || c != Some(weights.shape[0]) {
            return Err(no(format!(
                "the pooled feature map has shape {:?} but the linear layer's weights {:?}",
                g.shape(features),
                weights.shape
            )));
        }
        Ok(CamHead {
            features,
            weights: weights.clone(),
        })
    }

    /// Adds the feature map to `g`'s outputs, so that every run reads it back.
    pub(crate) fn expose(&self, g: &mut Graph) {
        if !g.outputs.iter().any(|(n, _)| n == FEATURES) {
            g.outputs.push((FEATURES.into(), self.features));
        }
    }

    /// The number of classes.
    pub fn classes(&self) -> usize {
        self.weights.shape[1]
    }

    /// Takes the feature map out of a result's `outputs` and returns, for each row `n`,
    /// the map of class `classes[n]`: `[N, h, w]` at the feature map's resolution.
    pub fn maps(
        &self,
        outputs: &mut Vec<(String, HostTensor)>,
        classes: &[usize],
    ) -> Result<HostTensor> {
        let at = outputs
            .iter()
            .position(|(n, _)| n == FEATURES)
            .ok_or_else(|| {
                Error::invalid(
                    "class activation maps",
                    "the model was compiled without CompileOptions::cam",
                )
            })?;
        let f = outputs.remove(at).1;
        cam_maps(&f, &self.weights, classes)
    }
}

/// `out[n, y, x] = sum over c of w[c, classes[n]] * f[n, c, y, x]`: the reference the
/// tests check against numpy's.
pub fn cam_maps(f: &HostTensor, w: &HostTensor, classes: &[usize]) -> Result<HostTensor> {
    let &[n, c, h, wd] = &f.shape[..] else {
        return Err(Error::shape(
            "class activation maps",
            "[N, C, h, w]",
            &f.shape,
        ));
    };
    let k = w.shape[1];
    if classes.len() != n {
        return Err(Error::invalid(
            "class activation maps",
            format!("{} classes given for a batch of {n}", classes.len()),
        ));
    }
    if let Some(&bad) = classes.iter().find(|&&class| class >= k) {
        return Err(Error::invalid(
            "class activation maps",
            format!("class {bad} is past the model's {k} classes"),
        ));
    }
    let plane = h * wd;
    let mut out = vec![0.0f32; n * plane];
    for (row, &class) in classes.iter().enumerate() {
        let map = &mut out[row * plane..(row + 1) * plane];
        for ch in 0..c {
            let weight = w.data[ch * k + class];
            let fc = &f.data[(row * c + ch) * plane..][..plane];
            for (m, &v) in map.iter_mut().zip(fc) {
                *m += weight * v;
            }
        }
    }
    HostTensor::new(&[n, h, wd], out)
}
