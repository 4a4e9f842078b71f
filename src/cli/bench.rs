//! `se-runtime bench`: end-to-end latency and throughput of a model, and where the GPU
//! time goes, layer by layer, when the adapter has timestamp queries. With `--compare`
//! a second model runs alternately with the first (SE-ResNet-50 vs ResNet-50: the SE
//! blocks' cost, with the machine's noise spread over both); `--peak` measures the
//! adapter's best matmul GFLOP/s so each layer's GFLOP/s reads as a share of it;
//! `--json` prints everything as one JSON object (`tools/bench.sh` collects these).
//! On the CPU engine (`--backend cpu`, or the default without a hardware GPU) the
//! same measurements run in `bench/cpu.rs`, with wall-clock times per layer.

mod cpu;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use se_runtime::backend::Chosen;
use se_runtime::kernels::matmul::{Staging, Strategy, matmul_with};
use se_runtime::plan::{Loc, Operand};
use se_runtime::{Activation, HostTensor, Runtime, Session};
use serde_json::{Value, json};

use super::model::{self, Loaded, ModelArgs};
use super::{Cli, Outcome, fmt_bytes, fmt_count, layer_columns, name_width};

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
    /// A second model to run alternately with the first, at the same batch size
    /// (e.g. the same network without SE blocks); prints the time ratio
    #[arg(long, value_name = "M.onnx")]
    compare: Option<PathBuf>,
    /// Profiled runs for the per-layer table (default: timed runs, at most 10)
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..))]
    profile_runs: Option<u32>,
    /// Also measure the adapter's best matmul GFLOP/s (1024^3) and show each layer's
    /// GFLOP/s as a share of it
    #[arg(long)]
    peak: bool,
    /// Print one JSON object instead of the tables
    #[arg(long)]
    json: bool,
}

/// One plan step's measured GPU time and work.
struct Layer {
    name: String,
    op: String,
    ms: f64,
    macs: u64,
    se_block: bool,
    /// The kernel strategies the layer's dispatches run.
    strategy: String,
}

/// Bytes a session keeps on the device, from its plan.
struct Memory {
    /// Activation buffers after liveness sharing.
    activations: usize,
    /// What the activations would take with a buffer per value.
    unshared: usize,
    weights: usize,
    /// The readback buffer for the outputs and excitation vectors.
    staging: usize,
}

impl Memory {
    fn of(session: &Session) -> Memory {
        let plan = session.plan();
        let device = |o: &Operand| match o.loc {
            Loc::Buffer(_) => o.len() * 4,
            Loc::Const(_) => 0,
        };
        let staging = plan
            .outputs
            .iter()
            .map(|b| device(&b.operand))
            .sum::<usize>()
            + plan
                .excitations
                .iter()
                .map(|e| device(&e.operand))
                .sum::<usize>();
        Memory {
            activations: plan.buffer_bytes(),
            unshared: plan.unshared_elements * 4,
            weights: session.weight_bytes(),
            staging,
        }
    }

    fn total(&self) -> usize {
        self.activations + self.weights + self.staging
    }
}

/// A model under test: its session, inputs and measurements.
struct Subject {
    loaded: Loaded,
    session: Session,
    feed: Vec<(String, HostTensor)>,
    ms: Vec<f64>,
    layers: Vec<Layer>,
    /// Each layer's profiled times, ms.
    samples: Vec<Vec<f64>>,
    /// Each profiled run's GPU time, ms.
    gpu_runs: Vec<f64>,
}

impl Subject {
    fn new(rt: &Runtime, loaded: Loaded, batch: usize) -> Result<Subject> {
        let session = model::session(rt, &loaded, batch)?;
        let feed = feed(&loaded, batch)?;
        Ok(Subject {
            loaded,
            session,
            feed,
            ms: Vec::new(),
            layers: Vec::new(),
            samples: Vec::new(),
            gpu_runs: Vec::new(),
        })
    }

    fn feed(&self) -> Vec<(&str, HostTensor)> {
        self.feed
            .iter()
            .map(|(n, t)| (n.as_str(), t.clone()))
            .collect()
    }

    fn batch(&self) -> usize {
        self.session.plan().batch
    }

    /// Times one inference: upload, run, read back.
    fn time_once(&mut self) -> Result<()> {
        let feed = self.feed();
        let t = Instant::now();
        model::infer(&self.session, &feed)?;
        self.ms.push(t.elapsed().as_secs_f64() * 1e3);
        Ok(())
    }

