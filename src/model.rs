//! The public model API: load an ONNX model, inspect it, and plan it for a batch size.
//!
//! Loading parses, validates and compiles the model for its default batch (1, or the
//! batch the model fixes), so every error surfaces at load time; a session for
//! another batch size recompiles from the imported graph, whose weights are shared,
//! not copied (the fusion passes fold them again).

use std::collections::BTreeMap;

use crate::cam::CamHead;
use crate::error::{Error, ModelError, Result};
use crate::graph::{Dim, infer};
use crate::onnx::{self, Imported};
use crate::ops::Activation;
use crate::ops::SqueezeMode;
use crate::passes::{self, Fusions};
use crate::plan::{self, Plan, SeStep, StepOp};

/// The most activation memory a plan may need at once, in f32 elements (8 GiB): each
/// tensor is already at most `onnx::MAX_ELEMENTS`, and this bounds their sum, so a
/// model declaring huge inputs fails at load time instead of when memory runs out.
pub const MAX_ACTIVATION_ELEMENTS: u64 = 1 << 31;

/// A loaded, validated and compiled ONNX model. Device-independent.
#[derive(Clone, Debug)]
pub struct Model {
    imported: Imported,
    options: CompileOptions,
    plan: Plan,
    info: ModelInfo,
    cam: Option<CamHead>,
}

/// How to compile a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileOptions {
    /// Run the fusion passes (BatchNorm folding, activation and residual fusion, SE
    /// block detection). Off, the graph runs op by op: a reference for debugging and
    /// tests (no SE blocks are found, so no excitations are returned).
    pub fuse: bool,
    /// `(input name, shape)` for inputs whose declared shape leaves dimensions other
    /// than the batch symbolic (exporters often leave the image size dynamic). A
    /// symbolic dimension 0 stays the session's batch size; fixed dimensions must match.
    pub input_shapes: Vec<(String, Vec<usize>)>,
    /// Store the weights of convolutions and matrix multiplications (fully connected
    /// layers) as f16 on the GPU, computing in f32: half their memory and bandwidth,
    /// at f16's precision (about 3 significant digits). SE blocks stay f32. Sessions on an adapter without `shader-f16` fail
    /// rather than silently falling back. The CPU executor ignores it.
    pub f16_weights: bool,
    /// Read the last feature map back with every result, for class activation maps
    /// ([`Model::cam`]); a model whose head is not global average pooling then a linear
    /// layer fails to load with [`Error::NoCam`] naming what it has instead.
    pub cam: bool,
}

impl Default for CompileOptions {
    fn default() -> Self {
        Self {
            fuse: true,
            input_shapes: Vec::new(),
            f16_weights: false,
            cam: false,
        }
    }
}

/// A model input or output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    pub name: String,
    /// At the info batch size (dimension 0 is the batch).
    pub shape: Vec<usize>,
}

/// One step of the compiled model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerInfo {
    pub name: String,
    /// The op with its fusions, e.g. `Conv+Relu`, `SeBlock`.
    pub op: String,
    pub output: Vec<usize>,
    pub macs: u64,
}

/// A squeeze-and-excitation block the compiler found.
#[derive(Clone, Debug, PartialEq)]
pub struct SeBlockInfo {
    pub name: String,
    pub channels: usize,
    /// Channels of the bottleneck (FC1's outputs).
    pub reduced: usize,
    /// `channels / reduced`, e.g. 16 or 4.
    pub reduction: f32,
    pub pooling: SqueezeMode,
    pub hidden: Activation,
    pub gate: Activation,
    /// A residual add (and its activation) fused into the scale.
    pub residual: bool,
}

/// What a model is and what the compiler made of it.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelInfo {
    pub producer: String,
    pub opset: i64,
    /// The batch size the model fixes, or `None` if its batch dimension is symbolic
    /// (any batch size works). Shapes below are for this batch, or 1.
    pub batch: Option<usize>,
    pub inputs: Vec<TensorInfo>,
    pub outputs: Vec<TensorInfo>,
    /// Nodes in the ONNX graph (Constant nodes included).
    pub onnx_nodes: usize,
    pub layers: Vec<LayerInfo>,
    /// Float weights in the file (initializers and Constant nodes).
    pub parameters: usize,
    /// Multiply-accumulates of one inference at the info batch size.
    pub macs: u64,
    pub se_blocks: Vec<SeBlockInfo>,
    pub fusions: Fusions,
    /// The model's `metadata_props` (e.g. preprocessing: input size, mean/std, labels).
    pub metadata: BTreeMap<String, String>,
    /// Activation buffers at the info batch size, shared by liveness.
    pub activation_bytes: usize,
    /// What the activations would take without buffer sharing.
    pub unshared_activation_bytes: usize,
    /// Weights after folding, as uploaded to the device.
    pub weight_bytes: usize,
}

impl Model {
    /// Parses, validates and compiles an ONNX model (the bytes of a `.onnx` file).
    pub fn from_bytes(bytes: &[u8]) -> Result<Model> {
        Self::from_bytes_with(bytes, CompileOptions::default())
    }

    pub fn from_bytes_with(bytes: &[u8], options: CompileOptions) -> Result<Model> {
        let proto = onnx::decode_model(bytes)?;
        let mut imported = onnx::import(&proto)?;
        bind_input_shapes(&mut imported, &options.input_shapes)?;
        let batch = fixed_batch(&imported);
        let (plan, fusions, cam) = compile(&imported, &options, batch.unwrap_or(1))?;
        let info = describe(&imported, &plan, fusions, batch);
        Ok(Model {
            imported,
            options,
            plan,
            info,
            cam,
        })
    }

