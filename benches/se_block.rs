//! GPU time of each SE block kernel at the four SE-ResNet-50 stage shapes, batch 1 and
//! 8: the squeeze, then either the whole MLP in one workgroup per image (`excite`) and
//! `scale` (with the residual add and ReLU of SE-ResNet): "3 passes"; or the MLP's
//! layers as two passes over many workgroups (`excite_hidden`, `excite_gate`) before
//! `scale`: "4 passes", what plans run (`kernels::excite::se_block`). From
//! timestamp queries (each kernel in its own timed pass; median over ROUNDS rounds,
//! the kernels interleaved so load from other processes hits all of them alike).
//! Where the adapter has subgroups, the squeeze is also timed on its shared-memory
//! fallback, the path adapters without them take.
//!
//! `cargo bench --bench se_block`; under `cargo test` it only prints that it skipped.

use se_runtime::SqueezeMode;
use se_runtime::kernels::excite::{excite, excite_gate, excite_hidden};
use se_runtime::kernels::scale::scale;
use se_runtime::kernels::squeeze::{Strategy, squeeze, squeeze_with};
use se_runtime::{Activation, Runtime, Tensor};

const ROUNDS: usize = 15;

fn random(rt: &Runtime, shape: &[usize], seed: u32) -> Tensor {
    let len: usize = shape.iter().product();
    let data: Vec<f32> = (0..len)
        .map(|i| {
            ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) as f32 / 16_777_216.0
                - 0.5
        })
        .collect();
    rt.upload(shape, &data).expect("upload")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("se_block bench: skipped (run `cargo bench --bench se_block`)");
        return;
    }
    let rt = pollster::block_on(Runtime::new()).expect("a GPU adapter");
    let info = rt.adapter_info();
    println!("adapter: {} ({:?})", info.name, info.backend);
    if !rt.has_timestamps() {
        println!("no TIMESTAMP_QUERY feature: nothing to measure");
        return;
    }
    let subgroups = rt.features().contains(wgpu::Features::SUBGROUP);
    println!("GPU time in ms, median of {ROUNDS} rounds; subgroups: {subgroups}\n");
    println!(
        "{:<22} {:>9} {:>9} | {:>9} {:>9} {:>9} | {:>9} {:>9} {:>9}",
        "shape",
        "squeeze",
        "sq.shared",
        "excite",
        "scale",
        "3 passes",
        "hidden",
        "gate",
        "4 passes"
    );
    for batch in [1, 8] {
        for (c, hw) in [(256, 56), (512, 28), (1024, 14), (2048, 7)] {
            let r = c / 16;
            let x = random(&rt, &[batch, c, hw, hw], 1);
            let res = random(&rt, &[batch, c, hw, hw], 2);
            let s = rt.tensor(&[batch, c]).unwrap();
            let e = rt.tensor(&[batch, c]).unwrap();
            let y = rt.tensor(&[batch, c, hw, hw]).unwrap();
            let h = rt.tensor(&[batch, r]).unwrap();
            let (w1, b1) = (random(&rt, &[r, c], 3), random(&rt, &[r], 4));
            let (w2, b2) = (random(&rt, &[c, r], 5), random(&rt, &[c], 6));
            let tree = Strategy::tree(rt.profile(), [batch, c, hw, hw]);
            let kernels = [
                squeeze(&rt, &x, SqueezeMode::Avg, &s).unwrap(),
                squeeze_with(&rt, &x, SqueezeMode::Avg, tree, &s).unwrap(),
                excite(
                    &rt,
                    &s,
                    &w1,
                    &b1,
                    Activation::Relu,
                    &w2,
                    &b2,
                    Activation::Sigmoid,
                    &e,
                )
                .unwrap(),
                scale(&rt, &x, &e, Some(&res), Activation::Relu, &y).unwrap(),
                excite_hidden(&rt, &s, &w1, &b1, Activation::Relu, &h).unwrap(),
                excite_gate(&rt, &h, &w2, &b2, Activation::Sigmoid, &e).unwrap(),
            ];
            let groups: Vec<&[_]> = kernels.iter().map(std::slice::from_ref).collect();
            pollster::block_on(rt.submit_timed(&groups)).unwrap();
            let mut samples = vec![Vec::new(); kernels.len()];
            for _ in 0..ROUNDS {
                let ns = pollster::block_on(rt.submit_timed(&groups)).unwrap();
                for (s, t) in samples.iter_mut().zip(ns) {
                    s.push(t / 1e6);
                }
            }
            let ms: Vec<f64> = samples.into_iter().map(median).collect();
            println!(
                "{:<22} {:>9.3} {:>9.3} | {:>9.3} {:>9.3} {:>9.3} | {:>9.3} {:>9.3} {:>9.3}",
                format!("N={batch} C={c} {hw}x{hw}"),
                ms[0],
                ms[1],
                ms[2],
                ms[3],
                ms[0] + ms[2] + ms[3],
                ms[4],
                ms[5],
                ms[0] + ms[4] + ms[5] + ms[3]
            );
        }
    }
}
