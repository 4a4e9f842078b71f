//! The main job until the CLI exists: one Squeeze-and-Excitation block (C = 64, r = 16,
//! average pooling, sigmoid gate, seeded weights) on the GPU, printing the excitation
//! weights it gives each image and checking them against the CPU reference.
//!
//! `cargo run --release --example se_block`
//! (`SE_RUNTIME_BACKEND` / `SE_RUNTIME_ADAPTER` pick the adapter.)

use std::time::Instant;

use se_runtime::tensor::HostTensor;
use se_runtime::{Activation, Runtime, SeBlock, SqueezeMode, cpu};

const C: usize = 64;
const REDUCTION: usize = 16;
const SIDE: usize = 32;
const SEED: u64 = 2024;
const WARM_RUNS: usize = 10;

/// A batch of two images whose channels carry different energies, so the squeeze
/// (and hence the excitation) differs visibly per channel and per image:
/// image 0 ramps from quiet to loud over the channels, image 1 has every 8th channel
/// loud and the rest quiet. Each plane is a smooth positive pattern scaled by that energy.
fn input() -> (HostTensor, [&'static str; 2]) {
    let energy = |n: usize, c: usize| match n {
        0 => 0.05 + 1.95 * c as f32 / (C - 1) as f32,
        _ if c.is_multiple_of(8) => 2.0,
        _ => 0.2,
    };
    let mut data = Vec::with_capacity(2 * C * SIDE * SIDE);
    for n in 0..2 {
        for c in 0..C {
            for h in 0..SIDE {
                for w in 0..SIDE {
                    let pattern =
                        1.0 + 0.5 * (0.3 * h as f32 + c as f32).sin() * (0.2 * w as f32).cos();
                    data.push(energy(n, c) * pattern);
                }
            }
        }
    }
    let x = HostTensor::new(&[2, C, SIDE, SIDE], data).expect("input shape");
    (
        x,
        ["channel energy ramps up with c", "every 8th channel loud"],
    )
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn print_excitation(e: &[f32], item: usize, about: &str) {
    let row = &e[item * C..(item + 1) * C];
    println!("\nimage {item} ({about}): excitation per channel");
    for (start, chunk) in row.chunks(8).enumerate().map(|(i, ch)| (i * 8, ch)) {
        let values: Vec<String> = chunk.iter().map(|v| format!("{v:.3}")).collect();
        println!(
            "  c{:>2}-{:<2}  {}",
            start,
            start + chunk.len() - 1,
            values.join(" ")
        );
    }
    let (lo, hi) = row.iter().enumerate().fold((0, 0), |(lo, hi), (c, &v)| {
        (
            if v < row[lo] { c } else { lo },
            if v > row[hi] { c } else { hi },
        )
    });
    println!(
        "  lowest c{lo} = {:.3}, highest c{hi} = {:.3}, mean {:.3}",
        row[lo],
        row[hi],
        row.iter().sum::<f32>() / C as f32
    );
}

fn run() -> se_runtime::Result<bool> {
    let rt = pollster::block_on(Runtime::new())?;
    let info = rt.adapter_info();
    println!(
        "adapter: {} ({:?}, {:?}, driver {} {})",
        info.name, info.backend, info.device_type, info.driver, info.driver_info
    );

    let block = SeBlock::new(C, REDUCTION, SqueezeMode::Avg, Activation::Sigmoid, SEED)?;
    println!(
        "SE block: C = {}, r = {REDUCTION} (hidden {}), {:?} pooling, {:?} hidden, {:?} gate, seed {SEED}",
        block.channels, block.reduced, block.pooling, block.hidden, block.gate
    );
    let (x, about) = input();
    println!("input: {:?} (N, C, H, W)", x.shape);

    let xt = rt.upload_host(&x)?;
    // One forward plus the readback of both outputs; the first also builds the pipelines.
    let forward = || -> se_runtime::Result<(Vec<f32>, Vec<f32>, f64)> {
        let t = Instant::now();
        let out = pollster::block_on(block.forward(&rt, &xt))?;
        let e = pollster::block_on(out.excitation.read(&rt))?;
        let y = pollster::block_on(out.output.read(&rt))?;
        Ok((e, y, t.elapsed().as_secs_f64() * 1e3))
    };
    let (e, y, cold_ms) = forward()?;
    let mut warm: Vec<f64> = (0..WARM_RUNS)
        .map(|_| forward().map(|r| r.2))
        .collect::<se_runtime::Result<_>>()?;
    warm.sort_by(f64::total_cmp);

    for (item, about) in about.iter().enumerate() {
        print_excitation(&e, item, about);
    }

    println!(
        "\ntime (squeeze + excite + scale in one submission, plus readback): first {cold_ms:.2} ms (builds pipelines), then median {:.3} ms over {WARM_RUNS} runs",
        warm[WARM_RUNS / 2]
    );

    let t = Instant::now();
    let (want_y, want_e) = cpu::se_block::se_block(&block, &x)?;
    let cpu_ms = t.elapsed().as_secs_f64() * 1e3;
    let (de, dy) = (
        max_abs_diff(&e, &want_e.data),
        max_abs_diff(&y, &want_y.data),
    );
    println!(
        "CPU reference ({cpu_ms:.2} ms): max |gpu - cpu| excitation {de:.2e}, output {dy:.2e}"
    );
    let tolerance = |want: &[f32]| 1e-4 * want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    Ok(de <= tolerance(&want_e.data) && dy <= tolerance(&want_y.data))
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(true) => {
            println!("OK: GPU matches the CPU reference");
            std::process::ExitCode::SUCCESS
        }
        Ok(false) => {
            eprintln!("FAILED: GPU and CPU results differ beyond 1e-4 (relative)");
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