    /// One profiled inference; each layer's time joins its earlier samples, and
    /// `layers` holds the medians so far.
    fn profile_once(&mut self) -> Result<()> {
        let feed = self.feed();
        let times = model::profile(&self.session, &feed, 1)?;
        self.gpu_runs.push(times.iter().map(|t| t.ms).sum());
        if self.layers.is_empty() {
            self.samples = vec![Vec::new(); times.len()];
            let strategies = model::step_strategies(&self.session);
            self.layers = times
                .iter()
                .zip(&self.session.plan().steps)
                .zip(strategies)
                .map(|((t, step), strategy)| Layer {
                    name: t.name.clone(),
                    op: t.op.clone(),
                    ms: 0.0,
                    macs: step.macs(),
                    se_block: t.se_block,
                    strategy,
                })
                .collect();
        }
        for ((layer, samples), t) in self.layers.iter_mut().zip(&mut self.samples).zip(times) {
            samples.push(t.ms);
            let mut sorted = samples.clone();
            sorted.sort_by(f64::total_cmp);
            layer.ms = sorted[sorted.len() / 2];
        }
        Ok(())
    }

    fn sorted_ms(&self) -> Vec<f64> {
        let mut ms = self.ms.clone();
        ms.sort_by(f64::total_cmp);
        ms
    }

    fn median(&self) -> f64 {
        percentile(&self.sorted_ms(), 0.5)
    }
}

/// Deterministic inputs in [-1, 1) for every input of `loaded` (the timing does not
/// depend on the values; `tools/bench_ort.py` feeds onnxruntime the same).
fn feed(loaded: &Loaded, batch: usize) -> Result<Vec<(String, HostTensor)>> {
    loaded
        .model
        .info()
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
        .collect()
}

/// The median over back-to-back run pairs of `x[i] / y[i]`.
fn paired_ratio(x: &[f64], y: &[f64]) -> Option<f64> {
    let mut r: Vec<f64> = x.iter().zip(y).map(|(p, q)| p / q).collect();
    r.sort_by(f64::total_cmp);
    (!r.is_empty()).then(|| percentile(&r, 0.5))
}

/// Conv and matmul steps: the layers whose GFLOP/s compares with the matmul peak.
fn is_gemm_like(l: &Layer) -> bool {
    !l.se_block && l.macs > 0
}

pub fn run(cli: &Cli, args: &Args) -> Result<Outcome> {
    let loaded = args.model.load()?;
    let batch = model::batch_size(&loaded, args.batch as usize);
    let choice = cli.backend()?;
    let rt = match choice.backend {
        Chosen::Gpu(rt) => rt,
        Chosen::Cpu(engine) => return cpu::run(args, loaded, batch, &engine, &choice.reason),
    };
    let mut subjects = vec![Subject::new(&rt, loaded, batch)?];
    if let Some(path) = &args.compare {
        let other = model::load_file(path)?;
        let b = model::batch_size(&other, batch);
        subjects.push(Subject::new(&rt, other, b)?);
    }

    for s in subjects.iter_mut() {
        for _ in 0..args.warmup {
            model::infer(&s.session, &s.feed())?;
        }
    }
    // Alternating runs: a slow spell of the machine hits both models alike.
    for _ in 0..args.iters {
        for s in subjects.iter_mut() {
            s.time_once()?;
        }
    }
    let runs = args.profile_runs.map_or(args.iters.clamp(1, 10), |r| r) as usize;
    if rt.has_timestamps() {
        for _ in 0..runs {
            for s in subjects.iter_mut() {
                s.profile_once()?;
            }
        }
    }
    let peak = if args.peak {
        Some(matmul_peak(&rt).context("measuring the matmul peak")?)
    } else {
        None
    };

    if args.json {
        let a = rt.adapter_info();
        let out = json!({
            "backend": {"name": "gpu", "reason": choice.reason},
            "adapter": {
                "name": a.name,
                "driver": a.driver,
                "driver_info": a.driver_info,
                "backend": format!("{:?}", a.backend),
                "device_type": format!("{:?}", a.device_type),
                "class": rt.profile().class.to_string(),
                "timestamps": rt.has_timestamps(),
                "subgroups": rt.features().contains(wgpu::Features::SUBGROUP),
                "shader_f16": rt.features().contains(wgpu::Features::SHADER_F16),
            },
            "iters": args.iters,
            "warmup": args.warmup,
            "profile_runs": if rt.has_timestamps() { runs } else { 0 },
            "matmul_peak": peak.map(|p| json!({"gflops": p.gflops, "shape": [1024, 1024, 1024], "staging": p.staging})),
            "models": subjects.iter().map(|s| subject_json(s, peak.map(|p| p.gflops))).collect::<Vec<_>>(),
            "paired": paired(&subjects).map(|(lat, gpu)| json!({"latency_ratio_median": lat, "gpu_ratio_median": gpu})),
        });
        outln!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(Outcome::Done);
    }

    outln!("backend: gpu ({})", choice.reason);
    if let Some(p) = peak {
        outln!(
            "best matmul on this adapter: {:.2} GFLOP/s (1024x1024x1024, {} staging)",
            p.gflops,
            p.staging
        );
    }
    for (i, s) in subjects.iter().enumerate() {
        if i > 0 {
            outln!("");
        }
        print_subject(&rt, s, args, runs, peak.map(|p| p.gflops))?;
    }
    if let [a, b] = &subjects[..] {
        outln!(
            "\n{} / {}: {:.3}x the median latency (alternating runs)",
            a.loaded.name,
            b.loaded.name,
            a.median() / b.median()
        );
        if !a.layers.is_empty() {
            let gpu = |s: &Subject| s.layers.iter().map(|l| l.ms).sum::<f64>();
            outln!("  and {:.3}x the GPU time", gpu(a) / gpu(b));
        }
        if let Some((lat, gpu)) = paired(&subjects) {
            outln!(
                "  median ratio of back-to-back runs: {lat:.3}x the latency{}",
                gpu.map_or(String::new(), |g| format!(", {g:.3}x the GPU time"))
            );
        }
    }
    Ok(Outcome::Done)
}

