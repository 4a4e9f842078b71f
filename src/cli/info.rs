//! `se-runtime info`: what GPU the runtime can use, and what it chose.

use anyhow::Result;

use super::{Cli, Outcome};

#[derive(clap::Args)]
pub struct Args {}

pub fn run(cli: &Cli, _: &Args) -> Result<Outcome> {
    let options = cli.runtime_options()?;
    let backends = options.backends.unwrap_or(wgpu::Backends::all());
    let adapters = pollster::block_on(se_runtime::device::list_adapters(backends));
    println!("Adapters ({} found, best first):", adapters.len());
    for a in &adapters {
        println!(
            "  - {} [{:?}, {:?}] driver: {} {}",
            a.name, a.backend, a.device_type, a.driver, a.driver_info
        );
    }
    let rt = cli.runtime()?;
    let i = rt.adapter_info();
    println!(
        "\nChosen: {} ({:?}, {:?})",
        i.name, i.backend, i.device_type
    );
    println!("  vendor 0x{:04x}, device 0x{:04x}", i.vendor, i.device);

    let l = rt.limits();
    println!("\nLimits:");
    let limits: [(&str, u64); 9] = [
        ("max_buffer_size", l.max_buffer_size),
        (
            "max_storage_buffer_binding_size",
            l.max_storage_buffer_binding_size,
        ),
        (
            "max_storage_buffers_per_shader_stage",
            l.max_storage_buffers_per_shader_stage.into(),
        ),
        (
            "max_compute_workgroup_storage_size",
            l.max_compute_workgroup_storage_size.into(),
        ),
        (
            "max_compute_invocations_per_workgroup",
            l.max_compute_invocations_per_workgroup.into(),
        ),
        (
            "max_compute_workgroup_size_x",
            l.max_compute_workgroup_size_x.into(),
        ),
        (
            "max_compute_workgroup_size_y",
            l.max_compute_workgroup_size_y.into(),
        ),
        (
            "max_compute_workgroup_size_z",
            l.max_compute_workgroup_size_z.into(),
        ),
        (
            "max_compute_workgroups_per_dimension",
            l.max_compute_workgroups_per_dimension.into(),
        ),
    ];
    for (name, value) in limits {
        println!("  {name:<40} {value}");
    }

    println!("\nOptional features:");
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
        println!("  {name:<48} {on}");
    }
    Ok(Outcome::Done)
}
