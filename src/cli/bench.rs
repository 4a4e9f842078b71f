//! `se-runtime bench`: end-to-end latency and throughput of a model, and where the GPU
//! time goes, layer by layer, when the adapter has timestamp queries.

use std::time::Instant;

use anyhow::Result;
use se_runtime::HostTensor;

use super::model::{self, ModelArgs};
use super::{Cli, Outcome, fmt_count};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// Images per run (a model that fixes its batch size uses its own)
    #[arg(long, short, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    batch: u32,
    /// Timed runs
    #[arg(long, default_value_t = 30, value_name = "K",
          value_parser = clap::value_parser!(u32).range(1..))]
    iters: u32,
    /// Untimed runs first (pipeline compilation, driver caches)
    #[arg(long, default_value_t = 3, value_name = "W")]
    warmup: u32,
}

pub fn run(cli: &Cli, args: &Args) -> Result<Outcome> {
    let loaded = args.model.load()?;
    let batch = model::batch_size(&loaded, args.batch as usize);
    let info = loaded.model.info();
    let rt = cli.runtime()?;
    let session = model::session(&rt, &loaded, batch)?;

    // Deterministic inputs in [-1, 1): the timing does not depend on the values.
    let inputs: Vec<(String, HostTensor)> = info
        .inputs
        .iter()
        .map(|i| {
            let shape = [&[batch], &i.shape[1..]].concat();
            let n = shape.iter().product();
            let data = (0..n)
                .map(|k| ((k * 7919 % 2000) as f32 / 1000.0) - 1.0)
                .collect();
            Ok((i.name.clone(), HostTensor::new(&shape, data)?))
        })
        .collect::<Result<_>>()?;
    let feed: Vec<(&str, HostTensor)> = inputs
        .iter()
        .map(|(n, t)| (n.as_str(), t.clone()))
        .collect();

    let a = rt.adapter_info();
    println!(
        "{}: batch {batch}, {} MACs per image, on {} ({:?})",
        loaded.name,
        fmt_count(info.macs as f64 / info.batch.unwrap_or(1) as f64),
        a.name,
        a.backend
    );
    for _ in 0..args.warmup {
        model::infer(&session, &feed)?;
    }
    let mut ms: Vec<f64> = (0..args.iters)
        .map(|_| {
            let t = Instant::now();
            model::infer(&session, &feed)?;
            Ok(t.elapsed().as_secs_f64() * 1e3)
        })
        .collect::<Result<_>>()?;
    ms.sort_by(f64::total_cmp);
    let (p10, median, p90) = (
        percentile(&ms, 0.1),
        percentile(&ms, 0.5),
        percentile(&ms, 0.9),
    );
    println!(
        "latency over {} runs ({} warm-up; upload, run, read back): median {median:.3} ms, p10 {p10:.3} ms, p90 {p90:.3} ms",
        args.iters, args.warmup
    );
    println!("throughput: {:.1} images/s", batch as f64 / median * 1e3);

    if !rt.has_timestamps() {
        println!("\nper-layer times: this adapter has no TIMESTAMP_QUERY feature");
        return Ok(Outcome::Done);
    }
    let runs = args.iters.clamp(1, 10) as usize;
    let layers = model::profile(&session, &feed, runs)?;
    let total: f64 = layers.iter().map(|l| l.ms).sum();
    println!(
        "\nGPU time per layer (timestamp queries, median of {runs} runs): {total:.3} ms in all"
    );
    println!(
        "  {:>3}  {:<32} {:<22} {:>9} {:>6}",
        "#", "layer", "op", "ms", "%"
    );
    for (n, l) in layers.iter().enumerate() {
        println!(
            "  {:>3}  {:<32} {:<22} {:>9.4} {:>5.1}%",
            n,
            l.name,
            l.op,
            l.ms,
            l.ms / total * 100.0
        );
    }
    let se: Vec<_> = layers.iter().filter(|l| l.se_block).collect();
    let se_ms: f64 = se.iter().map(|l| l.ms).sum();
    println!(
        "SE blocks: {} blocks, {se_ms:.3} ms = {:.1}% of the GPU time",
        se.len(),
        se_ms / total * 100.0
    );
    Ok(Outcome::Done)
}

/// The value at fraction `q` of sorted `v`, linearly interpolated.
fn percentile(v: &[f64], q: f64) -> f64 {
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&v, 0.5), 3.0);
        assert_eq!(percentile(&v, 0.1), 1.4);
        assert_eq!(percentile(&v, 0.9), 4.6);
        assert_eq!(percentile(&[7.0], 0.9), 7.0);
    }
}
