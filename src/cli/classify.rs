//! `se-runtime classify`: top-k labels for images or folders of images.
//!
//! Images are decoded and preprocessed on a second thread while the GPU runs the
//! previous batch; a file that fails is reported and skipped, the others still run.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use se_runtime::HostTensor;
use se_runtime::classifier::ImageClassifier;
use se_runtime::preprocess::{self, ImageRef};
use serde_json::json;

use super::model::{self, ModelArgs, PreprocessArgs};
use super::{Cli, Outcome, error_line, images};

#[derive(clap::Args)]
pub struct Args {
    #[arg(required = true, value_name = "IMAGE|DIR",
          help = format!("Image files ({}) or folders to search for them",
                         se_runtime::preprocess::IMAGE_FORMATS))]
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
    /// How many of the most likely classes to show
    #[arg(long, short = 'k', default_value_t = 3, value_name = "K",
          value_parser = clap::value_parser!(u16).range(1..))]
    top: u16,
    /// Print one JSON object per image (JSON Lines) instead of a table
    #[arg(long)]
    json: bool,
    /// Images per GPU run (a model that fixes its batch size uses its own)
    #[arg(long, short, default_value_t = 16, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    batch: u32,
    #[command(flatten)]
    preprocess: PreprocessArgs,
}

/// What the decoding thread sends: a failed file, or a full (or last) batch.
enum Item {
    Failed(PathBuf, String),
    Batch(Vec<PathBuf>, HostTensor),
}

pub fn run(cli: &Cli, args: &Args) -> Result<Outcome> {
    let loaded = args.model.load()?;
    let fit = args.preprocess.fit(&loaded)?;
    let files = images::collect(&args.inputs)?;
    let batch = model::batch_size(&loaded, (args.batch as usize).min(files.len()));
    // A model that fixes its batch size gets a zero-padded last batch; any other gets a
    // second session for the remainder, made when the last batch comes.
    let pad = loaded.model.info().batch.is_some();
    let backend = cli.backend()?.backend;
    let session = model::prepare(&backend, &loaded, batch)?;
    let mut tail = None;

    let bar = progress_bar(files.len() as u64);
    let started = Instant::now();
    let mut gpu_time = Duration::ZERO;
    let (mut done, mut failed) = (0, 0);
    let mut out = std::io::stdout().lock();

    let (tx, rx) = mpsc::sync_channel(2);
    std::thread::scope(|scope| -> Result<()> {
        let fit = &fit;
        let files = &files;
        scope.spawn(move || decode_batches(files, fit, batch, pad, tx));
        for item in rx {
            match item {
                Item::Failed(path, message) => {
                    failed += 1;
                    bar.suspend(|| eprintln!("error: {message}"));
                    if args.json {
                        let line = json!({ "file": path.display().to_string(), "error": message });
                        writeln!(out, "{line}")?;
                    }
                    bar.inc(1);
                }
                Item::Batch(paths, tensor) => {
                    let n = tensor.shape[0];
                    let session = if n == batch {
                        &session
                    } else {
                        if tail.is_none() {
                            tail = Some(model::prepare(&backend, &loaded, n)?);
                        }
                        tail.as_ref().expect("just made")
                    };
                    let t = Instant::now();
                    let result = model::infer(session, &[(&fit.input, tensor)])?;
                    gpu_time += t.elapsed();
                    let (_, scores) = &result.outputs[0];
                    let per_image = scores.len() / n;
                    if scores.shape.first() != Some(&n) || per_image == 0 {
                        bail!(
                            "{}: output shape {:?} does not hold one score vector per image",
                            loaded.name,
                            scores.shape
                        );
                    }
                    for (i, path) in paths.iter().enumerate() {
                        let probs = preprocess::probabilities(
                            &scores.data[i * per_image..(i + 1) * per_image],
                        );
                        let top = preprocess::top_k(&probs, args.top.into());
                        bar.suspend(|| print_result(&mut out, args.json, path, &top, fit))?;
                    }
                    done += paths.len();
                    bar.inc(paths.len() as u64);
                }
            }
        }
        Ok(())
    })?;
    bar.finish_and_clear();

    if files.len() > 1 {
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "classified {done} images in {secs:.2} s: {:.1} images/s (inference {:.2} s, batch {batch}, {})",
            done as f64 / secs,
            gpu_time.as_secs_f64(),
            backend.describe()
        );
    }
    Ok(if failed == 0 {
        Outcome::Done
    } else {
        Outcome::Partial {
            failed,
            total: files.len(),
        }
    })
}

fn progress_bar(len: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() || len < 2 {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} images, {rate}, {eta} left")
            .expect("the template is valid")
            .with_key(
                "rate",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.1} images/s", state.per_sec());
                },
            ),
    );
    bar
}

/// Decodes and preprocesses `files` into batches of `batch` images (the last one
/// smaller, or zero-padded to `batch` if `pad`), sending failures as they happen.
fn decode_batches(
    files: &[PathBuf],
    fit: &ImageClassifier,
    batch: usize,
    pad: bool,
    tx: mpsc::SyncSender<Item>,
) {
    let mut paths = Vec::with_capacity(batch);
    let mut data = Vec::new();
    let send = |paths: &mut Vec<PathBuf>, data: &mut Vec<f32>| {
        let n = if pad { batch } else { paths.len() };
        data.resize(data.len() / paths.len() * n, 0.0);
        let [h, w] = fit.size();
        let c = fit
            .preprocess
            .channels
            .expect("fit_input set the channels")
            .count();
        let shape = [n, c, h as usize, w as usize];
        let tensor = HostTensor::new(&shape, std::mem::take(data)).expect("sizes match");
        tx.send(Item::Batch(std::mem::take(paths), tensor)).is_ok()
    };
    for path in files {
        let tensor = images::load(path)
            .and_then(|image| Ok(fit.preprocess.to_tensor(&[ImageRef::from(&image)])?));
        match tensor {
            Ok(t) => {
                paths.push(path.clone());
                data.extend_from_slice(&t.data);
                if paths.len() == batch && !send(&mut paths, &mut data) {
                    return;
                }
            }
            Err(e) => {
                if tx.send(Item::Failed(path.clone(), error_line(&e))).is_err() {
                    return;
                }
            }
        }
    }
    if !paths.is_empty() {
        send(&mut paths, &mut data);
    }
}

fn print_result(
    out: &mut impl Write,
    json: bool,
    path: &std::path::Path,
    top: &[(usize, f32)],
    fit: &ImageClassifier,
) -> Result<()> {
    if json {
        let top: Vec<_> = top
            .iter()
            .map(|&(i, p)| json!({ "label": fit.label(i), "index": i, "probability": p }))
            .collect();
        writeln!(
            out,
            "{}",
            json!({ "file": path.display().to_string(), "top": top })
        )?;
        return Ok(());
    }
    writeln!(out, "{}", path.display())?;
    let width = top
        .iter()
        .map(|&(i, _)| fit.label(i).chars().count())
        .max()
        .unwrap_or(0);
    for &(i, p) in top {
        let bar = "█".repeat((p * 30.0).round() as usize);
        let line = format!("  {:<width$}  {:>6.2}%  {bar}", fit.label(i), p * 100.0);
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}
