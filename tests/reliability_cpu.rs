//! The soak and concurrency checks of tests/reliability.rs on the CPU backends (issue
//! 17): the CPU engine and the reference. 8 threads x 100 inferences sharing one session
//! give the serial run's results bit for bit; 2,000 inferences keep the resident memory
//! flat after a warm-up.

#[macro_use]
mod common;

use std::sync::Mutex;
use std::time::Instant;

use se_runtime::backend::{BackendSession, CpuEngine, EngineSession};
use se_runtime::{CpuSession, HostTensor, Model};

/// The fixture: a small SE-ResNet (3 SE blocks, 32x32 input).
const FIXTURE: &str = "se_resnet";

fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn fixture() -> Result<(Model, String), String> {
    common::fixture_model(FIXTURE)
}

fn input(model: &Model, seed: u64) -> HostTensor {
    common::model_input(model, 1, seed)
}

fn run(session: &impl BackendSession, name: &str, x: &HostTensor) -> Vec<u32> {
    common::bits(&pollster::block_on(session.run(&[(name, x.clone())])).unwrap())
}

fn threads_match_the_serial_run(backend: &str, session: &(impl BackendSession + Sync)) {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 100;
    let (model, name) = fixture().unwrap();
    let inputs: Vec<Vec<HostTensor>> = (0..THREADS)
        .map(|t| {
            (0..PER_THREAD)
                .map(|i| input(&model, (t * PER_THREAD + i) as u64))
                .collect()
        })
        .collect();
    let serial: Vec<Vec<Vec<u32>>> = inputs
        .iter()
        .map(|xs| xs.iter().map(|x| run(session, &name, x)).collect())
        .collect();
    let start = Instant::now();
    let threaded: Vec<Vec<Vec<u32>>> = std::thread::scope(|s| {
        let handles: Vec<_> = inputs
            .iter()
            .map(|xs| {
                let name = &name;
                s.spawn(move || xs.iter().map(|x| run(session, name, x)).collect::<Vec<_>>())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let secs = start.elapsed().as_secs_f64();
    let mismatches = serial
        .iter()
        .flatten()
        .zip(threaded.iter().flatten())
        .filter(|(a, b)| a != b)
        .count();
    assert_ne!(serial[0][0], serial[1][0], "inputs differ");
    common::report(&format!(
        "concurrency on the {backend}: {THREADS} threads x {PER_THREAD} inferences on one \
         session: {mismatches} of {} results differ from the serial run; {secs:.2} s threaded",
        THREADS * PER_THREAD
    ));
    assert_eq!(mismatches, 0);
}

fn rss_bytes() -> u64 {
    common::rss_bytes().unwrap_or(0)
}

fn memory_stays_flat(backend: &str, session: &impl BackendSession) {
    const RUNS: usize = 2000;
    const WARMUP: usize = 200;
    const RSS_BOUND: u64 = 16 << 20;
    let (model, name) = fixture().unwrap();
    let inputs: Vec<HostTensor> = (0..8).map(|i| input(&model, 500 + i)).collect();
    let (mut warm, mut max) = (0, 0);
    let start = Instant::now();
    for i in 0..RUNS {
        let r = pollster::block_on(session.run(&[(name.as_str(), inputs[i % 8].clone())]));
        assert!(r.unwrap().outputs[0].1.data.iter().all(|v| v.is_finite()));
        if i + 1 == WARMUP {
            warm = rss_bytes();
        }
        if i + 1 > WARMUP {
            max = max.max(rss_bytes());
        }
    }
    common::report(&format!(
        "soak on the {backend}: {RUNS} inferences in {:.1} s; RSS after {WARMUP}: {:.1} MiB, \
         max after: {:.1} MiB (growth {:+.2} MiB, bound {} MiB)",
        start.elapsed().as_secs_f64(),
        warm as f64 / 1048576.0,
        max as f64 / 1048576.0,
        (max as f64 - warm as f64) / 1048576.0,
        RSS_BOUND >> 20
    ));
    assert!(
        max.saturating_sub(warm) < RSS_BOUND,
        "RSS grew by {} bytes",
        max - warm
    );
}

fn engine(model: &Model) -> EngineSession {
    EngineSession::new(&CpuEngine::new(Some(2)).unwrap(), model, 1).unwrap()
}

#[test]
fn engine_threads_match_the_serial_run() {
    let _serial = serial();
    let (model, _) = require!(fixture());
    threads_match_the_serial_run("CPU engine", &engine(&model));
}

#[test]
fn reference_threads_match_the_serial_run() {
    let _serial = serial();
    let (model, _) = require!(fixture());
    threads_match_the_serial_run("CPU reference", &CpuSession::new(&model, 1).unwrap());
}

#[test]
fn engine_memory_stays_flat_over_2000_inferences() {
    let _serial = serial();
    let (model, _) = require!(fixture());
    memory_stays_flat("CPU engine", &engine(&model));
}

#[test]
fn reference_memory_stays_flat_over_2000_inferences() {
    let _serial = serial();
    let (model, _) = require!(fixture());
    memory_stays_flat("CPU reference", &CpuSession::new(&model, 1).unwrap());
}