/// With two subjects: the median over back-to-back run pairs of the first's time over
/// the second's, for latency and (when profiled) GPU time. Pairing cancels the slow
/// drifts of a shared machine that separate medians keep.
fn paired(subjects: &[Subject]) -> Option<(f64, Option<f64>)> {
    let [a, b] = subjects else {
        return None;
    };
    Some((
        paired_ratio(&a.ms, &b.ms)?,
        paired_ratio(&a.gpu_runs, &b.gpu_runs),
    ))
}

fn print_subject(
    rt: &Runtime,
    s: &Subject,
    args: &Args,
    runs: usize,
    peak: Option<f64>,
) -> Result<()> {
    let info = s.loaded.model.info();
    let batch = s.batch();
    let a = rt.adapter_info();
    outln!(
        "{}: batch {batch}, {} MACs per image, on {} ({:?})",
        s.loaded.name,
        fmt_count(info.macs as f64 / info.batch.unwrap_or(1) as f64),
        a.name,
        a.backend
    );
    let ms = s.sorted_ms();
    let (p10, median, p90) = (
        percentile(&ms, 0.1),
        percentile(&ms, 0.5),
        percentile(&ms, 0.9),
    );
    outln!(
        "latency over {} runs ({} warm-up; upload, run, read back): median {median:.3} ms, p10 {p10:.3} ms, p90 {p90:.3} ms",
        args.iters,
        args.warmup
    );
    outln!("throughput: {:.1} images/s", batch as f64 / median * 1e3);
    let m = Memory::of(&s.session);
    outln!(
        "GPU memory: {} = activations {} (liveness-shared; {} with a buffer per value) + weights {} + readback {}",
        fmt_bytes(m.total() as u64),
        fmt_bytes(m.activations as u64),
        fmt_bytes(m.unshared as u64),
        fmt_bytes(m.weights as u64),
        fmt_bytes(m.staging as u64)
    );

    if s.layers.is_empty() {
        outln!("\nper-layer times: this adapter has no TIMESTAMP_QUERY feature");
        return Ok(());
    }
    let total: f64 = s.layers.iter().map(|l| l.ms).sum();
    let w = name_width(s.layers.iter().map(|l| l.name.as_str()));
    outln!("\nGPU time per layer (timestamp queries, median of {runs} runs): {total:.3} ms in all");
    let peak_head = if peak.is_some() { "  % peak" } else { "" };
    let header = layer_columns("#", "layer", "op", w);
    outln!(
        "{header} {:>9} {:>6} {:>8}{peak_head}  strategy",
        "ms",
        "%",
        "GFLOP/s"
    );
    for (n, l) in s.layers.iter().enumerate() {
        let gflops = gflops(l);
        let rate = if is_gemm_like(l) {
            format!("{gflops:8.2}")
        } else {
            String::new()
        };
        let share = match peak {
            Some(p) if is_gemm_like(l) => format!("  {:5.1}%", gflops / p * 100.0),
            // Blank under the heading, so the strategies line up.
            Some(_) => " ".repeat(peak_head.len()),
            None => String::new(),
        };
        outln!(
            "{} {:>9.4} {:>5.1}% {rate:>8}{share}  {}",
            layer_columns(n, &l.name, &l.op, w),
            l.ms,
            l.ms / total * 100.0,
            l.strategy
        );
    }
    let se: Vec<_> = s.layers.iter().filter(|l| l.se_block).collect();
    if se.is_empty() {
        outln!("SE blocks: none");
        return Ok(());
    }
    let se_ms: f64 = se.iter().map(|l| l.ms).sum();
    outln!(
        "SE blocks: {} blocks, {se_ms:.3} ms = {:.1}% of the GPU time",
        se.len(),
        se_ms / total * 100.0
    );
    Ok(())
}