    /// Reads and loads a `.onnx` file (native only; in a browser, fetch the bytes and
    /// use [`Model::from_bytes`]).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Model> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .map_err(|e| Error::invalid("Model::from_file", format!("{}: {e}", path.display())))?;
        Self::from_bytes(&bytes)
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The head class activation maps are made from, when compiled with
    /// [`CompileOptions::cam`].
    pub fn cam(&self) -> Option<&CamHead> {
        self.cam.as_ref()
    }

    /// The options the model was compiled with.
    pub fn options(&self) -> &CompileOptions {
        &self.options
    }

    /// The execution plan for `batch` images.
    pub fn plan(&self, batch: usize) -> Result<Plan> {
        if batch == 0 {
            return Err(Error::invalid("batch", "the batch size must be at least 1"));
        }
        if let Some(fixed) = self.info.batch
            && fixed != batch
        {
            return Err(Error::invalid(
                "batch",
                format!("the model fixes its batch size at {fixed}; {batch} was asked for"),
            ));
        }
        if batch == self.plan.batch {
            return Ok(self.plan.clone());
        }
        Ok(compile(&self.imported, &self.options, batch)?.0)
    }
}

/// Fixes the symbolic non-batch dimensions of inputs to the shapes given.
fn bind_input_shapes(m: &mut Imported, shapes: &[(String, Vec<usize>)]) -> Result<()> {
    for (name, shape) in shapes {
        let input = m
            .graph
            .inputs
            .iter_mut()
            .find(|i| m.graph.values[i.value].name == *name)
            .ok_or_else(|| {
                Error::invalid("input_shapes", format!("the model has no input '{name}'"))
            })?;
        if input.dims.len() != shape.len() || shape.contains(&0) {
            return Err(Error::shape(
                format!("input_shapes for '{name}'"),
                &input.dims,
                shape,
            ));
        }
        for (i, (dim, &want)) in input.dims.iter_mut().zip(shape).enumerate() {
            match dim {
                Dim::Fixed(d) if *d != want => {
                    return Err(Error::shape(
                        format!("input_shapes for '{name}', dimension {i}"),
                        *d,
                        want,
                    ));
                }
                Dim::Symbolic(_) if i > 0 => *dim = Dim::Fixed(want),
                _ => {}
            }
        }
    }
    Ok(())
}

/// The batch size fixed by the inputs' first dimension, if any input fixes it.
fn fixed_batch(m: &Imported) -> Option<usize> {
    m.graph.inputs.iter().find_map(|i| match i.dims.first() {
        Some(Dim::Fixed(b)) => Some(*b),
        _ => None,
    })
}

fn compile(
    m: &Imported,
    options: &CompileOptions,
    batch: usize,
) -> Result<(Plan, Fusions, Option<CamHead>)> {
    let mut g = m.graph.clone();
    let folded = infer::infer(&mut g, batch, m.unsupported.clone())?;
    let mut fusions = Fusions {
        constants_folded: folded,
        ..Fusions::default()
    };
    if options.fuse {
        passes::run(&mut g, &mut fusions)?;
    } else {
        passes::lower_only(&mut g, &mut fusions)?;
    }
    let cam = options.cam.then(|| CamHead::find(&g)).transpose()?;
    if let Some(head) = &cam {
        head.expose(&mut g);
    }
    let plan = plan::build(&g, batch)?;
    let elements: u64 = plan.buffers.iter().map(|&b| b as u64).sum();
    if elements > MAX_ACTIVATION_ELEMENTS {
        return Err(ModelError::TooLarge {
            what: format!("the activations of one inference at batch {batch}"),
            elements: elements.to_string(),
            limit: MAX_ACTIVATION_ELEMENTS as usize,
        }
        .into());
    }
    Ok((plan, fusions, cam))
}

fn describe(m: &Imported, plan: &Plan, fusions: Fusions, batch: Option<usize>) -> ModelInfo {
    let tensors = |b: &[plan::Binding]| {
        b.iter()
            .map(|b| TensorInfo {
                name: b.name.clone(),
                shape: b.operand.shape.clone(),
            })
            .collect()
    };
    let se_blocks = plan
        .steps
        .iter()
        .filter_map(|s| match &s.op {
            StepOp::SeBlock(SeStep {
                w1,
                residual,
                pooling,
                hidden,
                gate,
                ..
            }) => Some(SeBlockInfo {
                name: s.name.clone(),
                channels: w1.shape[1],
                reduced: w1.shape[0],
                reduction: w1.shape[1] as f32 / w1.shape[0] as f32,
                pooling: *pooling,
                hidden: *hidden,
                gate: *gate,
                residual: residual.is_some(),
            }),
            _ => None,
        })
        .collect();
    ModelInfo {
        producer: m.producer.clone(),
        opset: m.graph.opset,
        batch,
        inputs: tensors(&plan.inputs),
        outputs: tensors(&plan.outputs),
        onnx_nodes: m.onnx_nodes,
        layers: plan
            .steps
            .iter()
            .map(|s| LayerInfo {
                name: s.name.clone(),
                op: s.label.clone(),
                output: s.output.clone(),
                macs: s.macs(),
            })
            .collect(),
        parameters: m.parameters,
        macs: plan.macs(),
        se_blocks,
        fusions,
        metadata: m.metadata.clone(),
        activation_bytes: plan.buffer_bytes(),
        unshared_activation_bytes: plan.unshared_elements * 4,
        weight_bytes: plan.constant_bytes(),
    }
}
