//! `se-runtime bench` on the CPU engine: the latency of whole runs (alternating with
//! `--compare`'s model), then each plan step's wall time, the median of the profiled
//! runs, with the kernel that ran it. `--peak` has no CPU meaning and is ignored.

use std::time::Instant;

use anyhow::{Context, Result};
use se_runtime::HostTensor;
use se_runtime::backend::{CpuEngine, EngineSession};
use serde_json::json;

use super::super::model::{self, Loaded};
use super::super::{Outcome, fmt_bytes, fmt_count, layer_columns, name_width};
use super::{Args, feed, paired_ratio, percentile};

/// A model under test on the engine.
struct Subject {
    loaded: Loaded,
    session: EngineSession,
    feed: Vec<(String, HostTensor)>,
    ms: Vec<f64>,
    /// Each step's profiled times, ms.
    steps: Vec<Vec<f64>>,
}

impl Subject {
    fn new(engine: &CpuEngine, loaded: Loaded, batch: usize) -> Result<Subject> {
        let session = EngineSession::new(engine, &loaded.model, batch)
            .with_context(|| format!("{}: batch {batch}", loaded.name))?;
        let feed = feed(&loaded, batch)?;
        Ok(Subject {
            steps: vec![Vec::new(); session.plan().steps.len()],
            loaded,
            session,
            feed,
            ms: Vec::new(),
        })
    }

    fn feed(&self) -> Vec<(&str, HostTensor)> {
        self.feed
            .iter()
            .map(|(n, t)| (n.as_str(), t.clone()))
            .collect()
    }

    fn time_once(&mut self) -> Result<()> {
        let feed = self.feed();
        let t = Instant::now();
        model::infer(&self.session, &feed)?;
        self.ms.push(t.elapsed().as_secs_f64() * 1e3);
        Ok(())
    }

    fn profile_once(&mut self) -> Result<()> {
        let times = self.session.profile(&self.feed())?;
        for (samples, t) in self.steps.iter_mut().zip(times) {
            samples.push(t);
        }
        Ok(())
    }

    fn sorted_ms(&self) -> Vec<f64> {
        let mut ms = self.ms.clone();
        ms.sort_by(f64::total_cmp);
        ms
    }

    /// Each step's median profiled time, ms.
    fn step_ms(&self) -> Vec<f64> {
        self.steps
            .iter()
            .map(|s| {
                let mut s = s.clone();
                s.sort_by(f64::total_cmp);
                s.get(s.len() / 2).copied().unwrap_or(0.0)
            })
            .collect()
    }

    fn json(&self) -> serde_json::Value {
        let ms = self.sorted_ms();
        let plan = self.session.plan();
        let kernels = self.session.step_kernels();
        let layers: Vec<_> = plan
            .steps
            .iter()
            .zip(self.step_ms())
            .zip(&kernels)
            .map(|((step, ms), kernel)| {
                let gflops = (ms > 0.0 && step.macs() > 0).then(|| 2.0 * step.macs() as f64 / (ms * 1e6));
                json!({"name": step.name, "op": step.label, "ms": ms, "macs": step.macs(), "kernel": kernel, "gflops": gflops})
            })
            .collect();
        json!({
            "name": self.loaded.name,
            "batch": plan.batch,
            "macs": plan.macs(),
            "se_blocks": self.loaded.model.info().se_blocks.len(),
            "steps": plan.steps.len(),
            "fast_steps": self.session.fast_steps(),
            "latency_ms": {
                "runs": ms.len(),
                "median": percentile(&ms, 0.5),
                "p10": percentile(&ms, 0.1),
                "p90": percentile(&ms, 0.9),
                "all": self.ms,
            },
            "memory_bytes": {
                "activations": plan.buffer_bytes(),
                "activations_unshared": plan.unshared_elements * 4,
                "weights": self.session.weight_bytes(),
            },
            "layers": layers,
        })
    }
}

