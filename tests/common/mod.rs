//! Shared test harness: one runtime for all tests of a binary, what a test needs
//! (`require!`), random data, and the GPU-vs-CPU comparison with the project's stated
//! tolerance.
#![allow(dead_code)]

use std::sync::OnceLock;

use se_runtime::{HostTensor, Runtime};

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

/// The shared runtime in a helper of a test that declared `require!(gpu)`.
pub fn gpu() -> &'static Runtime {
    runtime().expect("the test needs a GPU: declare `require!(gpu)` at its top")
}

/// Declares what a test needs, as the first lines of its body, so a reader sees it; a
/// machine without it prints `SKIPPED <test>: <what is missing>` and the test returns
/// (and passes) without running. Each form gives what the test then uses:
///
/// - `require!(gpu)`: a GPU adapter: the shared `&Runtime`;
/// - `require!(gpu, features = [SHADER_F16, ..])`: one with these `wgpu::Features`;
/// - `require!(gpu, lacks = [SHADER_F16, ..])`: one without them (tests of a refusal);
/// - `require!(gpu, limits = LimitCaps { .. })`: a new `Runtime` on that adapter with
///   its device limits lowered to these caps;
/// - `require!(new gpu)`: a new `Runtime` of the test's own (one it may destroy);
/// - `require!(found)`: anything else, `found: Result<T, String>` with `Err` saying
///   what is missing (a fixture, a downloaded model): the `T`.
///
/// It also works in `proptest!` bodies. Helpers of such tests get the runtime from
/// [`gpu`]; a CPU test that also compares with the GPU where there is one (the graph
/// tests) asks [`runtime`] for an `Option` instead.
#[macro_export]
macro_rules! require {
    (gpu) => {
        $crate::require!(common::gpu_with(&[], &[]))
    };
    (gpu, features = [$($f:ident),+ $(,)?]) => {
        $crate::require!(common::gpu_with(
            &[$((wgpu::Features::$f, stringify!($f))),+],
            &[]
        ))
    };
    (gpu, lacks = [$($f:ident),+ $(,)?]) => {
        $crate::require!(common::gpu_with(
            &[],
            &[$((wgpu::Features::$f, stringify!($f))),+]
        ))
    };
    (gpu, limits = $caps:expr) => {
        $crate::require!(common::capped_gpu($caps))
    };
    (new gpu) => {
        $crate::require!(common::new_gpu())
    };
    ($found:expr) => {
        match $found {
            Ok(found) => found,
            Err(missing) => {
                common::skipped(&missing);
                return common::Skipped.into();
            }
        }
    };
}

/// The shared runtime if its adapter has every feature of `features` and none of
/// `lacks` (each with its name); otherwise what is missing.
pub fn gpu_with(
    features: &[(wgpu::Features, &str)],
    lacks: &[(wgpu::Features, &str)],
) -> Result<&'static Runtime, String> {
    let rt = runtime().ok_or("no GPU adapter")?;
    let names = |list: &[(wgpu::Features, &str)], present: bool| {
        let names: Vec<&str> = list
            .iter()
            .filter(|(f, _)| rt.features().contains(*f) == present)
            .map(|&(_, name)| name)
            .collect();
        names.join(", ")
    };
    let adapter = &rt.adapter_info().name;
    match (names(features, false), names(lacks, true)) {
        (missing, _) if !missing.is_empty() => Err(format!("adapter {adapter} lacks {missing}")),
        (_, present) if !present.is_empty() => Err(format!("adapter {adapter} has {present}")),
        _ => Ok(rt),
    }
}

/// A new runtime on the default adapter with its device limits lowered to `caps`.
pub fn capped_gpu(caps: se_runtime::LimitCaps) -> Result<Runtime, String> {
    runtime().ok_or("no GPU adapter")?;
    let options = se_runtime::RuntimeOptions {
        caps,
        ..se_runtime::RuntimeOptions::from_env().unwrap()
    };
    Ok(pollster::block_on(Runtime::with_options(options)).unwrap())
}

/// A new runtime of the test's own.
pub fn new_gpu() -> Result<Runtime, String> {
    runtime().ok_or("no GPU adapter")?;
    pollster::block_on(Runtime::new()).map_err(|e| format!("no GPU adapter: {e}"))
}

/// What a skipped test returns: `()`, or `Ok(())` in a `proptest!` body.
pub struct Skipped;

impl From<Skipped> for () {
    fn from(_: Skipped) {}
}

impl<E> From<Skipped> for Result<(), E> {
    fn from(_: Skipped) -> Self {
        Ok(())
    }
}

/// Reports that the running test is skipped and why, once per test (a `proptest!`
/// body skips every case).
pub fn skipped(missing: &str) {
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if !seen.contains(&test) {
        report(&format!("SKIPPED {test}: {missing}"));
        seen.push(test);
    }
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

/// `SE_FIXTURES/<name>/model.onnx` (made by tools/make_fixtures.py) and its input's
/// name, or what is missing.
pub fn fixture_model(name: &str) -> Result<(se_runtime::Model, String), String> {
    let path = std::env::var_os("SE_FIXTURES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures"))
        .join(name)
        .join("model.onnx");
    if !path.exists() {
        return Err(format!(
            "{} missing (set SE_FIXTURES, or run tools/make_fixtures.py)",
            path.display()
        ));
    }
    let model = se_runtime::Model::from_file(&path).unwrap();
    let input = model.info().inputs[0].name.clone();
    Ok((model, input))
}

/// A random input for `batch` images of `model`, different for each `seed`.
pub fn model_input(model: &se_runtime::Model, batch: usize, seed: u64) -> HostTensor {
    let mut shape = model.info().inputs[0].shape.clone();
    shape[0] = batch;
    let n = shape.iter().product();
    HostTensor::new(&shape, random(seed, n, 1.0)).unwrap()
}

/// Every output and excitation value as bits, for exact comparisons.
pub fn bits(r: &se_runtime::Inference) -> Vec<u32> {
    let outputs = r.outputs.iter().flat_map(|(_, t)| &t.data);
    let excitations = r.excitations.iter().flat_map(|e| &e.values.data);
    outputs.chain(excitations).map(|v| v.to_bits()).collect()
}

/// The process's resident memory (Linux), if it can be read.
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
