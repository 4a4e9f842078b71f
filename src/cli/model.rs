//! The model a command runs (a file, or the embedded default), the options that adapt
//! images to it, and one inference on the GPU.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use se_runtime::plan::StepOp;
use se_runtime::preprocess::{self, Preprocess};
use se_runtime::{CompileOptions, HostTensor, Model, Runtime, Session};

/// A model compiled into the binary: its name and its ONNX bytes.
struct Embedded {
    name: &'static str,
    bytes: &'static [u8],
}

macro_rules! embedded {
    ($path:literal) => {
        Embedded {
            name: $path,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $path)),
        }
    };
}

/// The model `classify`, `excitations` and `bench` use without `--model`.
const DEFAULT_MODEL: Embedded = embedded!("models/fashion_se_resnet.onnx");

#[derive(clap::Args)]
pub struct ModelArgs {
    /// ONNX model file (default: the embedded Fashion-MNIST SE-ResNet)
    #[arg(long, short, value_name = "M.onnx")]
    pub model: Option<PathBuf>,
    /// Store convolution and fully connected weights as f16 on the GPU (computing in f32);
    /// fails on adapters without shader-f16
    #[arg(long)]
    pub f16_weights: bool,
}

/// A loaded model and what to call it in messages.
pub struct Loaded {
    pub name: String,
    pub model: Model,
}

impl ModelArgs {
    pub fn load(&self) -> Result<Loaded> {
        let options = CompileOptions {
            f16_weights: self.f16_weights,
            ..Default::default()
        };
        match &self.model {
            Some(path) => load_file_with(path, options),
            None => Ok(Loaded {
                name: format!("{} (embedded)", DEFAULT_MODEL.name),
                model: Model::from_bytes_with(DEFAULT_MODEL.bytes, options)
                    .context("the embedded model does not load")?,
            }),
        }
    }
}

pub fn load_file(path: &Path) -> Result<Loaded> {
    load_file_with(path, CompileOptions::default())
}

pub fn load_file_with(path: &Path, options: CompileOptions) -> Result<Loaded> {
    let bytes = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
    let model =
        Model::from_bytes_with(&bytes, options).with_context(|| format!("{}", path.display()))?;
    Ok(Loaded {
        name: path.display().to_string(),
        model,
    })
}

/// Overrides of the preprocessing the model's metadata describes.
#[derive(clap::Args)]
pub struct PreprocessArgs {
    /// Resize images to H,W pixels (metadata: se_runtime.input_size)
    #[arg(long, value_name = "H,W")]
    size: Option<String>,
    /// Channel order fed to the model: gray, rgb or bgr (se_runtime.channels)
    #[arg(long, value_name = "ORDER")]
    channels: Option<String>,
    /// Subtracted after scaling: one value or one per channel (se_runtime.mean)
    #[arg(long, value_name = "M[,M,M]", allow_hyphen_values = true)]
    mean: Option<String>,
    /// Divided by after subtracting the mean (se_runtime.std)
    #[arg(long, value_name = "S[,S,S]")]
    std: Option<String>,
    /// Factor for 0..255 pixel values, e.g. 1/255 (se_runtime.scale)
    #[arg(long, value_name = "X")]
    scale: Option<String>,
    /// Use 255 - pixel: true or false (se_runtime.invert)
    #[arg(long, value_name = "BOOL")]
    invert: Option<String>,
    /// Class names: a JSON array or one name per line (se_runtime.labels)
    #[arg(long, value_name = "FILE")]
    labels: Option<PathBuf>,
}

/// How images reach the model: its single `[N, C, H, W]` input, the preprocessing,
/// and the class names.
pub struct ImageModel {
    pub input: String,
    pub preprocess: Preprocess,
    pub labels: Option<Vec<String>>,
}