pub fn run(
    args: &Args,
    loaded: Loaded,
    batch: usize,
    engine: &CpuEngine,
    reason: &str,
) -> Result<Outcome> {
    let mut subjects = vec![Subject::new(engine, loaded, batch)?];
    if let Some(path) = &args.compare {
        let other = model::load_file(path)?;
        let b = model::batch_size(&other, batch);
        subjects.push(Subject::new(engine, other, b)?);
    }
    for s in subjects.iter_mut() {
        for _ in 0..args.warmup {
            model::infer(&s.session, &s.feed())?;
        }
    }
    for _ in 0..args.iters {
        for s in subjects.iter_mut() {
            s.time_once()?;
        }
    }
    let runs = args.profile_runs.map_or(args.iters.clamp(1, 10), |r| r) as usize;
    for _ in 0..runs {
        for s in subjects.iter_mut() {
            s.profile_once()?;
        }
    }
    let ratio = match &subjects[..] {
        [a, b] => paired_ratio(&a.ms, &b.ms),
        _ => None,
    };
    if args.json {
        let out = json!({
            "backend": {"name": "cpu", "threads": engine.threads(), "reason": reason},
            "iters": args.iters,
            "warmup": args.warmup,
            "profile_runs": runs,
            "models": subjects.iter().map(Subject::json).collect::<Vec<_>>(),
            "paired": ratio.map(|r| json!({"latency_ratio_median": r})),
        });
        outln!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(Outcome::Done);
    }
    outln!(
        "backend: cpu engine, {} threads ({reason})",
        engine.threads()
    );
    for s in &subjects {
        print(s, args, runs)?;
    }
    if let (Some(r), [a, b]) = (ratio, &subjects[..]) {
        outln!(
            "\n{} / {}: median ratio of back-to-back runs {r:.3}x the latency",
            a.loaded.name,
            b.loaded.name
        );
    }
    Ok(Outcome::Done)
}

fn print(s: &Subject, args: &Args, runs: usize) -> Result<()> {
    let plan = s.session.plan();
    let ms = s.sorted_ms();
    outln!(
        "\n{}: batch {}, {} MACs per image, {} of {} steps on engine kernels",
        s.loaded.name,
        plan.batch,
        fmt_count(plan.macs() as f64 / plan.batch as f64),
        s.session.fast_steps(),
        plan.steps.len()
    );
    let median = percentile(&ms, 0.5);
    outln!(
        "latency over {} runs ({} warm-up): median {median:.3} ms, p10 {:.3} ms, p90 {:.3} ms",
        args.iters,
        args.warmup,
        percentile(&ms, 0.1),
        percentile(&ms, 0.9)
    );
    outln!(
        "throughput: {:.1} images/s",
        plan.batch as f64 / median * 1e3
    );
    outln!(
        "memory: activations {} (liveness-shared), weights {}",
        fmt_bytes(plan.buffer_bytes() as u64),
        fmt_bytes(s.session.weight_bytes() as u64)
    );
    let times = s.step_ms();
    let total: f64 = times.iter().sum();
    let w = name_width(plan.steps.iter().map(|st| st.name.as_str()));
    outln!("\nwall time per step (median of {runs} runs): {total:.3} ms in all");
    let header = layer_columns("#", "layer", "op", w);
    outln!("{header} {:>9} {:>6} {:>8}  kernel", "ms", "%", "GFLOP/s");
    for (n, ((step, ms), kernel)) in plan
        .steps
        .iter()
        .zip(&times)
        .zip(s.session.step_kernels())
        .enumerate()
    {
        let rate = if step.macs() > 0 && *ms > 0.0 {
            format!("{:8.2}", 2.0 * step.macs() as f64 / (ms * 1e6))
        } else {
            String::new()
        };
        outln!(
            "{} {ms:>9.4} {:>5.1}% {rate:>8}  {kernel}",
            layer_columns(n, &step.name, &step.label, w),
            ms / total * 100.0
        );
    }
    Ok(())
}
