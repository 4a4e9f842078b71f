//! What the tests of the `se-runtime` program share: the program with its
//! environment, test pictures and JSON Lines output.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use image::{Rgba, RgbaImage};
use predicates::prelude::*;
use serde_json::Value;

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The program on the GPU: these tests check the GPU path, which the default would
/// leave for the CPU engine on a software adapter (`--backend` still overrides it).
pub fn se_runtime() -> Command {
    let mut cmd = Command::cargo_bin("se-runtime").unwrap();
    cmd.env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .env("SE_RUNTIME_BACKEND", "gpu");
    cmd
}

/// The program where no GPU API finds a driver: no Vulkan ICD, no EGL vendor.
pub fn without_gpu_drivers() -> Command {
    let mut cmd = Command::cargo_bin("se-runtime").unwrap();
    cmd.env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .env_remove("SE_RUNTIME_BACKEND")
        .env("VK_ICD_FILENAMES", "/nonexistent")
        .env("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent");
    cmd
}

/// A light garment-like blob on black, like Fashion-MNIST; `seed` moves it around.
pub fn picture(w: u32, h: u32, seed: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        let (cx, cy) = ((w / 2 + seed * 3) % w, (h / 3 + seed * 5) % h);
        let d = x.abs_diff(cx) + y.abs_diff(cy);
        let v = 255u32.saturating_sub(d * 255 / (w / 2)) as u8;
        Rgba([v, v / 2 + (seed as u8) * 20, v, 255])
    })
}

/// A folder with one picture in each lossless format (same pixels) plus a JPEG.
pub fn image_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let img = picture(28, 28, 1);
    for ext in ["png", "bmp", "webp"] {
        img.save(dir.path().join(format!("same.{ext}"))).unwrap();
    }
    image::DynamicImage::ImageRgba8(picture(40, 30, 2))
        .to_rgb8()
        .save(dir.path().join("other.jpg"))
        .unwrap();
    dir
}

pub fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

pub fn no_panic() -> impl Predicate<str> {
    predicate::str::contains("panicked").not()
}

/// Two `top` lists of `classify --json` name the same classes in the same order,
/// with probabilities within `tol`.
pub fn assert_same_top(a: &[Value], b: &[Value], tol: f64) {
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x["index"], y["index"], "{a:?} vs {b:?}");
        let (p, q) = (
            x["probability"].as_f64().unwrap(),
            y["probability"].as_f64().unwrap(),
        );
        assert!((p - q).abs() < tol, "{a:?} vs {b:?}");
    }
}