impl PreprocessArgs {
    pub fn fit(&self, m: &Loaded) -> Result<ImageModel> {
        let info = m.model.info();
        let fail = |msg: String| anyhow!("{}: {msg}", m.name);
        let [input] = &info.inputs[..] else {
            return Err(fail(format!(
                "the model has {} inputs; image commands need a model with one image input \
                 (use `se-runtime run` for others)",
                info.inputs.len()
            )));
        };
        let &[_, c, h, w] = &input.shape[..] else {
            return Err(fail(format!(
                "input '{}' has shape {:?}, not an image batch [N, C, H, W] \
                 (use `se-runtime run` for other inputs)",
                input.name, input.shape
            )));
        };

        let mut p = Preprocess::from_metadata(&info.metadata)
            .with_context(|| format!("{}: metadata", m.name))?;
        for (flag, key, value) in [
            ("--size", "input_size", &self.size),
            ("--channels", "channels", &self.channels),
            ("--mean", "mean", &self.mean),
            ("--std", "std", &self.std),
            ("--scale", "scale", &self.scale),
            ("--invert", "invert", &self.invert),
        ] {
            if let Some(v) = value {
                p.set(key, v)
                    .map_err(|e| anyhow!("{flag} {v}: {}", message(e)))?;
            }
        }
        p.fit_input(Some(c), Some([h, w]))
            .map_err(|e| fail(reason(e)))?;

        let labels = match &self.labels {
            Some(path) => Some(read_labels(path)?),
            None => preprocess::labels_from_metadata(&info.metadata)
                .with_context(|| format!("{}: metadata", m.name))?,
        };
        Ok(ImageModel {
            input: input.name.clone(),
            preprocess: p,
            labels,
        })
    }
}

/// An invalid-argument error's message without its "invalid argument for" framing,
/// where the caller names the argument itself.
fn reason(e: se_runtime::Error) -> String {
    match e {
        se_runtime::Error::InvalidArgument { op, message }
            if op.starts_with("model input") || op.starts_with("se_runtime.") =>
        {
            format!("{op}: {message}")
        }
        e => message(e),
    }
}

fn message(e: se_runtime::Error) -> String {
    match e {
        se_runtime::Error::InvalidArgument { message, .. } => message,
        e => e.to_string(),
    }
}

fn read_labels(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    if text.trim_start().starts_with('[') {
        return preprocess::parse_labels(&text).with_context(|| format!("{}", path.display()));
    }
    let labels: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if labels.is_empty() {
        bail!("{}: no labels in the file", path.display());
    }
    Ok(labels)
}

impl ImageModel {
    /// The class name of output index `i`.
    pub fn label(&self, i: usize) -> String {
        match self.labels.as_ref().and_then(|l| l.get(i)) {
            Some(l) => l.clone(),
            None => format!("class {i}"),
        }
    }
}

/// One inference's results, host side.
pub struct Inference {
    /// Every model output, in the model's order.
    pub outputs: Vec<(String, HostTensor)>,
    /// Every SE block's excitation `[N, C]`, in network order.
    pub excitations: Vec<(String, HostTensor)>,
}

/// A session on the GPU for batches of `batch`.
pub fn session(rt: &Runtime, m: &Loaded, batch: usize) -> Result<Session> {
    Session::new(rt, &m.model, batch).with_context(|| format!("{}: batch {batch}", m.name))
}

pub fn infer(session: &Session, inputs: &[(&str, HostTensor)]) -> Result<Inference> {
    let out = pollster::block_on(session.run(inputs))?;
    Ok(Inference {
        outputs: out.outputs,
        excitations: out
            .excitations
            .into_iter()
            .map(|e| (e.block, e.values))
            .collect(),
    })
}

/// One plan step's GPU time.
pub struct LayerTime {
    pub name: String,
    pub op: String,
    pub ms: f64,
    pub se_block: bool,
}

/// GPU time per plan step, the median of `runs` profiled inferences.
pub fn profile(
    session: &Session,
    inputs: &[(&str, HostTensor)],
    runs: usize,
) -> Result<Vec<LayerTime>> {
    let samples = (0..runs)
        .map(|_| Ok(pollster::block_on(session.profile(inputs))?))
        .collect::<Result<Vec<Vec<f64>>>>()?;
    let steps = &session.plan().steps;
    Ok(steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let mut ns: Vec<f64> = samples.iter().map(|s| s[i]).collect();
            ns.sort_by(f64::total_cmp);
            LayerTime {
                name: step.name.clone(),
                op: step.label.clone(),
                ms: ns[ns.len() / 2] / 1e6,
                se_block: matches!(step.op, StepOp::SeBlock { .. }),
            }
        })
        .collect())
}

/// Each plan step's kernel strategies ([`Session::step_strategies`]), one told once
/// where consecutive dispatches share it: `squeeze/tree 1 lane + excite/two-pass + scale`.
pub fn step_strategies(session: &Session) -> Vec<String> {
    session
        .step_strategies()
        .into_iter()
        .map(|mut step| {
            step.dedup();
            step.join(" + ")
        })
        .collect()
}

/// The batch size to run: the model's own if it fixes one, else `wanted`.
pub fn batch_size(m: &Loaded, wanted: usize) -> usize {
    m.model.info().batch.unwrap_or(wanted.max(1))
}
