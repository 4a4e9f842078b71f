//! Shared test harness: one runtime for all tests of a binary, random data, and the
//! GPU-vs-CPU comparison with the project's stated tolerance.
#![allow(dead_code)]

use std::sync::OnceLock;

use se_runtime::Runtime;

/// Kernel tolerance: |gpu - cpu| <= RTOL * max(1, |cpu|) for every element.
pub const RTOL: f32 = 1e-4;

/// The shared runtime, or `None` (with a visible message) when no adapter exists.
pub fn runtime() -> Option<&'static Runtime> {
    static RT: OnceLock<Option<Runtime>> = OnceLock::new();
    RT.get_or_init(|| match pollster::block_on(Runtime::new()) {
        Ok(rt) => {
            let i = rt.adapter_info();
            eprintln!("GPU tests run on {} ({:?})", i.name, i.backend);
            Some(rt)
        }
        Err(e) => {
            report(&format!("SKIPPED: no GPU adapter: {e}"));
            None
        }
    })
    .as_ref()
}

/// Gets the shared runtime or skips the calling test with a message.
#[macro_export]
macro_rules! gpu_or_skip {
    () => {
        match common::runtime() {
            Some(rt) => rt,
            None => {
                common::report(&format!("SKIPPED {}: no GPU adapter", module_path!()));
                return;
            }
        }
    };
}

/// Deterministic uniform values in [-scale, scale) (SplitMix64).
pub fn random(seed: u64, n: usize, scale: f32) -> Vec<f32> {
    let mut s = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

/// Panics with the first offending element if `gpu` and `cpu` differ beyond RTOL.
pub fn assert_close(what: &str, gpu: &[f32], cpu: &[f32]) {
    assert_eq!(gpu.len(), cpu.len(), "{what}: length");
    for (i, (&g, &c)) in gpu.iter().zip(cpu).enumerate() {
        let ok = (g - c).abs() <= RTOL * c.abs().max(1.0) || (g.is_nan() && c.is_nan());
        assert!(ok, "{what}: element {i}: gpu {g} vs cpu {c}");
    }
}

pub fn read(rt: &Runtime, t: &se_runtime::Tensor) -> Vec<f32> {
    pollster::block_on(t.read(rt)).expect("readback")
}

/// Prints a line past the test harness's output capture, so measured results (diffs,
/// conformance counts, accuracy) show in the normal `cargo test` output.
pub fn report(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Every file of a repository folder (hidden files skipped) as (path, bytes), sorted:
/// the fuzz seeds and regressions the tests replay.
pub fn repo_files(dir: &str) -> Vec<(String, Vec<u8>)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut v: Vec<_> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    v.sort();
    v
}
