//! Reliability of the native runtime: sessions shared by threads, determinism, device
//! limits (forced small), device loss, out-of-memory requests, a failed submission,
//! and a 2,000-inference soak with bounded memory.
//!
//! The tests run one at a time (`serial()`): the soak samples the process's RSS, which
//! other tests running beside it would disturb, and each of them is heavy on lavapipe.

mod common;

use std::sync::Mutex;
use std::time::Instant;

use common::{bits, rss_bytes};
use se_runtime::Activation;
use se_runtime::kernels;
use se_runtime::{CpuSession, Error, HostTensor, Inference, LimitCaps, Model, Runtime, Session};

/// The fixture every test runs: a small SE-ResNet (3 SE blocks, 32x32 input).
const FIXTURE: &str = "se_resnet";

fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// The fixture model and its input name, or what is missing.
fn fixture() -> Result<(Model, String), String> {
    common::fixture_model(FIXTURE)
}

fn input(model: &Model, batch: usize, seed: u64) -> HostTensor {
    common::model_input(model, batch, seed)
}

fn run(session: &Session, name: &str, x: &HostTensor) -> Inference {
    pollster::block_on(session.run(&[(name, x.clone())])).unwrap()
}

const MIB: f64 = (1 << 20) as f64;

#[test]
fn runtime_and_session_are_shareable() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<Runtime>();
    send_sync::<Session>();

    let _serial = serial();
    let rt = require!(gpu);
    let (model, name) = require!(fixture());
    let x = input(&model, 1, 7);
    let session = Session::new(rt, &model, 1).unwrap();
    let here = bits(&run(&session, &name, &x));
    // The session owns its runtime handle: it outlives the borrow it was made from and
    // moves into another thread.
    let there = std::thread::spawn(move || bits(&run(&session, &name, &x)))
        .join()
        .unwrap();
    assert_eq!(here, there, "the same input on another thread");
}

