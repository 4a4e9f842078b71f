//! Loads an ONNX model, prints what the compiler made of it, runs it on the GPU (or
//! the CPU with `--cpu`) on a deterministic pseudo-random input, and prints the
//! outputs and every SE block's excitation statistics.
//!
//! ```sh
//! cargo run --release --example onnx_run -- model.onnx [--batch N] [--cpu] [--runs K]
//!     [--shape INPUT=1,3,48,192]
//! ```
//! `--shape` fixes an input's symbolic image size (`CompileOptions::input_shapes`).

use std::time::Instant;

use se_runtime::{CompileOptions, CpuSession, HostTensor, Inference, Model, Runtime, Session};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mut path, mut batch, mut cpu, mut runs) = (None, 1, false, 5);
    let mut options = CompileOptions::default();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--shape" => {
                let spec = args.next().ok_or("--shape needs INPUT=D0,D1,...")?;
                let (name, dims) = spec
                    .split_once('=')
                    .ok_or("--shape needs INPUT=D0,D1,...")?;
                let dims = dims
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<Vec<usize>, _>>()?;
                options.input_shapes.push((name.to_string(), dims));
            }
            "--batch" => batch = args.next().ok_or("--batch needs a value")?.parse()?,
            "--runs" => runs = args.next().ok_or("--runs needs a value")?.parse()?,
            "--cpu" => cpu = true,
            p => path = Some(p.to_string()),
        }
    }
    let path = path.ok_or(
        "usage: onnx_run MODEL.onnx [--batch N] [--cpu] [--runs K] [--shape INPUT=D0,D1,..]",
    )?;

    let t = Instant::now();
    let model = Model::from_bytes_with(&std::fs::read(&path)?, options)?;
    let info = model.info();
    println!("loaded {path} in {:.1} ms ({})", ms(t), info.producer);
    println!(
        "opset {}, {} ONNX nodes -> {} steps, {} parameters, {:.2} GMACs per image",
        info.opset,
        info.onnx_nodes,
        info.layers.len(),
        info.parameters,
        info.macs as f64 / 1e9 / info.batch.unwrap_or(1) as f64
    );
    println!("fusions: {:?}", info.fusions);
    println!(
        "activations: {:.1} MiB in shared buffers ({:.1} MiB unshared), weights {:.1} MiB",
        mib(info.activation_bytes),
        mib(info.unshared_activation_bytes),
        mib(info.weight_bytes)
    );
    for (k, v) in &info.metadata {
        println!("metadata {k} = {v}");
    }
    for se in &info.se_blocks {
        println!(
            "SE block {}: {} channels, reduction {:.0}, {:?} pooling, hidden {:?}, gate {:?}{}",
            se.name,
            se.channels,
            se.reduction,
            se.pooling,
            se.hidden,
            se.gate,
            if se.residual { ", residual fused" } else { "" }
        );
    }

    let plan = model.plan(batch)?;
    let inputs: Vec<(String, HostTensor)> = plan
        .inputs
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let n: usize = b.operand.shape.iter().product();
            let data = (0..n)
                .map(|j| (((j * 7919 + i * 104729) % 2001) as f32 / 1000.0) - 1.0)
                .collect();
            (
                b.name.clone(),
                HostTensor::new(&b.operand.shape, data).expect("sized"),
            )
        })
        .collect();
    let named: Vec<(&str, HostTensor)> = inputs
        .iter()
        .map(|(n, t)| (n.as_str(), t.clone()))
        .collect();

    let rt;
    let inference: Inference = if cpu {
        let session = CpuSession::new(&model, batch)?;
        let t = Instant::now();
        let r = pollster::block_on(session.run(&named))?;
        println!("CPU inference (batch {batch}): {:.1} ms", ms(t));
        r
    } else {
        rt = pollster::block_on(Runtime::new())?;
        println!(
            "GPU: {} ({:?})",
            rt.adapter_info().name,
            rt.adapter_info().backend
        );
        let t = Instant::now();
        let session = Session::new(&rt, &model, batch)?;
        println!(
            "session with {} dispatches in {:.1} ms",
            session.dispatch_count(),
            ms(t)
        );
        let t = Instant::now();
        let mut r = pollster::block_on(session.run(&named))?;
        println!("first inference (batch {batch}): {:.1} ms", ms(t));
        let t = Instant::now();
        for _ in 0..runs {
            r = pollster::block_on(session.run(&named))?;
        }
        println!("mean of {runs} more: {:.1} ms", ms(t) / runs.max(1) as f64);
        r
    };
    for (name, t) in &inference.outputs {
        let head: Vec<String> = t.data.iter().take(6).map(|v| format!("{v:.4}")).collect();
        println!("output {name} {:?}: [{} ...]", t.shape, head.join(", "));
    }
    for e in &inference.excitations {
        let row = &e.values.data[..e.channels];
        let mean = row.iter().sum::<f32>() / e.channels as f32;
        let (lo, hi) = row
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        println!(
            "excitation {} (image 0): mean {mean:.3}, min {lo:.3}, max {hi:.3}",
            e.block
        );
    }
    Ok(())
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1 << 20) as f64
}