/// A layer's achieved GFLOP/s (2 FLOPs per multiply-accumulate).
fn gflops(l: &Layer) -> f64 {
    if l.ms > 0.0 {
        2.0 * l.macs as f64 / (l.ms * 1e6)
    } else {
        0.0
    }
}

fn subject_json(s: &Subject, peak: Option<f64>) -> Value {
    let info = s.loaded.model.info();
    let ms = s.sorted_ms();
    let m = Memory::of(&s.session);
    let total: f64 = s.layers.iter().map(|l| l.ms).sum();
    let se_ms: f64 = s.layers.iter().filter(|l| l.se_block).map(|l| l.ms).sum();
    json!({
        "name": s.loaded.name,
        "batch": s.batch(),
        "macs": s.session.plan().macs(),
        "se_blocks": info.se_blocks.len(),
        "dispatches": s.session.dispatch_count(),
        "latency_ms": {
            "runs": ms.len(),
            "median": percentile(&ms, 0.5),
            "p10": percentile(&ms, 0.1),
            "p90": percentile(&ms, 0.9),
            "all": s.ms,
        },
        "memory_bytes": {
            "activations": m.activations,
            "activations_unshared": m.unshared,
            "weights": m.weights,
            "staging": m.staging,
            "total": m.total(),
        },
        "gpu_ms": total,
        "se_ms": se_ms,
        "layers": s.layers.iter().map(|l| json!({
            "name": l.name,
            "op": l.op,
            "ms": l.ms,
            "macs": l.macs,
            "se_block": l.se_block,
            "strategy": l.strategy,
            "gflops": if is_gemm_like(l) { Some(gflops(l)) } else { None },
            "peak_share": match peak { Some(p) if is_gemm_like(l) => Some(gflops(l) / p), _ => None },
        })).collect::<Vec<_>>(),
    })
}

#[derive(Clone, Copy)]
struct Peak {
    gflops: f64,
    staging: &'static str,
}

/// The best GFLOP/s of the runtime's matmul kernel on a 1024^3 product, over both tile
/// stagings: the adapter's demonstrated peak for this runtime's GEMM code.
fn matmul_peak(rt: &Runtime) -> Result<Peak> {
    const N: usize = 1024;
    let data: Vec<f32> = (0..N * N)
        .map(|i| ((i * 7919 % 2000) as f32 / 1000.0) - 1.0)
        .collect();
    let a = rt.upload(&[N, N], &data)?;
    let b = rt.upload(&[N, N], &data)?;
    let out = rt.tensor(&[N, N])?;
    let flops = 2.0 * (N * N * N) as f64;
    let mut best = Peak {
        gflops: 0.0,
        staging: "",
    };
    for (staging, name) in [
        (Staging::Direct, "direct"),
        (Staging::Workgroup, "workgroup"),
    ] {
        let strategy = Strategy::with_staging(rt.profile(), staging, N, N)?;
        let d = matmul_with(rt, strategy, &a, &b, None, Activation::Identity, &out)?;
        let time = |n: usize| -> Result<f64> {
            let t = Instant::now();
            rt.submit(std::iter::repeat_n(&d, n));
            rt.wait()?;
            Ok(t.elapsed().as_secs_f64())
        };
        time(1)?;
        // Best of three single runs: the least disturbed by other work on the machine.
        let mut secs = f64::INFINITY;
        for _ in 0..3 {
            secs = secs.min(time(1)?);
        }
        let gflops = flops / secs / 1e9;
        if gflops > best.gflops {
            best = Peak {
                gflops,
                staging: name,
            };
        }
    }
    Ok(best)
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
