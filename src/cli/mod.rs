//! The command-line program's subcommands, one module each, and what they share:
//! runtime choice, error reporting, exit codes and number formatting.

/// `println!` that returns the write error (`se-runtime inspect M | head` closes the
/// pipe) instead of panicking; `main` treats a closed pipe as success.
macro_rules! outln {
    ($($arg:tt)*) => {
        std::io::Write::write_fmt(
            &mut std::io::stdout(),
            format_args!("{}\n", format_args!($($arg)*)),
        )?
    };
}

mod bench;
mod classify;
mod excitations;
mod heatmap;
mod images;
mod info;
mod inspect;
mod model;
mod npy;
mod profiles;
mod run;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use se_runtime::backend::{Choice, choose};
use se_runtime::{BackendPreference, Runtime, RuntimeOptions};

/// Exit codes: 0 success, 1 failure, 2 bad command line (clap's), 3 some of the
/// inputs failed while the others were processed.
const EXIT_FAILURE: u8 = 1;
const EXIT_PARTIAL: u8 = 3;

#[derive(Parser)]
#[command(
    name = "se-runtime",
    version,
    about = "GPU inference for Squeeze-and-Excitation networks, showing every SE block's excitations",
    after_help = "Exit status: 0 success, 1 error, 2 bad command line, 3 some inputs failed (the others were processed).\n\
                  The backend can also be chosen with SE_RUNTIME_BACKEND, SE_RUNTIME_ADAPTER and SE_RUNTIME_THREADS."
)]
struct Cli {
    /// cpu (the CPU engine), gpu (any GPU API), or one: vulkan, metal, dx12 or gl
    /// (default: the GPU if it is a hardware one, else the CPU engine)
    #[arg(long, global = true, value_name = "NAME", value_parser = parse_backend)]
    backend: Option<BackendArg>,
    /// Threads of the CPU engine (default: the machine's cores)
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    threads: Option<u32>,
    /// Use the adapter whose name contains this text (case-insensitive)
    #[arg(long, global = true, value_name = "TEXT")]
    adapter: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Top-k classes for images, or for every image in folders
    Classify(classify::Args),
    /// Every SE block's excitations for one image, as JSON and a heatmap PNG
    Excitations(excitations::Args),
    /// Latency, throughput and per-layer GPU time of a model
    Bench(bench::Args),
    /// A model's inputs, outputs, layers, size, SE blocks, fusions and metadata
    Inspect(inspect::Args),
    /// Mean excitation per class of every SE block over a labelled IDX image set
    Profiles(profiles::Args),
    /// Run any model on .npy tensors; write every output and excitation as .npy
    Run(run::Args),
    /// List GPU adapters and backends, and show the chosen adapter's limits and features
    Info(info::Args),
}

/// What a command achieved when it did not fail outright.
pub enum Outcome {
    Done,
    /// `failed` of `total` inputs failed; each was reported on stderr.
    Partial {
        failed: usize,
        total: usize,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Classify(args) => classify::run(&cli, args),
        Command::Excitations(args) => excitations::run(&cli, args),
        Command::Bench(args) => bench::run(&cli, args),
        Command::Inspect(args) => inspect::run(&cli, args),
        Command::Profiles(args) => profiles::run(&cli, args),
        Command::Run(args) => run::run(&cli, args),
        Command::Info(args) => info::run(&cli, args),
    };
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        // A lone input's error line says it all; more need a tally.
        Ok(Outcome::Partial { failed, total }) if failed == total => {
            if total > 1 {
                eprintln!("error: all {total} inputs failed");
            }
            ExitCode::from(EXIT_FAILURE)
        }
        Ok(Outcome::Partial { failed, total }) => {
            eprintln!("{failed} of {total} inputs failed");
            ExitCode::from(EXIT_PARTIAL)
        }
        // `se-runtime classify DIR | head`: the reader has all it wanted.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", error_line(&e));
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// The error with its causes, `: `-separated, leaving out a cause whose text the
/// message already holds (errors that print their source themselves).
fn error_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line += ": ";
            }
            line += &text;
        }
    }
    line
}

/// What `--backend` names.
#[derive(Clone, Copy)]
enum BackendArg {
    Cpu,
    /// A GPU, on these APIs (`None`: any).
    Gpu(Option<wgpu::Backends>),
}

fn parse_backend(name: &str) -> Result<BackendArg, String> {
    match name.to_ascii_lowercase().as_str() {
        "cpu" => Ok(BackendArg::Cpu),
        "gpu" => Ok(BackendArg::Gpu(None)),
        _ => se_runtime::device::parse_backend(name)
            .map(|b| BackendArg::Gpu(Some(b)))
            .map_err(|_| "use cpu, gpu, vulkan, metal, dx12 or gl".into()),
    }
}

impl Cli {
    /// Runtime options from the environment, overridden by `--backend`, `--adapter`
    /// and `--threads`.
    fn runtime_options(&self) -> Result<RuntimeOptions> {
        let mut options = RuntimeOptions::from_env()?;
        match self.backend {
            Some(BackendArg::Cpu) => options.preference = BackendPreference::Cpu,
            Some(BackendArg::Gpu(b)) => {
                options.preference = BackendPreference::Gpu;
                options.backends = b.or(options.backends);
            }
            None => {}
        }
        if let Some(n) = self.threads {
            options.threads = Some(n as usize);
        }
        if let Some(a) = &self.adapter {
            options.adapter_name = Some(a.clone());
        }
        Ok(options)
    }

    /// The backend the options choose (the CPU engine or the GPU), and why.
    fn backend(&self) -> Result<Choice> {
        Ok(pollster::block_on(choose(self.runtime_options()?))?)
    }

    /// A GPU runtime, for what only the GPU has (kernel strategies).
    fn runtime(&self) -> Result<Runtime> {
        Ok(pollster::block_on(Runtime::with_options(
            self.runtime_options()?,
        ))?)
    }
}

/// The width of a table's name column: its longest name, at least the header's.
fn name_width<'a>(names: impl Iterator<Item = &'a str>) -> usize {
    names.map(|n| n.chars().count()).max().unwrap_or(0).max(5)
}

/// The first columns of a layer table's row: the index (or `#`), the name padded to
/// `width` (see [`name_width`]) and the op.
fn layer_columns(index: impl std::fmt::Display, name: &str, op: &str, width: usize) -> String {
    format!("  {index:>3}  {name:<width$} {op:<22}")
}

/// 1234567 -> "1.23 M".
fn fmt_count(n: f64) -> String {
    match n {
        n if n >= 1e9 => format!("{:.2} G", n / 1e9),
        n if n >= 1e6 => format!("{:.2} M", n / 1e6),
        n if n >= 1e3 => format!("{:.1} k", n / 1e3),
        n => format!("{n:.0}"),
    }
}

/// 1536 -> "1.5 KiB".
fn fmt_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.2} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}
