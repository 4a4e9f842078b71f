//! One error type for the whole runtime, [`Error`], with typed causes for what callers
//! match on (a malformed model, image, preprocessing or classifier set-up): every
//! failure a user can cause or meet names the problem and, where there is one, what
//! to do about it.

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
        "{what} needs {needed} bytes in one GPU buffer, over the device's limit of {limit} bytes ({limit_name})"
    )]
    LimitExceeded {
        what: String,
        needed: u64,
        limit: u64,
        limit_name: &'static str,
    },

    #[error("reading results back from the GPU failed: {0}")]
    Readback(String),

    /// The model uses operators, attributes, types or shapes the runtime cannot run.
    /// Lists every such node at once, so one load tells the whole story.
    #[error("{}", unsupported_list(nodes))]
    UnsupportedModel { nodes: Vec<Unsupported> },

    /// The model file is not a valid ONNX model.
    #[error("invalid model: {0}")]
    InvalidModel(#[from] ModelError),

    /// An image file that cannot be decoded, or is over the decoding limits.
    #[error("{0}")]
    Image(#[from] ImageError),

    /// Preprocessing settings that are malformed or do not fit the model's input.
    #[error("{0}")]
    Preprocess(#[from] PreprocessError),

    /// Class activation maps were asked of a model whose head is not global average
    /// pooling then one linear layer.
    #[error(
        "no class activation maps for this model: {found}; they need a head of global \
         average pooling then one linear layer"
    )]
    NoCam { found: String },

    /// A model that cannot be set up as an image classifier.
    #[error("{0}")]
    Classifier(#[from] ClassifierError),
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

/// One node (or graph input) the runtime cannot run, and exactly why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    /// The node's name, or the input's name; `#index` when the node has no name.
    pub node: String,
    /// The ONNX operator type (`"input"` for a graph input).
    pub op: String,
    /// What is unsupported: the operator, an attribute value, a dtype, a dynamic shape.
    pub reason: String,
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} '{}': {}", self.op, self.node, self.reason)
    }
}

fn unsupported_list(nodes: &[Unsupported]) -> String {
    let mut s = format!(
        "the model has {} unsupported node{}:",
        nodes.len(),
        if nodes.len() == 1 { "" } else { "s" }
    );
    for n in nodes {
        s += &format!("\n  - {n}");
    }
    s
}

/// Why a model file is malformed (as opposed to valid but unsupported).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ModelError {
    #[error("not an ONNX model: protobuf decoding failed: {0}")]
    Protobuf(String),
    #[error("the model has no graph")]
    NoGraph,
    #[error(
        "tensor '{tensor}' keeps its data in an external file; save the model with \
         its weights inside (onnx.save_model(..., save_as_external_data=False))"
    )]
    ExternalData { tensor: String },
    #[error("the model imports ONNX opset {version}; this runtime supports opsets {min}..={max}")]
    Opset { version: i64, min: i64, max: i64 },
    #[error("tensor '{tensor}': {message}")]
    BadTensor { tensor: String, message: String },
    #[error("node '{node}' ({op}): attribute '{attribute}': {message}")]
    BadAttribute {
        node: String,
        op: String,
        attribute: String,
        message: String,
    },
    #[error(
        "node '{node}' ({op}): input '{input}' is neither a graph input, an initializer nor a node output"
    )]
    DanglingInput {
        node: String,
        op: String,
        input: String,
    },
    #[error("graph output '{0}' is never produced")]
    DanglingOutput(String),
    #[error("value '{0}' is defined more than once")]
    DuplicateValue(String),
    #[error("the graph has a cycle through nodes {}", .0.join(", "))]
    Cycle(Vec<String>),
    #[error("node '{node}' ({op}): {message}")]
    BadNode {
        node: String,
        op: String,
        message: String,
    },
    #[error("{what} has {elements} elements, over the limit of {limit}")]
    TooLarge {
        what: String,
        elements: String,
        limit: usize,
    },
}

/// The image formats [`ImageError::NotAnImage`] names: what the native decoder reads,
/// recognised by content (GIF gives its first frame); help and README name them too.
pub const IMAGE_FORMATS: &str = "PNG, JPEG, WebP, BMP, GIF, TIFF";

/// Why image bytes could not become pixels ([`crate::preprocess::decode_image`]).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ImageError {
    #[error("not an image (supported: {IMAGE_FORMATS})")]
    NotAnImage,
    /// Checked on the header, before the pixels are allocated.
    #[error(
        "the image declares {width}x{height} pixels, over the limit of {max_side} per side \
         and {max_pixels} in all; scale it down first"
    )]
    TooLarge {
        width: u32,
        height: u32,
        max_side: u32,
        max_pixels: u64,
    },
    #[error("corrupt or unsupported image: {0}")]
    Corrupt(String),
}

