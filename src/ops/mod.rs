//! Backend-neutral operator definitions: the graph's [`Op`], the parameters, shape
//! rules and validation that the graph, the passes, the plan and every backend
//! share. One module per op family, named like its GPU kernel (`kernels::<family>`)
//! and CPU twin (`cpu::<family>`), each with its op's shape inference
//! ([`infer`]); nothing here knows a device.

pub mod activation;
pub mod batch_norm;
pub mod binary;
pub mod concat;
pub mod constant;
pub mod conv;
pub mod excite;
pub mod infer;
pub mod layer_norm;
pub mod matmul;
pub mod op;
pub mod pad;
pub mod pool;
pub mod reduce;
pub mod scale;
pub mod se_block;
pub mod slice;
pub mod softmax;
pub mod squeeze;
pub mod transpose;
pub mod unary;
pub mod view;

pub use activation::Activation;
pub use binary::BinaryOp;
pub use conv::{AutoPad, Conv, Conv2dParams};
pub use op::Op;
pub use pad::PadMode;
pub use pool::{Pool, Pool2dParams};
pub use squeeze::SqueezeMode;
pub use unary::UnaryOp;

/// Checks that `axis` indexes a rank-`rank` shape (`what`: the op, for the error).
fn check_axis(what: &str, axis: usize, rank: usize) -> crate::error::Result<()> {
    if axis >= rank {
        return Err(crate::error::Error::invalid(
            what,
            format!("axis {axis} is out of range for rank {rank}"),
        ));
    }
    Ok(())
}
