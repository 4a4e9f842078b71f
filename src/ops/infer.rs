//! Shape inference, one rule per op beside its op (`ops::<family>::infer*`), over a
//! small view of a node's inputs. A rule checks the node, resolves attributes given
//! as constant inputs and returns the canonical op with its output shapes; whether
//! the node is evaluated at load time is its decision too, the evaluation itself is
//! the graph's constant folder's.

use super::Op;
use crate::error::ModelError;
use crate::tensor::{Const, DType};

/// One input of a node as inference sees it.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// The value's name, for messages.
    pub name: &'a str,
    pub shape: &'a [usize],
    pub dtype: DType,
    /// Its data when it is a constant.
    pub value: Option<&'a Const>,
}

/// A node's inputs (`None` for an omitted optional one) with its name and ONNX type
/// for messages.
#[derive(Clone, Debug)]
pub struct Inputs<'a> {
    pub node: &'a str,
    pub op_type: &'a str,
    pub slots: Vec<Option<Input<'a>>>,
}

/// Why a node cannot be inferred: valid but not supported (collected and reported
/// together), or invalid (reported at once).
#[derive(Debug)]
pub enum Issue {
    Unsupported(String),
    Invalid(ModelError),
}

impl From<ModelError> for Issue {
    fn from(e: ModelError) -> Self {
        Issue::Invalid(e)
    }
}

pub type InferResult<T> = std::result::Result<T, Issue>;

/// Returns `Issue::Unsupported` with a formatted reason.
macro_rules! unsupported {
    ($($t:tt)*) => { return Err($crate::ops::infer::Issue::Unsupported(format!($($t)*))) };
}
pub(crate) use unsupported;

/// One output's static type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub shape: Vec<usize>,
    pub dtype: DType,
}

/// What inference makes of a node.
#[derive(Clone, Debug, PartialEq)]
pub struct Inferred {
    pub op: Op,
    pub outputs: Vec<Output>,
    /// Evaluated at load time (every input it reads is constant, or, for `Shape`,
    /// only static shapes matter) rather than run.
    pub constant: bool,
}

impl Inferred {
    /// One f32 output computed at run time.
    pub fn tensor(op: Op, shape: Vec<usize>) -> InferResult<Self> {
        Ok(Self {
            op,
            outputs: vec![Output {
                shape,
                dtype: DType::F32,
            }],
            constant: false,
        })
    }

    /// One output evaluated at load time.
    pub fn constant(op: Op, shape: Vec<usize>, dtype: DType) -> InferResult<Self> {
        Ok(Self {
            op,
            outputs: vec![Output { shape, dtype }],
            constant: true,
        })
    }
}

impl<'a> Inputs<'a> {
    /// A `ModelError::BadNode` for this node.
    pub fn bad(&self, message: impl Into<String>) -> Issue {
        Issue::Invalid(ModelError::BadNode {
            node: self.node.into(),
            op: self.op_type.into(),
            message: message.into(),
        })
    }

    /// The `i`-th input if present.
    pub fn get(&self, i: usize) -> Option<&Input<'a>> {
        self.slots.get(i).and_then(Option::as_ref)
    }

    pub fn present(&self) -> impl Iterator<Item = &Input<'a>> {
        self.slots.iter().flatten()
    }

    pub fn input(&self, i: usize) -> InferResult<&Input<'a>> {
        self.get(i)
            .ok_or_else(|| self.bad(format!("required input {i} is missing")))
    }

    pub fn shape(&self, i: usize) -> InferResult<&'a [usize]> {
        Ok(self.input(i)?.shape)
    }

    /// The constant value of input `i`, if it is present and constant.
    pub fn konst(&self, i: usize) -> Option<&'a Const> {
        self.get(i).and_then(|x| x.value)
    }

    /// An optional input that must be a constant (an attribute passed as an input).
    pub fn const_input(&self, i: usize, what: &str) -> InferResult<Option<&'a Const>> {
        match self.get(i) {
            None => Ok(None),
            Some(Input { value: Some(c), .. }) => Ok(Some(c)),
            Some(_) => unsupported!("{what} (input {i}) is computed at run time"),
        }
    }

    pub fn all_const(&self) -> bool {
        self.present().all(|x| x.value.is_some())
    }

    /// Requires every present input to be f32 (integer tensors only exist as constants).
    pub fn floats_only(&self) -> InferResult<()> {
        self.present().try_for_each(run_time_f32)
    }

    /// Like `floats_only` for the data input 0 only (the others are attribute inputs).
    pub fn data_f32(&self) -> InferResult<()> {
        run_time_f32(self.input(0)?)
    }

    /// Normalises a possibly negative axis for a rank-`rank` tensor.
    pub fn axis(&self, axis: i64, rank: usize) -> InferResult<usize> {
        let r = rank as i64;
        if axis < -r || axis >= r {
            return Err(self.bad(format!("axis {axis} is out of range for rank {rank}")));
        }
        Ok(if axis < 0 { axis + r } else { axis } as usize)
    }

    /// Normalises every axis of `axes` for a rank-`rank` tensor.
    pub fn axes(&self, axes: &[i64], rank: usize) -> InferResult<Vec<usize>> {
        axes.iter().map(|&a| self.axis(a, rank)).collect()
    }
}

fn run_time_f32(x: &Input) -> InferResult<()> {
    if x.dtype != DType::F32 {
        unsupported!(
            "input '{}' is an integer tensor; only f32 tensors are computed at run time",
            x.name
        );
    }
    Ok(())
}