#[test]
fn threads_sharing_a_session_match_the_serial_run() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 100;
    let _serial = serial();
    let rt = require!(gpu);
    let (model, name) = require!(fixture());
    let session = Session::new(rt, &model, 1).unwrap();
    let inputs: Vec<Vec<HostTensor>> = (0..THREADS)
        .map(|t| {
            (0..PER_THREAD)
                .map(|i| input(&model, 1, (t * PER_THREAD + i) as u64))
                .collect()
        })
        .collect();

    let start = Instant::now();
    let serial_bits: Vec<Vec<Vec<u32>>> = inputs
        .iter()
        .map(|xs| xs.iter().map(|x| bits(&run(&session, &name, x))).collect())
        .collect();
    let serial_s = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let threaded_bits: Vec<Vec<Vec<u32>>> = std::thread::scope(|s| {
        let handles: Vec<_> = inputs
            .iter()
            .map(|xs| {
                let (session, name) = (&session, &name);
                s.spawn(move || {
                    xs.iter()
                        .map(|x| bits(&run(session, name, x)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let threaded_s = start.elapsed().as_secs_f64();

    let mismatches = serial_bits
        .iter()
        .flatten()
        .zip(threaded_bits.iter().flatten())
        .filter(|(a, b)| a != b)
        .count();
    // Distinct inputs must give distinct results, or the comparison proves nothing.
    assert_ne!(serial_bits[0][0], serial_bits[1][0], "inputs differ");
    common::report(&format!(
        "concurrency: {THREADS} threads x {PER_THREAD} inferences on one session ({FIXTURE}, \
         batch 1): {mismatches} of {} results differ from the serial run (outputs and \
         excitations, bit for bit); wall {threaded_s:.2} s threaded, {serial_s:.2} s serial",
        THREADS * PER_THREAD
    ));
    assert_eq!(mismatches, 0);
}

#[test]
fn the_same_input_gives_bit_identical_results() {
    const GPU_RUNS: usize = 20;
    const CPU_RUNS: usize = 3;
    let _serial = serial();
    let (model, name) = require!(fixture());
    let rt = require!(gpu);
    let x = input(&model, 2, 42);
    let cpu = CpuSession::new(&model, 2).unwrap();
    let first = bits(&pollster::block_on(cpu.run(&[(name.as_str(), x.clone())])).unwrap());
    for i in 1..CPU_RUNS {
        let again = bits(&pollster::block_on(cpu.run(&[(name.as_str(), x.clone())])).unwrap());
        assert_eq!(first, again, "cpu run {i}");
    }

    let session = Session::new(rt, &model, 2).unwrap();
    let first = bits(&run(&session, &name, &x));
    // Other inputs in between must not leak into a later result.
    for i in 1..GPU_RUNS {
        run(&session, &name, &input(&model, 2, 1000 + i as u64));
        assert_eq!(first, bits(&run(&session, &name, &x)), "gpu run {i}");
    }
    // A second session of the same model computes the same bits.
    let other = Session::new(rt, &model, 2).unwrap();
    assert_eq!(first, bits(&run(&other, &name, &x)), "another session");
    common::report(&format!(
        "determinism: {GPU_RUNS} gpu runs and {CPU_RUNS} cpu runs of one input are \
         bit-identical ({} values each)",
        first.len()
    ));
}

#[test]
fn limit_caps_parse() {
    let caps = LimitCaps::parse(
        "max_storage_buffer_binding_size=65536, max_compute_workgroups_per_dimension=16",
    )
    .unwrap();
    assert_eq!(caps.max_storage_buffer_binding_size, Some(65536));
    assert_eq!(caps.max_compute_workgroups_per_dimension, Some(16));
    assert_eq!(caps.max_buffer_size, None);
    for bad in ["max_buffer_size", "max_buffer_size=big", "bogus=1"] {
        let e = LimitCaps::parse(bad).unwrap_err();
        assert!(e.to_string().contains("SE_RUNTIME_LIMITS"), "{bad}: {e}");
    }
}

#[test]
fn activations_over_the_binding_size_are_rejected_before_allocating() {
    const BINDING: u64 = 64 << 10;
    let _serial = serial();
    let rt = require!(
        gpu,
        limits = LimitCaps {
            max_storage_buffer_binding_size: Some(BINDING),
            ..Default::default()
        }
    );
    assert_eq!(rt.limits().max_storage_buffer_binding_size, BINDING);
    let (model, name) = require!(fixture());
    // One tensor exactly at the limit is fine; one value more is not.
    let at_limit = rt.tensor(&[(BINDING / 4) as usize]).unwrap();
    drop(at_limit);
    let before = rt.pool_stats();
    let e = rt.tensor(&[(BINDING / 4) as usize + 1]).unwrap_err();
    assert!(
        matches!(e, Error::LimitExceeded { limit, limit_name: "max_storage_buffer_binding_size", .. } if limit == BINDING),
        "{e}"
    );

    // Batch 4 of the model needs activation buffers over 64 KiB.
    let e = Session::new(&rt, &model, 4).unwrap_err();
    let Error::LimitExceeded {
        needed,
        limit,
        limit_name,
        ..
    } = &e
    else {
        panic!("expected LimitExceeded, got {e}");
    };
    assert_eq!(*limit_name, "max_storage_buffer_binding_size");
    assert_eq!(*limit, BINDING);
    assert!(*needed > BINDING, "{e}");
    let message = e.to_string();
    assert!(
        message.contains("max_storage_buffer_binding_size")
            && message.contains(&needed.to_string()),
        "{message}"
    );
    assert_eq!(rt.pool_stats(), before, "nothing was allocated");
    common::report(&format!("binding limit {BINDING}: {message}"));

    // The runtime goes on working: a batch that fits runs and matches the CPU.
    if let Ok(session) = Session::new(&rt, &model, 1) {
        let x = input(&model, 1, 3);
        let gpu = run(&session, &name, &x);
        let cpu = pollster::block_on(
            CpuSession::new(&model, 1)
                .unwrap()
                .run(&[(name.as_str(), x)]),
        )
        .unwrap();
        common::assert_close(
            "batch 1 logits",
            &gpu.outputs[0].1.data,
            &cpu.outputs[0].1.data,
        );
    }
}

#[test]
fn dispatches_over_the_workgroup_limit_are_tiled() {
    const MAX: u32 = 16;
    let _serial = serial();
    let rt = require!(
        gpu,
        limits = LimitCaps {
            max_compute_workgroups_per_dimension: Some(MAX),
            ..Default::default()
        }
    );
    let (model, name) = require!(fixture());
    assert_eq!(rt.limits().max_compute_workgroups_per_dimension, MAX);
    let over = |d: &se_runtime::device::Dispatch| {
        let wg = d.workgroups();
        assert!(wg.iter().all(|&n| n <= MAX), "{} {wg:?}", d.label);
        wg[0] * wg[1] * wg[2] > MAX
    };

    // Elementwise: 100 workgroups of 256 values, over 16 so split over x and y.
    let n = 256 * 100 - 5;
    let x = HostTensor::new(&[n], common::random(1, n, 4.0)).unwrap();
    let (gx, gy) = (rt.upload_host(&x).unwrap(), rt.tensor(&[n]).unwrap());
    let d = kernels::unary::unary(&rt, &gx, Activation::Relu, &gy).unwrap();
    assert!(over(&d), "unary: {:?}", d.workgroups());
    rt.run(&[d]).unwrap();
    let want = se_runtime::cpu::unary::unary(&x, Activation::Relu);
    common::assert_close("unary", &common::read(&rt, &gy), &want.data);

    // A matmul with many output tiles.
    let (m, k, nn) = (160, 24, 200);
    let a = HostTensor::new(&[m, k], common::random(2, m * k, 1.0)).unwrap();
    let b = HostTensor::new(&[k, nn], common::random(3, k * nn, 1.0)).unwrap();
    let (ga, gb, gc) = (
        rt.upload_host(&a).unwrap(),
        rt.upload_host(&b).unwrap(),
        rt.tensor(&[m, nn]).unwrap(),
    );
    let d = kernels::matmul::matmul(&rt, &ga, &gb, None, Activation::Identity, &gc).unwrap();
    let tiled = over(&d);
    rt.run(&[d]).unwrap();
    let want = se_runtime::cpu::matmul::matmul(&a, &b, None, Activation::Identity).unwrap();
    common::assert_close("matmul", &common::read(&rt, &gc), &want.data);

    // A 3x3 convolution and a depthwise one over a 2x8x40x40 input.
    let xs = [2, 8, 40, 40];
    let x = HostTensor::new(&xs, common::random(4, xs.iter().product(), 1.0)).unwrap();
    let gx = rt.upload_host(&x).unwrap();
    let mut convs = 0;
    for (groups, co) in [(1, 8), (8, 8)] {
        let ws = [co, 8 / groups, 3, 3];
        let w = HostTensor::new(&ws, common::random(5, ws.iter().product(), 0.3)).unwrap();
        let p = se_runtime::ops::Conv2dParams {
            padding: [1; 4],
            groups,
            ..Default::default()
        };
        let gy = rt.tensor(&[2, co, 40, 40]).unwrap();
        let d = kernels::conv2d::conv2d(
            &rt,
            &gx,
            &rt.upload_host(&w).unwrap(),
            None,
            None,
            &p,
            Activation::Identity,
            &gy,
        )
        .unwrap();
        convs += over(&d) as usize;
        rt.run(&[d]).unwrap();
        let want =
            se_runtime::cpu::conv2d::conv2d(&x, &w, None, None, &p, Activation::Identity).unwrap();
        common::assert_close(
            &format!("conv groups {groups}"),
            &common::read(&rt, &gy),
            &want.data,
        );
    }
    assert!(tiled || convs > 0, "some GEMM-like kernel needed tiling");

    // More than MAX x MAX workgroups cannot be tiled in two dimensions: a typed error
    // naming the limit, not a device validation failure.
    let n = 256 * (MAX * MAX) as usize + 1;
    let (gx, gy) = (rt.tensor(&[n]).unwrap(), rt.tensor(&[n]).unwrap());
    let Err(e) = kernels::unary::unary(&rt, &gx, Activation::Relu, &gy) else {
        panic!("{n} values in one unary dispatch should be over the limit");
    };
    assert!(
        e.to_string()
            .contains("max_compute_workgroups_per_dimension"),
        "{e}"
    );

    // The whole model, every kernel under the small limit, against the CPU executor.
    let x = input(&model, 2, 11);
    let session = Session::new(&rt, &model, 2).unwrap();
    let gpu = run(&session, &name, &x);
    let cpu = pollster::block_on(
        CpuSession::new(&model, 2)
            .unwrap()
            .run(&[(name.as_str(), x)]),
    )
    .unwrap();
    for ((n, g), (_, c)) in gpu.outputs.iter().zip(&cpu.outputs) {
        common::assert_close(n, &g.data, &c.data);
    }
    for (g, c) in gpu.excitations.iter().zip(&cpu.excitations) {
        common::assert_close(&g.block, &g.values.data, &c.values.data);
    }
    common::report(&format!(
        "workgroup limit {MAX}: unary, matmul, conv2d and {FIXTURE} ({} dispatches) match the CPU",
        session.dispatch_count()
    ));
}

#[test]
fn a_lost_device_gives_an_error_and_a_new_runtime_works() {
    let _serial = serial();
    let (model, name) = require!(fixture());
    let rt = require!(new gpu);
    let x = input(&model, 1, 5);
    let session = Session::new(&rt, &model, 1).unwrap();
    let before = bits(&run(&session, &name, &x));

    rt.device().destroy();
    for attempt in 0..2 {
        match pollster::block_on(session.run(&[(name.as_str(), x.clone())])) {
            Err(Error::DeviceLost { reason }) => common::report(&format!(
                "device loss, run {attempt}: DeviceLost ({reason})"
            )),
            other => panic!("run {attempt} after destroy: expected DeviceLost, got {other:?}"),
        }
    }
    assert!(matches!(
        Session::new(&rt, &model, 1),
        Err(Error::DeviceLost { .. })
    ));
    drop(session);
    drop(rt);

    let rt = pollster::block_on(Runtime::new()).unwrap();
    let session = Session::new(&rt, &model, 1).unwrap();
    assert_eq!(before, bits(&run(&session, &name, &x)), "after recreating");
}

#[test]
fn a_device_lost_during_runs_fails_them_with_device_lost() {
    const THREADS: usize = 4;
    let _serial = serial();
    let (model, name) = require!(fixture());
    let rt = require!(new gpu);
    let x = input(&model, 1, 17);
    let session = Session::new(&rt, &model, 1).unwrap();
    let want = bits(&run(&session, &name, &x));
    let session = std::sync::Arc::new(session);
    let (tx, rx) = std::sync::mpsc::channel();
    for _ in 0..THREADS {
        let (session, name, x, want, tx) = (
            session.clone(),
            name.clone(),
            x.clone(),
            want.clone(),
            tx.clone(),
        );
        std::thread::spawn(move || {
            let mut ok = 0usize;
            let outcome = loop {
                match pollster::block_on(session.run(&[(name.as_str(), x.clone())])) {
                    Ok(r) if bits(&r) == want => ok += 1,
                    Ok(_) => break Err("a result differs before the loss".to_string()),
                    Err(Error::DeviceLost { .. }) => break Ok(ok),
                    Err(e) => break Err(format!("expected DeviceLost, got {e:?}")),
                }
            };
            let _ = tx.send(outcome);
        });
    }
    drop(tx);
    // Destroy while the threads' runs are in flight (some have completed by then).
    std::thread::sleep(std::time::Duration::from_millis(300));
    rt.device().destroy();
    let mut completed = 0;
    for t in 0..THREADS {
        match rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(Ok(n)) => completed += n,
            Ok(Err(e)) => panic!("thread {t}: {e}"),
            Err(e) => panic!("a run hung after the device was destroyed: {e}"),
        }
    }
    common::report(&format!(
        "device destroyed under {THREADS} running threads: {completed} runs completed \
         correctly before, every thread then got DeviceLost"
    ));
}

#[test]
fn requests_far_over_memory_are_typed_errors() {
    let _serial = serial();
    let rt = require!(gpu);
    let (model, name) = require!(fixture());
    let session = Session::new(rt, &model, 1).unwrap();
    let x = input(&model, 1, 9);
    let before_bits = bits(&run(&session, &name, &x));
    let before = rt.pool_stats();

    // 64 GiB in one tensor, and a batch whose buffers are GiBs each while all its
    // activations stay under the planner's 2^31-element cap (batch 20,000 x 98,496).
    let e = rt.tensor(&[1 << 34]).unwrap_err();
    assert!(
        matches!(e, Error::LimitExceeded { .. } | Error::OutOfMemory { .. }),
        "{e}"
    );
    let e = Session::new(rt, &model, 20_000).unwrap_err();
    assert!(
        matches!(e, Error::LimitExceeded { .. } | Error::OutOfMemory { .. }),
        "{e}"
    );
    common::report(&format!("batch 20,000: {e}"));
    assert_eq!(
        rt.pool_stats(),
        before,
        "the failed requests allocated nothing"
    );
    assert_eq!(
        before_bits,
        bits(&run(&session, &name, &x)),
        "still working"
    );
}

#[test]
fn a_failed_submission_does_not_poison_the_pool() {
    let _serial = serial();
    let (model, name) = require!(fixture());
    let rt = require!(new gpu);
    let x = input(&model, 1, 13);
    let session = Session::new(&rt, &model, 1).unwrap();
    let want = bits(&run(&session, &name, &x));

    // A submission the device rejects: a kernel whose input buffer was destroyed. The
    // odd size keeps the destroyed buffer from being handed to anything else.
    rt.submit([&rejected_work(&rt, 1237)]);
    // The next run reports it (errors are checked after each submission) ...
    let e = pollster::block_on(session.run(&[(name.as_str(), x.clone())]));
    common::report(&format!(
        "run after a rejected submission: {:?}",
        e.as_ref().err()
    ));
    // ... and the runs after it work and give the same result: the staging buffer the
    // failed run had mapped did not go back to the pool mapped.
    for i in 0..3 {
        assert_eq!(
            want,
            bits(&run(&session, &name, &x)),
            "run {i} after the failure"
        );
    }
}

/// One-off work the device rejects: a kernel whose input buffer was destroyed. The pool
/// keeps buffers by size padded to 16 bytes: an `n` used once (4 apart) hands it to
/// nothing else.
fn rejected_work(rt: &Runtime, n: usize) -> se_runtime::device::Dispatch {
    let (gx, gy) = (rt.tensor(&[n]).unwrap(), rt.tensor(&[n]).unwrap());
    let d = kernels::unary::unary(rt, &gx, Activation::Relu, &gy).unwrap();
    gx.buffer().destroy();
    d
}

#[test]
fn errors_of_other_work_on_the_device_stay_out_of_a_sessions_runs() {
    let _serial = serial();
    let (model, name) = require!(fixture());
    let rt = require!(new gpu);
    let x = input(&model, 1, 17);
    let session = Session::new(&rt, &model, 1).unwrap();
    let want = bits(&run(&session, &name, &x));

    // Left unchecked, the failure waits in the device's sink: the session's run, in its
    // own error scopes, neither takes it as its own nor loses it for the one who checks.
    rt.submit([&rejected_work(&rt, 1239)]);
    assert_eq!(want, bits(&run(&session, &name, &x)), "the run after");
    let e = rt.check("the rejected work");
    assert!(matches!(e, Err(Error::Validation { .. })), "{e:?}");

    // Failing work on another thread while the session runs: each side gets its own
    // outcome, every time.
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..20 {
                let e = rt.run(&[rejected_work(&rt, 1301 + 4 * i)]);
                assert!(matches!(e, Err(Error::Validation { .. })), "{i}: {e:?}");
            }
        });
        for i in 0..20 {
            assert_eq!(want, bits(&run(&session, &name, &x)), "run {i}");
        }
    });
}

#[test]
fn soak_memory_stays_bounded() {
    const RUNS: usize = 2000;
    const WARMUP: usize = 200;
    const RSS_BOUND: u64 = 16 << 20;
    let _serial = serial();
    let rt = require!(gpu);
    let (model, name) = require!(fixture());
    let session = Session::new(rt, &model, 1).unwrap();
    let inputs: Vec<HostTensor> = (0..8).map(|i| input(&model, 1, 500 + i)).collect();
    // The backend allocator's own count of device memory, where it keeps one.
    let gpu_bytes = || {
        rt.device()
            .generate_allocator_report()
            .map(|r| r.total_allocated_bytes)
    };
    let start = Instant::now();
    let (mut rss_warm, mut pool_warm, mut gpu_warm) = (0, rt.pool_stats(), None);
    let mut rss_max = 0;
    for i in 0..RUNS {
        let r = run(&session, &name, &inputs[i % inputs.len()]);
        assert!(r.outputs[0].1.data.iter().all(|v| v.is_finite()));
        let rss = rss_bytes().unwrap_or(0);
        if i + 1 == WARMUP {
            (rss_warm, pool_warm, gpu_warm) = (rss, rt.pool_stats(), gpu_bytes());
        }
        if i + 1 > WARMUP {
            rss_max = rss_max.max(rss);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let (rss_end, pool_end, gpu_end) = (rss_bytes().unwrap_or(0), rt.pool_stats(), gpu_bytes());
    common::report(&format!(
        "soak: {RUNS} inferences ({FIXTURE}, batch 1) in {secs:.1} s; RSS after {WARMUP}: \
         {:.1} MiB, max after: {:.1} MiB, at the end: {:.1} MiB (growth {:+.2} MiB, bound \
         {} MiB); pool live {} -> {} bytes, pooled {} -> {} bytes; device memory \
         (allocator report) {gpu_warm:?} -> {gpu_end:?} bytes",
        rss_warm as f64 / MIB,
        rss_max as f64 / MIB,
        rss_end as f64 / MIB,
        (rss_max as f64 - rss_warm as f64) / MIB,
        RSS_BOUND >> 20,
        pool_warm.live_bytes,
        pool_end.live_bytes,
        pool_warm.pooled_bytes,
        pool_end.pooled_bytes,
    ));
    assert_eq!(pool_end.live_bytes, pool_warm.live_bytes, "live pool bytes");
    assert_eq!(
        pool_end.pooled_bytes, pool_warm.pooled_bytes,
        "pooled bytes"
    );
    assert!(
        rss_max.saturating_sub(rss_warm) < RSS_BOUND,
        "RSS grew by {} bytes",
        rss_max - rss_warm
    );
}

#[test]
fn many_sessions_created_and_dropped_keep_the_pool_bounded() {
    const SESSIONS: usize = 200;
    const RSS_BOUND: u64 = 32 << 20;
    let _serial = serial();
    let (model, name) = require!(fixture());
    let rt = require!(new gpu);
    let x = input(&model, 1, 21);
    let gpu_bytes = || {
        rt.device()
            .generate_allocator_report()
            .map(|r| r.total_allocated_bytes)
    };
    let mut first = None;
    let (mut pool_first, mut rss_first, mut gpu_first) = (rt.pool_stats(), 0, None);
    let start = Instant::now();
    for i in 0..SESSIONS {
        let session = Session::new(&rt, &model, 1).unwrap();
        let b = bits(&run(&session, &name, &x));
        assert_eq!(first.get_or_insert(b.clone()), &b, "session {i}");
        drop(session);
        if i == 19 {
            rt.wait().unwrap();
            (pool_first, rss_first, gpu_first) =
                (rt.pool_stats(), rss_bytes().unwrap_or(0), gpu_bytes());
        }
    }
    rt.wait().unwrap();
    let (pool_end, rss_end, gpu_end) = (rt.pool_stats(), rss_bytes().unwrap_or(0), gpu_bytes());
    common::report(&format!(
        "{SESSIONS} sessions created, run and dropped in {:.1} s: pooled {} -> {} bytes \
         ({} -> {} buffers), live {} -> {}; RSS {:.1} -> {:.1} MiB; device memory \
         (allocator report) {gpu_first:?} -> {gpu_end:?} bytes",
        start.elapsed().as_secs_f64(),
        pool_first.pooled_bytes,
        pool_end.pooled_bytes,
        pool_first.pooled_buffers,
        pool_end.pooled_buffers,
        pool_first.live_bytes,
        pool_end.live_bytes,
        rss_first as f64 / MIB,
        rss_end as f64 / MIB,
    ));
    assert_eq!(pool_end.live_bytes, 0, "every buffer went back");
    assert_eq!(pool_end.pooled_bytes, pool_first.pooled_bytes, "pool size");
    assert_eq!(gpu_end, gpu_first, "device memory allocated");
    assert!(
        rss_end.saturating_sub(rss_first) < RSS_BOUND,
        "RSS grew by {} bytes",
        rss_end.saturating_sub(rss_first)
    );
}

#[test]
fn the_limits_variable_reaches_the_program() {
    let _serial = serial();
    require!(gpu);
    let out = assert_cmd::Command::cargo_bin("se-runtime")
        .unwrap()
        .arg("info")
        // The GPU's limits are shown only when the GPU runs (not the default on a
        // software adapter).
        .env("SE_RUNTIME_BACKEND", "gpu")
        .env(
            "SE_RUNTIME_LIMITS",
            "max_storage_buffer_binding_size=65536,max_compute_workgroups_per_dimension=16",
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    for (name, value) in [
        ("max_storage_buffer_binding_size", "65536"),
        ("max_compute_workgroups_per_dimension", "16"),
    ] {
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().eq([name, value].into_iter())),
            "{name} {value} in:\n{text}"
        );
    }
}
