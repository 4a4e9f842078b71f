//! `se-runtime inspect`: what a model is, what the compiler made of it, and the kernel
//! strategies each layer would run on the chosen adapter.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use se_runtime::preprocess::{self, Preprocess};
use se_runtime::{Error, Model, Session};

use super::{
    Cli, Outcome, error_line, fmt_bytes, fmt_count, layer_columns, model::step_strategies,
    name_width,
};

#[derive(clap::Args)]
pub struct Args {
    /// The ONNX model
    #[arg(value_name = "M.onnx")]
    model: PathBuf,
    /// Leave out the per-layer table (and the GPU adapter it opens for the strategies)
    #[arg(long)]
    brief: bool,
}

/// The adapter, its class and the batch, and each layer's kernel strategies: what a
/// session of `model` would run on the adapter the other commands choose.
fn strategies(cli: &Cli, model: &Model, batch: usize) -> Result<(String, Vec<String>)> {
    let rt = cli.runtime()?;
    let session = Session::new(&rt, model, batch)?;
    let a = rt.adapter_info();
    let on = format!(
        "{} ({:?}, {} class), batch {batch}",
        a.name,
        a.backend,
        rt.profile().class
    );
    Ok((on, step_strategies(&session)))
}

pub fn run(cli: &Cli, args: &Args) -> Result<Outcome> {
    let path = &args.model;
    let bytes = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
    let model = match Model::from_bytes(&bytes) {
        Ok(m) => m,
        Err(Error::UnsupportedModel { nodes }) => {
            outln!("{}: not supported by se-runtime", path.display());
            outln!("\nUnsupported ({}):", nodes.len());
            for n in &nodes {
                outln!("  - {n}");
            }
            bail!("{}: {} unsupported nodes", path.display(), nodes.len());
        }
        Err(e) => return Err(e).with_context(|| format!("{}", path.display())),
    };
    let i = model.info();

    outln!("{}", path.display());
    outln!(
        "  producer {}, opset {}, {} ONNX nodes -> {} layers",
        if i.producer.is_empty() {
            "unknown"
        } else {
            &i.producer
        },
        i.opset,
        i.onnx_nodes,
        i.layers.len()
    );
    let batch = match i.batch {
        Some(b) => format!("fixed at {b}"),
        None => "any (shapes below for 1)".into(),
    };
    outln!("  batch: {batch}");

    outln!("\nInputs:");
    for t in &i.inputs {
        outln!("  {:<24} {:?}", t.name, t.shape);
    }
    outln!("Outputs:");
    for t in &i.outputs {
        outln!("  {:<24} {:?}", t.name, t.shape);
    }

    outln!("\nSize:");
    outln!("  parameters          {}", fmt_count(i.parameters as f64));
    outln!("  MACs per inference  {}", fmt_count(i.macs as f64));
    outln!("  weights on device   {}", fmt_bytes(i.weight_bytes as u64));
    outln!(
        "  activations         {} ({} without buffer sharing)",
        fmt_bytes(i.activation_bytes as u64),
        fmt_bytes(i.unshared_activation_bytes as u64)
    );

    outln!("\nSE blocks ({}):", i.se_blocks.len());
    for b in &i.se_blocks {
        outln!(
            "  {:<28} {:>5} ch -> {:<5} {:<9} squeeze {:?}, hidden {:?}, gate {:?}{}",
            b.name,
            b.channels,
            b.reduced,
            format!(
                "(r = {})",
                format!("{:.2}", b.reduction)
                    .trim_end_matches('0')
                    .trim_end_matches('.')
            ),
            b.pooling,
            b.hidden,
            b.gate,
            if b.residual {
                ", residual add fused"
            } else {
                ""
            }
        );
    }

    outln!("\nFusions applied:");
    let f = &i.fusions;
    for (count, what) in [
        (f.constants_folded, "nodes folded into constants"),
        (f.identities_removed, "identity / dropout nodes removed"),
        (
            f.activations_recognized,
            "spelled-out activations recognised",
        ),
        (f.batch_norms_folded, "batch norms folded into convolutions"),
        (f.batch_norms_lowered, "batch norms run as multiply-add"),
        (f.gemms_lowered, "Gemm nodes lowered to MatMul + bias"),
        (f.affine_folded, "per-channel affine ops folded"),
        (f.activations_fused, "activations fused into the op before"),
        (f.se_blocks, "SE blocks fused (squeeze, excite, scale)"),
        (f.residuals_fused, "residual adds fused"),
        (f.dead_nodes_removed, "unused nodes removed"),
    ] {
        if count > 0 {
            outln!("  {count:>4}  {what}");
        }
    }

    if !args.brief {
        let total = i.macs.max(1) as f64;
        let w = name_width(i.layers.iter().map(|l| l.name.as_str()));
        outln!("\nLayers:");
        let strategies = match strategies(cli, &model, i.batch.unwrap_or(1)) {
            Ok((on, strategies)) => {
                outln!("  kernel strategies on {on}");
                strategies
            }
            Err(e) => {
                outln!("  kernel strategies not shown: {}", error_line(&e));
                Vec::new()
            }
        };
        let head = if strategies.is_empty() {
            ""
        } else {
            "  strategy"
        };
        let header = layer_columns("#", "name", "op", w);
        outln!("{header} {:<18} {:>9} {:>6}{head}", "output", "MACs", "%");
        for (n, l) in i.layers.iter().enumerate() {
            let strategy = strategies
                .get(n)
                .map_or(String::new(), |s| format!("  {s}"));
            outln!(
                "{} {:<18} {:>9} {:>5.1}%{strategy}",
                layer_columns(n, &l.name, &l.op, w),
                format!("{:?}", l.output),
                fmt_count(l.macs as f64),
                l.macs as f64 / total * 100.0
            );
        }
    }

    outln!("\nMetadata:");
    if i.metadata.is_empty() {
        outln!("  (none)");
    }
    for (k, v) in &i.metadata {
        let v = if v.chars().count() > 100 {
            format!("{}...", v.chars().take(100).collect::<String>())
        } else {
            v.clone()
        };
        outln!("  {k} = {v}");
    }
    let image_input = matches!(&i.inputs[..], [input] if input.shape.len() == 4);
    match Preprocess::from_metadata(&i.metadata) {
        Ok(_) if !image_input => {}
        Ok(p) => {
            let labels = preprocess::labels_from_metadata(&i.metadata)
                .map(|l| l.map_or("none".into(), |l| format!("{} classes", l.len())))
                .unwrap_or_else(|e| format!("invalid: {e}"));
            outln!(
                "  -> images: size {}, channels {}, scale {}, mean {:?}, std {:?}, invert {}; labels: {labels}",
                p.size
                    .map_or("from the input shape".into(), |[h, w]| format!("{h}x{w}")),
                p.channels
                    .map_or("from the input shape".into(), |c| c.to_string()),
                p.scale,
                p.mean,
                p.std,
                p.invert
            );
        }
        Err(e) => outln!("  -> invalid preprocessing metadata: {e}"),
    }
    outln!("\nUnsupported: none");
    Ok(Outcome::Done)
}
