//! One error type for the whole runtime: every failure a user can cause or meet
//! names the problem and, where there is one, what to do about it.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    /// No adapter matched; `hint` says what to install or which variable to change.
    #[error("no GPU adapter found ({tried}); {hint}")]
    NoAdapter { tried: String, hint: String },

    #[error("could not open the GPU device on {adapter}: {reason}")]
    RequestDevice { adapter: String, reason: String },

    #[error("the GPU device was lost ({reason}); create a new Runtime to continue")]
    DeviceLost { reason: String },

    #[error("the GPU ran out of memory while {during}; use a smaller batch or input")]
    OutOfMemory { during: String },

    /// A wgpu validation error: always a bug in se-runtime, never the user's input.
    #[error("internal GPU validation error in {during}: {message}")]
    Validation { during: String, message: String },

    #[error("{what}: shape mismatch: expected {expected}, got {got}")]
    Shape {
        what: String,
        expected: String,
        got: String,
    },

    #[error("invalid argument for {op}: {message}")]
    InvalidArgument { op: String, message: String },

    #[error(
        "{what} needs {needed} bytes in one GPU buffer, over this adapter's limit of {limit} bytes ({limit_name})"
    )]
    LimitExceeded {
        what: String,
        needed: u64,
        limit: u64,
        limit_name: &'static str,
    },

    #[error("reading results back from the GPU failed: {0}")]
    Readback(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn invalid(op: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidArgument {
            op: op.into(),
            message: message.into(),
        }
    }

    pub(crate) fn shape(
        what: impl Into<String>,
        expected: impl std::fmt::Debug,
        got: impl std::fmt::Debug,
    ) -> Self {
        Error::Shape {
            what: what.into(),
            expected: format!("{expected:?}"),
            got: format!("{got:?}"),
        }
    }
}
