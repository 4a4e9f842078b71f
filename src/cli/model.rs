//! The model a command runs (a file, or the embedded default), the options that adapt
//! images to it, and one inference on the chosen backend.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use se_runtime::backend::{BackendSession, Chosen, ChosenSession};
use se_runtime::classifier::{ImageClassifier, Overrides};
use se_runtime::plan::StepOp;
use se_runtime::preprocess;
use se_runtime::{ClassifierError, CompileOptions, HostTensor, Model, Runtime, Session};

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
    /// How images reach that size: stretch, crop (keep the aspect ratio, cut out the
    /// centre) or crop:S (shorter side to S first, as ImageNet's 256 for 224)
    /// (se_runtime.resize)
    #[arg(long, value_name = "MODE")]
    resize: Option<String>,
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

impl PreprocessArgs {
    /// The model's image input, preprocessing and class names, with these overrides.
    pub fn fit(&self, m: &Loaded) -> Result<ImageClassifier> {
        let info = m.model.info();
        let settings = [
            ("input_size", &self.size),
            ("resize", &self.resize),
            ("channels", &self.channels),
            ("mean", &self.mean),
            ("std", &self.std),
            ("scale", &self.scale),
            ("invert", &self.invert),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some((key.to_string(), value.clone()?)))
        .collect();
        let labels = self.labels.as_deref().map(read_labels).transpose()?;
        let overrides = Overrides { settings, labels };
        ImageClassifier::new(info, &info.metadata, overrides).map_err(|e| {
            let fail = |msg: String| anyhow!("{}: {msg}", m.name);
            match e {
                ClassifierError::NotAnImageModel { inputs, .. } => match &inputs[..] {
                    [(_, shape)] if shape.len() == 4 => fail("the model has no outputs".into()),
                    [(name, shape)] => fail(format!(
                        "input '{name}' has shape {shape:?}, not an image batch [N, C, H, W] \
                         (use `se-runtime run` for other inputs)"
                    )),
                    _ => fail(format!(
                        "the model has {} inputs; image commands need a model with one image \
                         input (use `se-runtime run` for others)",
                        inputs.len()
                    )),
                },
                ClassifierError::Metadata(e) => anyhow!(e).context(format!("{}: metadata", m.name)),
                ClassifierError::Override { key, value, error } => {
                    anyhow!("--{} {value}: {}", flag(&key), error.problem())
                }
                ClassifierError::Input(e) => fail(format!("{}: {}", e.subject(), e.problem())),
            }
        })
    }
}

/// The flag that overrides metadata key `key` (`input_size` is `--size`).
fn flag(key: &str) -> &str {
    match key {
        "input_size" => "size",
        key => key,
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

/// A session on the chosen backend for batches of `batch`.
pub fn prepare(backend: &Chosen, m: &Loaded, batch: usize) -> Result<ChosenSession> {
    backend
        .prepare(&m.model, batch)
        .with_context(|| format!("{}: batch {batch}", m.name))
}

pub fn infer(session: &impl BackendSession, inputs: &[(&str, HostTensor)]) -> Result<Inference> {
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
