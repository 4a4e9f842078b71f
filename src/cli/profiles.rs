//! `se-runtime profiles`: the mean excitation of every SE block per class over a
//! labelled image set (IDX files, the MNIST / Fashion-MNIST format), the figure of the
//! SE paper that shows early blocks class-agnostic and late blocks class-specific.
//! Writes class_profiles.json (the page reads it) and class_profiles.png.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use se_runtime::preprocess::ImageRef;
use serde_json::json;

use super::heatmap::{self, Row};
use super::model::{self, ModelArgs, PreprocessArgs};
use super::{Cli, Outcome};

const FASHION: &str = "/usr/share/datasets/fashion-mnist";

#[derive(clap::Args)]
pub struct Args {
    /// IDX image file (gzipped or not), 8-bit greyscale
    #[arg(long, value_name = "FILE", default_value = concat!("/usr/share/datasets/fashion-mnist", "/t10k-images-idx3-ubyte.gz"))]
    idx_images: PathBuf,
    /// IDX label file matching --idx-images
    #[arg(long, value_name = "FILE", default_value = concat!("/usr/share/datasets/fashion-mnist", "/t10k-labels-idx1-ubyte.gz"))]
    idx_labels: PathBuf,
    /// Folder for class_profiles.json and class_profiles.png (created if missing)
    #[arg(long, short, value_name = "DIR")]
    out: PathBuf,
    /// Images per inference
    #[arg(long, default_value_t = 500)]
    batch: usize,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    preprocess: PreprocessArgs,
}

