//! `se-runtime run`: any model on raw tensors; every output and every SE block's
//! excitations come back as `.npy` files, with a summary.json describing them.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use se_runtime::{CompileOptions, HostTensor};
use serde_json::json;

use super::model::{self, load_file_with};
use super::{Cli, Outcome, npy};

#[derive(clap::Args)]
pub struct Args {
    /// The ONNX model
    #[arg(value_name = "M.onnx")]
    model: PathBuf,
    /// An input as NAME=FILE.npy (the name may be left out for a one-input model)
    #[arg(long, short, required = true, value_name = "NAME=FILE")]
    input: Vec<String>,
    /// Folder for the outputs (created if missing)
    #[arg(long, short, value_name = "DIR")]
    out: PathBuf,
    /// Also write cam.npy [N, h, w]: the class activation map of each row's top-1 class
    /// on the last feature map (models whose head is global average pooling then a
    /// linear layer)
    #[arg(long, value_name = "WHICH", value_parser = ["top1"])]
    cam: Option<String>,
}

pub fn run(cli: &Cli, args: &Args) -> Result<Outcome> {
    let options = CompileOptions {
        cam: args.cam.is_some(),
        ..CompileOptions::default()
    };
    let loaded = load_file_with(&args.model, options)?;
    let info = loaded.model.info();

    let mut inputs: Vec<(String, PathBuf, HostTensor)> = Vec::new();
    for spec in &args.input {
        let (name, file) = match spec.split_once('=') {
            Some((name, file)) => (name.to_string(), PathBuf::from(file)),
            None if info.inputs.len() == 1 => (info.inputs[0].name.clone(), PathBuf::from(spec)),
            None => bail!(
                "--input {spec}: the model has {} inputs ({}); write NAME=FILE",
                info.inputs.len(),
                names(info.inputs.iter().map(|i| i.name.as_str()))
            ),
        };
        let Some(expected) = info.inputs.iter().find(|i| i.name == name) else {
            bail!(
                "--input {spec}: the model has no input '{name}'; its inputs: {}",
                names(info.inputs.iter().map(|i| i.name.as_str()))
            );
        };
        let t = npy::read(&file)?;
        if expected.shape.is_empty() || t.shape.is_empty() {
            bail!(
                "{}: input '{name}' has shape {:?} and the file {:?}: both need a batch dimension",
                file.display(),
                expected.shape,
                t.shape
            );
        }
        // Everything but the batch dimension must match.
        if t.shape.len() != expected.shape.len() || t.shape[1..] != expected.shape[1..] {
            let mut want = expected.shape.clone();
            want[0] = t.shape.first().copied().unwrap_or(1);
            bail!(
                "{}: shape {:?} does not fit input '{name}', which takes {:?} (N = batch)",
                file.display(),
                t.shape,
                ["N".to_string()]
                    .into_iter()
                    .chain(want[1..].iter().map(|d| d.to_string()))
                    .collect::<Vec<_>>()
            );
        }
        inputs.push((name, file, t));
    }
    for i in &info.inputs {
        if !inputs.iter().any(|(n, ..)| *n == i.name) {
            bail!(
                "input '{}' is missing: add --input {}=FILE.npy",
                i.name,
                i.name
            );
        }
    }
    let batch = inputs[0].2.shape[0];
    if let Some((name, file, t)) = inputs.iter().find(|(.., t)| t.shape[0] != batch) {
        bail!(
            "{}: input '{name}' has batch {} but '{}' has {batch}",
            file.display(),
            t.shape[0],
            inputs[0].0
        );
    }

    let backend = cli.backend()?.backend;
    let session = model::prepare(&backend, &loaded, batch)?;
    let feed: Vec<(&str, HostTensor)> = inputs
        .iter()
        .map(|(n, _, t)| (n.as_str(), t.clone()))
        .collect();
    let started = Instant::now();
    let mut result = model::infer(&session, &feed)?;
    let millis = started.elapsed().as_secs_f64() * 1e3;
    let cam = match loaded.model.cam() {
        Some(head) => {
            let logits = &result.outputs[0].1;
            let classes = logits.shape.last().copied().unwrap_or(1).max(1);
            let top1: Vec<usize> = logits
                .data
                .chunks(classes)
                .map(|row| se_runtime::preprocess::top_k(row, 1)[0].0)
                .collect();
            Some((head.maps(&mut result.outputs, &top1)?, top1))
        }
        None => None,
    };

    std::fs::create_dir_all(&args.out).with_context(|| format!("{}", args.out.display()))?;
    let mut taken = HashSet::new();
    let mut write = |prefix: &str, name: &str, t: &HostTensor| -> Result<serde_json::Value> {
        let file = unique_file_name(&mut taken, prefix, name);
        npy::write(&args.out.join(&file), t)?;
        Ok(json!({ "name": name, "shape": t.shape, "file": file, "stats": stats(t) }))
    };
    let outputs = result
        .outputs
        .iter()
        .map(|(name, t)| write("", name, t))
        .collect::<Result<Vec<_>>>()?;
    let excitations = result
        .excitations
        .iter()
        .map(|(name, t)| write("excitation_", name, t))
        .collect::<Result<Vec<_>>>()?;

    let cam = match &cam {
        Some((maps, top1)) => {
            npy::write(&args.out.join("cam.npy"), maps)?;
            json!({ "file": "cam.npy", "shape": maps.shape, "classes": top1 })
        }
        None => serde_json::Value::Null,
    };
    let summary = json!({
        "model": loaded.name,
        "adapter": backend.describe(),
        "batch": batch,
        "milliseconds": millis,
        "inputs": inputs.iter().map(|(n, f, t)| json!({"name": n, "file": f.display().to_string(), "shape": t.shape})).collect::<Vec<_>>(),
        "outputs": outputs,
        "excitations": excitations,
        "cam": cam,
    });
    let summary_path = args.out.join("summary.json");
    std::fs::write(
        &summary_path,
        serde_json::to_string_pretty(&summary)? + "\n",
    )
    .with_context(|| format!("{}", summary_path.display()))?;
    outln!(
        "{} outputs and {} SE excitations written to {} ({millis:.1} ms)",
        outputs.len(),
        excitations.len(),
        args.out.display()
    );
    Ok(Outcome::Done)
}

fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

/// `<prefix><name>.npy` with characters unsafe in file names replaced, made unique.
fn unique_file_name(taken: &mut HashSet<String>, prefix: &str, name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let base = format!("{prefix}{safe}");
    let mut file = format!("{base}.npy");
    let mut n = 2;
    while !taken.insert(file.clone()) {
        file = format!("{base}_{n}.npy");
        n += 1;
    }
    file
}

fn stats(t: &HostTensor) -> serde_json::Value {
    if t.is_empty() {
        return json!(null);
    }
    let min = t.data.iter().copied().fold(f32::INFINITY, f32::min);
    let max = t.data.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mean = t.data.iter().map(|&v| v as f64).sum::<f64>() / t.len() as f64;
    json!({ "min": min, "max": max, "mean": mean })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_and_unique() {
        let mut taken = HashSet::new();
        assert_eq!(
            unique_file_name(&mut taken, "", "layer1/se:0"),
            "layer1_se_0.npy"
        );
        assert_eq!(
            unique_file_name(&mut taken, "", "layer1_se_0"),
            "layer1_se_0_2.npy"
        );
        assert_eq!(
            unique_file_name(&mut taken, "excitation_", "a.b"),
            "excitation_a.b.npy"
        );
    }
}
