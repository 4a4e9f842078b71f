//! `se-runtime info`: what GPU the runtime can use, which backend runs models (the
//! GPU or the CPU engine) and why.

use anyhow::Result;

use se_runtime::backend::Chosen;

use super::{Cli, Outcome};

#[derive(clap::Args)]
pub struct Args {}

pub fn run(cli: &Cli, _: &Args) -> Result<Outcome> {
    let options = cli.runtime_options()?;
    let backends = options.backends.unwrap_or(wgpu::Backends::all());
    let adapters = pollster::block_on(se_runtime::device::list_adapters(backends));
    outln!("Adapters ({} found, best first):", adapters.len());
    for a in &adapters {
        outln!(
            "  - {} [{:?}, {:?}] driver: {} {}",
            a.name,
            a.backend,
            a.device_type,
            a.driver,
            a.driver_info
        );
    }
    let choice = cli.backend()?;
    outln!(
        "\nRuns on: {} ({})",
        choice.backend.describe(),
        choice.reason
    );
    let rt = match choice.backend {
        Chosen::Gpu(rt) => rt,
        Chosen::Cpu(_) => return Ok(Outcome::Done),
    };
    let i = rt.adapter_info();
    outln!(
        "\nChosen: {} ({:?}, {:?})",
        i.name,
        i.backend,
        i.device_type
    );
    outln!("  vendor 0x{:04x}, device 0x{:04x}", i.vendor, i.device);
    let why = if options.device_class.is_some() {
        "forced by SE_RUNTIME_DEVICE_CLASS"
    } else {
        "the adapter's type"
    };
    outln!("  kernels sized for a {} ({why})", rt.profile().class);

    let l = rt.limits();
    outln!("\nLimits:");
    // Each limit with its name, widened to u64.
    macro_rules! named {
        ($($limit:ident),+) => { [$((stringify!($limit), u64::from(l.$limit))),+] };
    }
    let limits = named!(
        max_buffer_size,
        max_storage_buffer_binding_size,
        max_storage_buffers_per_shader_stage,
        max_compute_workgroup_storage_size,
        max_compute_invocations_per_workgroup,
        max_compute_workgroup_size_x,
        max_compute_workgroup_size_y,
        max_compute_workgroup_size_z,
        max_compute_workgroups_per_dimension
    );
    for (name, value) in limits {
        outln!("  {name:<40} {value}");
    }

    outln!("\nOptional features:");
    for (name, f) in [
        ("SHADER_F16", wgpu::Features::SHADER_F16),
        (
            "TIMESTAMP_QUERY (per-layer profiling in `bench`)",
            wgpu::Features::TIMESTAMP_QUERY,
        ),
        ("SUBGROUP", wgpu::Features::SUBGROUP),
    ] {
        let on = if rt.features().contains(f) {
            "yes"
        } else {
            "no"
        };
        outln!("  {name:<48} {on}");
    }
    Ok(Outcome::Done)
}
