//! CPU twin of `shaders/reduce.wgsl`: the same walk and the same order of
//! accumulation, one output element at a time.

use crate::error::{Error, Result};
use crate::ops::reduce::{ReduceKind, ReduceLayout, reduced_shape};
use crate::tensor::HostTensor;

/// `x` reduced over the sorted `axes` by `kind`, with the reduced dimensions kept.
pub fn reduce(x: &HostTensor, kind: ReduceKind, axes: &[usize]) -> Result<HostTensor> {
    if let Some(&a) = axes.iter().find(|&&a| a >= x.shape.len()) {
        return Err(Error::invalid(
            "reduce",
            format!("axis {a} is out of range for {:?}", x.shape),
        ));
    }
    let layout = ReduceLayout::new(&x.shape, axes);
    let shape = reduced_shape(&x.shape, axes, true);
    let count = layout.count();
    let data = (0..shape.iter().product())
        .map(|i| {
            let base = ReduceLayout::offset(&layout.kept, i);
            let values =
                (0..count).map(|j| x.data[base + ReduceLayout::offset(&layout.reduced, j)]);
            accumulate(kind, values, count)
        })
        .collect();
    HostTensor::new(&shape, data)
}

fn accumulate(kind: ReduceKind, values: impl Iterator<Item = f32> + Clone, count: usize) -> f32 {
    let sum = |f: fn(f32) -> f32| values.clone().fold(0.0f32, |a, v| a + f(v));
    match kind {
        ReduceKind::Sum => sum(|v| v),
        ReduceKind::Mean => sum(|v| v) / count as f32,
        ReduceKind::Max => values.fold(f32::NEG_INFINITY, f32::max),
        ReduceKind::Min => values.fold(f32::INFINITY, f32::min),
        ReduceKind::L2 => sum(|v| v * v).sqrt(),
        ReduceKind::SumSquare => sum(|v| v * v),
        ReduceKind::L1 => sum(f32::abs),
        ReduceKind::Prod => values.fold(1.0, |a, v| a * v),
        ReduceKind::LogSum => sum(|v| v).ln(),
        ReduceKind::LogSumExp => {
            let m = values.clone().fold(f32::NEG_INFINITY, f32::max);
            // All -inf (or nothing): the sum is 0 and its log -inf.
            if m == f32::NEG_INFINITY {
                return m;
            }
            m + values.fold(0.0f32, |a, v| a + (v - m).exp()).ln()
        }
    }
}
