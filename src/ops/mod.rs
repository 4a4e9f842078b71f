//! Backend-neutral operator definitions: the parameters, shape rules and validation
//! that the graph, the passes, the plan and every backend share. One module per op
//! family, named like its GPU kernel (`kernels::<family>`) and CPU twin
//! (`cpu::<family>`); nothing here knows a device.

pub mod activation;
pub mod binary;
pub mod concat;
pub mod conv;
pub mod excite;
pub mod matmul;
pub mod pad;
pub mod pool;
pub mod scale;
pub mod softmax;
pub mod squeeze;
pub mod transpose;

pub use activation::Activation;
pub use binary::BinaryOp;
pub use conv::Conv2dParams;
pub use pad::PadMode;
pub use pool::Pool2dParams;
pub use squeeze::SqueezeMode;