/// Why preprocessing settings are malformed or do not fit the model's input
/// ([`crate::preprocess`]). Each variant names the setting or the input it is about;
/// [`subject`](Self::subject) and [`problem`](Self::problem) are the two halves of its
/// message, for callers that name the setting their own way (a command-line flag).
#[derive(Clone, Debug, PartialEq)]
pub enum PreprocessError {
    /// `se_runtime.<key>` does not parse or is out of range; `problem` says how.
    Setting { key: &'static str, problem: String },
    /// A channel order other than gray, rgb and bgr.
    UnknownChannels(String),
    /// A setting name that `Preprocess::set` does not know, and those it knows.
    UnknownSetting {
        key: String,
        known: &'static [&'static str],
    },
    /// `mean` or `std` has neither one value nor one per channel.
    ValuesPerChannel {
        key: &'static str,
        values: usize,
        channels: usize,
    },
    /// The model input's channel count is not one an image has (1 or 3).
    InputChannels(usize),
    /// The model input's channel count and the channel order (`order`, making
    /// `channels`) disagree.
    ChannelMismatch {
        input: usize,
        order: String,
        channels: usize,
    },
    /// The model input's height and width are open and no input size was given.
    SizeUnknown,
    /// The model input's height and width (`input`) and the input size disagree.
    SizeMismatch { input: [usize; 2], size: [u32; 2] },
    /// `Preprocess::to_tensor` before the size and channels are known.
    NotFitted,
}

impl PreprocessError {
    /// What the error is about: `se_runtime.<key>`, `model input`, `preprocess ...`.
    pub fn subject(&self) -> String {
        match self {
            Self::Setting { key, .. } | Self::ValuesPerChannel { key, .. } => {
                format!("se_runtime.{key}")
            }
            Self::UnknownChannels(_) => "preprocess channels".into(),
            Self::UnknownSetting { .. } | Self::NotFitted => "preprocess".into(),
            Self::InputChannels(_)
            | Self::ChannelMismatch { .. }
            | Self::SizeUnknown
            | Self::SizeMismatch { .. } => "model input".into(),
        }
    }

    /// What is wrong with it.
    pub fn problem(&self) -> String {
        match self {
            Self::Setting { problem, .. } => problem.clone(),
            Self::UnknownChannels(order) => format!("'{order}' is not gray, rgb or bgr"),
            Self::UnknownSetting { key, known } => {
                format!("unknown setting '{key}'; known: {}", known.join(", "))
            }
            Self::ValuesPerChannel {
                values,
                channels: 1,
                ..
            } => format!("{values} values for 1 channel"),
            Self::ValuesPerChannel {
                values, channels, ..
            } => format!("{values} values for {channels} channels: give 1 or {channels}"),
            Self::InputChannels(c) => {
                format!("{c} channels: only 1 (gray) or 3 (rgb/bgr) can come from an image")
            }
            Self::ChannelMismatch {
                input,
                order,
                channels,
            } => format!("expects {input} channels but preprocessing makes {channels} ({order})"),
            Self::SizeUnknown => "its height and width are not fixed: give the input size \
                                  (se_runtime.input_size or --size)"
                .into(),
            Self::SizeMismatch {
                input: [mh, mw],
                size: [h, w],
            } => format!("expects {mh}x{mw} pixels but preprocessing makes {h}x{w}"),
            Self::NotFitted => {
                "input size and channels unknown: call fit_input with the model's input first"
                    .into()
            }
        }
    }
}

impl std::fmt::Display for PreprocessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid argument for {}: {}",
            self.subject(),
            self.problem()
        )
    }
}

impl std::error::Error for PreprocessError {}

/// Why a model cannot be set up as an image classifier ([`crate::classifier`]): the
/// step that failed, and its cause.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum ClassifierError {
    /// The model has not one `[N, C, H, W]` input and at least one output.
    #[error(
        "invalid argument for model: classify needs one [N, C, H, W] image input and an \
         output; this model has inputs {inputs:?}"
    )]
    NotAnImageModel {
        /// Every input's name and shape.
        inputs: Vec<(String, Vec<usize>)>,
        outputs: usize,
    },
    /// The `se_runtime.*` metadata is malformed.
    #[error("{0}")]
    Metadata(PreprocessError),
    /// A caller's override of the metadata (`key`, in its metadata spelling) is malformed.
    #[error("{error}")]
    Override {
        key: String,
        value: String,
        error: PreprocessError,
    },
    /// The preprocessing does not fit the model's input.
    #[error("{0}")]
    Input(PreprocessError),
}
