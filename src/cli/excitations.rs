//! `se-runtime excitations`: what every SE block of the model did with one image, as
//! JSON and as a heatmap.

use std::path::PathBuf;

use anyhow::{Context, Result};
use se_runtime::preprocess::{self, ImageRef};
use serde_json::json;

use super::heatmap::{self, Row};
use super::model::{self, ModelArgs, PreprocessArgs};
use super::{Cli, Outcome, images};

#[derive(clap::Args)]
pub struct Args {
    #[arg(help = format!("The image ({})", se_runtime::preprocess::IMAGE_FORMATS))]
    image: PathBuf,
    /// Folder for excitations.json and excitations.png (created if missing)
    #[arg(long, short, value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    preprocess: PreprocessArgs,
}

pub fn run(cli: &Cli, args: &Args) -> Result<Outcome> {
    let loaded = args.model.load()?;
    let fit = args.preprocess.fit(&loaded)?;
    let image = images::load(&args.image)?;
    let input = fit.preprocess.to_tensor(&[ImageRef::from(&image)])?;
    let batch = model::batch_size(&loaded, 1);
    // A model with a fixed batch gets copies of the image; row 0 is reported.
    let input = se_runtime::HostTensor::new(
        &[&[batch], &input.shape[1..]].concat(),
        input.data.repeat(batch),
    )?;

    let backend = cli.backend()?.backend;
    let session = model::prepare(&backend, &loaded, batch)?;
    let result = model::infer(&session, &[(&fit.input, input)])?;
    if result.excitations.is_empty() {
        eprintln!(
            "note: {}: the runtime found no SE blocks in this model",
            loaded.name
        );
    }

    let (_, scores) = &result.outputs[0];
    let per_image = scores.len() / batch;
    let top = preprocess::top_k(&preprocess::probabilities(&scores.data[..per_image]), 3);
    let blocks: Vec<(&str, &[f32])> = result
        .excitations
        .iter()
        .map(|(name, t)| {
            let c = t.len() / batch;
            (name.as_str(), &t.data[..c])
        })
        .collect();

    std::fs::create_dir_all(&args.out).with_context(|| format!("{}", args.out.display()))?;
    let json_path = args.out.join("excitations.json");
    let doc = json!({
        "image": args.image.display().to_string(),
        "model": loaded.name,
        "top": top.iter().map(|&(i, p)| json!({"label": fit.label(i), "index": i, "probability": p})).collect::<Vec<_>>(),
        "blocks": blocks.iter().map(|(name, v)| json!({"name": name, "channels": v.len(), "values": v})).collect::<Vec<_>>(),
    });
    std::fs::write(&json_path, serde_json::to_string_pretty(&doc)? + "\n")
        .with_context(|| format!("{}", json_path.display()))?;

    let file_name = args.image.file_name().map_or_else(
        || args.image.display().to_string(),
        |n| n.to_string_lossy().into(),
    );
    let title = match top.first() {
        Some(&(i, p)) => format!(
            "SE excitations for {file_name}: {} ({:.1}%)",
            fit.label(i),
            p * 100.0
        ),
        None => format!("SE excitations for {file_name}"),
    };
    let rows: Vec<Row> = blocks
        .iter()
        .map(|&(name, values)| Row { name, values })
        .collect();
    let png_path = args.out.join("excitations.png");
    heatmap::render(&title, &rows)
        .save(&png_path)
        .with_context(|| format!("{}", png_path.display()))?;

    outln!(
        "{} SE blocks, top class {}: wrote {} and {}",
        blocks.len(),
        top.first().map_or("-".into(), |&(i, _)| fit.label(i)),
        json_path.display(),
        png_path.display()
    );
    Ok(Outcome::Done)
}
