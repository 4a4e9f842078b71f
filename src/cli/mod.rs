//! The command-line program's subcommands, one module each, and what they share:
//! runtime choice, error reporting and exit codes.

mod info;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use se_runtime::{Runtime, RuntimeOptions};

/// Exit codes: 0 success, 1 failure, 2 bad command line (clap's), 3 some of the
/// inputs failed while the others were processed.
const EXIT_FAILURE: u8 = 1;

#[derive(Parser)]
#[command(
    name = "se-runtime",
    version,
    about = "GPU inference for Squeeze-and-Excitation networks, showing every SE block's excitations",
    after_help = "Exit status: 0 success, 1 error, 2 bad command line, 3 some inputs failed (the others were processed).\n\
                  The GPU adapter can also be chosen with SE_RUNTIME_BACKEND and SE_RUNTIME_ADAPTER."
)]
struct Cli {
    /// GPU backend: vulkan, metal, dx12 or gl (default: the best available)
    #[arg(long, global = true, value_name = "NAME", value_parser = parse_backend)]
    backend: Option<wgpu::Backends>,
    /// Use the adapter whose name contains this text (case-insensitive)
    #[arg(long, global = true, value_name = "TEXT")]
    adapter: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List GPU adapters and backends, and show the chosen adapter's limits and features
    Info(info::Args),
}

/// What a command achieved when it did not fail outright.
pub enum Outcome {
    Done,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Info(args) => info::run(&cli, args),
    };
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn parse_backend(name: &str) -> Result<wgpu::Backends, String> {
    se_runtime::device::parse_backend(name).map_err(|_| "use vulkan, metal, dx12 or gl".into())
}

impl Cli {
    /// Runtime options from the environment, overridden by `--backend` / `--adapter`.
    fn runtime_options(&self) -> Result<RuntimeOptions> {
        let mut options = RuntimeOptions::from_env()?;
        if let Some(b) = self.backend {
            options.backends = Some(b);
        }
        if let Some(a) = &self.adapter {
            options.adapter_name = Some(a.clone());
        }
        Ok(options)
    }

    fn runtime(&self) -> Result<Runtime> {
        Ok(pollster::block_on(Runtime::with_options(
            self.runtime_options()?,
        ))?)
    }
}
