//! `se-runtime`, the command-line program: classify images, show SE excitations,
//! benchmark, inspect and run ONNX models (see `se-runtime --help`).

#[cfg(not(target_arch = "wasm32"))]
mod cli;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

// The browser build uses the library only; this keeps `cargo build --target wasm32-*`
// from failing on the native-only command-line dependencies.
#[cfg(target_arch = "wasm32")]
fn main() {}