/// An IDX file's dimensions and bytes.
fn read_idx(path: &Path) -> Result<(Vec<usize>, Vec<u8>)> {
    let mut bytes = vec![];
    let file = std::fs::File::open(path).with_context(|| {
        format!(
            "{}: install the dataset (Debian: dataset-fashion-mnist, into {FASHION})",
            path.display()
        )
    })?;
    if path.extension().is_some_and(|e| e == "gz") {
        flate2::read::GzDecoder::new(file).read_to_end(&mut bytes)
    } else {
        std::io::BufReader::new(file).read_to_end(&mut bytes)
    }
    .with_context(|| format!("{}: unreadable", path.display()))?;
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 8 {
        bail!("{}: not an IDX file of unsigned bytes", path.display());
    }
    let rank = bytes[3] as usize;
    let header = 4 + 4 * rank;
    if bytes.len() < header {
        bail!("{}: truncated IDX header", path.display());
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks(4)
        .map(|d| u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize)
        .collect();
    let data = bytes.split_off(header);
    if dims.iter().product::<usize>() != data.len() {
        bail!(
            "{}: dimensions {dims:?} do not match its {} bytes",
            path.display(),
            data.len()
        );
    }
    Ok((dims, data))
}

pub fn run(cli: &Cli, args: &Args) -> Result<Outcome> {
    let loaded = args.model.load()?;
    let fit = args.preprocess.fit(&loaded)?;
    let (dims, pixels) = read_idx(&args.idx_images)?;
    let (_, labels) = read_idx(&args.idx_labels)?;
    if dims.len() != 3 || dims[0] != labels.len() {
        bail!(
            "{} and {} do not describe the same images",
            args.idx_images.display(),
            args.idx_labels.display()
        );
    }
    let (h, w) = (dims[1], dims[2]);
    let batch = model::batch_size(&loaded, args.batch);
    let backend = cli.backend()?.backend;
    let session = model::prepare(&backend, &loaded, batch)?;

    let classes = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
    // sums[block][class][channel], counts[class]
    let mut sums: Vec<Vec<Vec<f64>>> = vec![];
    let mut counts = vec![0usize; classes];
    let mut correct = 0usize;
    for (imgs, labs) in pixels.chunks(batch * h * w).zip(labels.chunks(batch)) {
        let rgba: Vec<Vec<u8>> = imgs
            .chunks(h * w)
            .map(|img| img.iter().flat_map(|&v| [v, v, v, 255]).collect())
            .collect();
        let mut refs: Vec<ImageRef> = rgba
            .iter()
            .map(|p| ImageRef::new(w as u32, h as u32, p))
            .collect::<se_runtime::Result<_>>()?;
        // The last batch is padded with copies of its first image, then ignored.
        let n = refs.len();
        refs.resize(batch, refs[0]);
        let input = fit.preprocess.to_tensor(&refs)?;
        let result = model::infer(&session, &[(&fit.input, input)])?;
        let logits = &result.outputs[0].1;
        let k = logits.len() / batch;
        if sums.is_empty() {
            sums = result
                .excitations
                .iter()
                .map(|(_, t)| vec![vec![0.0; t.len() / batch]; classes])
                .collect();
        }
        for (i, &label) in labs.iter().enumerate().take(n) {
            let row = &logits.data[i * k..(i + 1) * k];
            let top = (0..k)
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap_or(0);
            correct += usize::from(top == label as usize);
            counts[label as usize] += 1;
            for (block, (_, t)) in sums.iter_mut().zip(&result.excitations) {
                let c = t.len() / batch;
                for (s, v) in block[label as usize]
                    .iter_mut()
                    .zip(&t.data[i * c..(i + 1) * c])
                {
                    *s += *v as f64;
                }
            }
        }
    }
    if sums.is_empty() {
        bail!(
            "{}: the runtime found no SE blocks in this model",
            loaded.name
        );
    }
    let names: Vec<String> = loaded
        .model
        .info()
        .se_blocks
        .iter()
        .map(|b| b.name.clone())
        .collect();
    let means: Vec<Vec<Vec<f32>>> = sums
        .iter()
        .map(|block| {
            block
                .iter()
                .zip(&counts)
                .map(|(s, &n)| s.iter().map(|v| (v / n.max(1) as f64) as f32).collect())
                .collect()
        })
        .collect();
    // How class-specific a block is: the spread of its class means around their
    // average, averaged over channels (0 = every class gets the same gates).
    let spread = |block: &Vec<Vec<f32>>| -> f32 {
        let c = block[0].len();
        let per_channel = (0..c).map(|j| {
            let m = block.iter().map(|r| r[j]).sum::<f32>() / block.len() as f32;
            (block.iter().map(|r| (r[j] - m).powi(2)).sum::<f32>() / block.len() as f32).sqrt()
        });
        per_channel.sum::<f32>() / c as f32
    };
    let accuracy = 100.0 * correct as f64 / labels.len() as f64;
    let class_names: Vec<String> = (0..classes).map(|i| fit.label(i)).collect();
    let doc = json!({
        "model": loaded.name,
        "dataset": args.idx_images.display().to_string(),
        "images": labels.len(),
        "accuracy": (accuracy * 100.0).round() / 100.0,
        "classes": class_names,
        "images_per_class": counts,
        "blocks": means.iter().enumerate().map(|(b, block)| json!({
            "name": names.get(b).cloned().unwrap_or_else(|| format!("se{b}")),
            "channels": block[0].len(),
            "class_spread": spread(block),
            "mean": block,
        })).collect::<Vec<_>>(),
    });
    std::fs::create_dir_all(&args.out).with_context(|| format!("{}", args.out.display()))?;
    let json_path = args.out.join("class_profiles.json");
    std::fs::write(&json_path, serde_json::to_string(&doc)? + "\n")
        .with_context(|| format!("{}", json_path.display()))?;

    let labels_rows: Vec<String> = means
        .iter()
        .enumerate()
        .flat_map(|(b, block)| {
            let block_name = format!("SE {}", b + 1);
            class_names
                .iter()
                .take(block.len())
                .map(move |c| format!("{block_name} · {c}"))
        })
        .collect();
    let rows: Vec<Row> = means
        .iter()
        .flatten()
        .zip(&labels_rows)
        .map(|(values, name)| Row { name, values })
        .collect();
    let png_path = args.out.join("class_profiles.png");
    heatmap::render(
        &format!(
            "Mean excitation per class ({} images, accuracy {accuracy:.2}%)",
            labels.len()
        ),
        &rows,
    )
    .save(&png_path)
    .with_context(|| format!("{}", png_path.display()))?;

    println!("accuracy {accuracy:.2}% on {} images", labels.len());
    for (b, block) in means.iter().enumerate() {
        println!(
            "SE block {} ({}, {} channels): class spread {:.4}",
            b + 1,
            names.get(b).map_or("", String::as_str),
            block[0].len(),
            spread(block)
        );
    }
    println!("wrote {} and {}", json_path.display(), png_path.display());
    Ok(Outcome::Done)
}
