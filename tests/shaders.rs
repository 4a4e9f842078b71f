//! Every shader the runtime can build parses and validates with naga, with no GPU needed,
//! and matches what its host code assumes: uniform layouts and workgroup sizes.

use std::collections::BTreeSet;

use se_runtime::kernels::matmul::Tile;
use se_runtime::kernels::{ENTRY_POINTS, SHADERS, Workgroup};

fn parse(shader: &se_runtime::device::Shader) -> (naga::Module, naga::valid::ModuleInfo) {
    let module = naga::front::wgsl::parse_str(shader.source)
        .unwrap_or_else(|e| panic!("{}: {}", shader.name, e.emit_to_string(shader.source)));
    let info = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::all(),
    )
    .validate(&module)
    .unwrap_or_else(|e| panic!("{}: {e:?}", shader.name));
    (module, info)
}

#[test]
fn every_shader_validates() {
    for shader in SHADERS {
        parse(shader);
    }
    assert!(SHADERS.len() >= 2);
}

/// `shaders/shared/activation.wgsl` is part of a shader only where the shader calls it.
#[test]
fn activation_only_where_called() {
    for shader in SHADERS {
        let defined = shader.source.contains("fn activate(");
        let called = shader.source.matches("activate(").count() > usize::from(defined);
        assert_eq!(
            defined, called,
            "{}: activate defined {defined}, called {called}",
            shader.name
        );
    }
}

/// `ENTRY_POINTS` lists exactly the entry points of the shaders in `SHADERS`.
#[test]
fn every_entry_point_is_described() {
    let mut in_wgsl = BTreeSet::new();
    for shader in SHADERS {
        let (module, _) = parse(shader);
        for ep in &module.entry_points {
            in_wgsl.insert((shader.name, ep.name.clone()));
        }
    }
    let described: BTreeSet<_> = ENTRY_POINTS
        .iter()
        .map(|e| (e.shader.name, e.name.to_string()))
        .collect();
    assert_eq!(in_wgsl, described);
    assert_eq!(
        described.len(),
        ENTRY_POINTS.len(),
        "an entry point is listed twice"
    );
}

/// Each entry point's uniform (`@binding(0)`) struct has the host's size and every
/// member the host writes at the host's offset, under one of its names; the members
/// the host does not name are padding (`_` names).
#[test]
fn params_layouts_match_the_host() {
    for e in ENTRY_POINTS {
        let what = format!("{}::{}", e.shader.name, e.name);
        let (module, info) = parse(&e.shader);
        let index = module
            .entry_points
            .iter()
            .position(|ep| ep.name == e.name)
            .unwrap_or_else(|| panic!("{what}: no such entry point"));
        let used = info.get_entry_point(index);
        let uniforms: Vec<_> = module
            .global_variables
            .iter()
            .filter(|&(h, v)| {
                v.binding
                    .as_ref()
                    .is_some_and(|b| b.group == 0 && b.binding == 0)
                    && !used[h].is_empty()
            })
            .collect();
        assert_eq!(uniforms.len(), 1, "{what}: one uniform at binding 0");
        let ty = &module.types[uniforms[0].1.ty];
        let naga::TypeInner::Struct { members, span } = &ty.inner else {
            panic!("{what}: the uniform is not a struct");
        };
        assert_eq!(*span as usize, e.params.size, "{what}: struct size");
        let host: Vec<_> = e
            .params
            .members
            .iter()
            .filter(|(name, _)| !name.starts_with('_'))
            .collect();
        let mut offsets: Vec<usize> = host.iter().map(|&&(_, offset)| offset).collect();
        offsets.dedup();
        for offset in offsets {
            let names: Vec<&str> = host.iter().filter(|m| m.1 == offset).map(|m| m.0).collect();
            let found: Vec<_> = members
                .iter()
                .filter(|m| names.contains(&m.name.as_deref().unwrap_or("")))
                .collect();
            assert_eq!(found.len(), 1, "{what}: one WGSL member named {names:?}");
            assert_eq!(
                found[0].offset as usize, offset,
                "{what}: offset of {names:?}"
            );
        }
        for m in members {
            let name = m.name.as_deref().unwrap_or("");
            assert!(
                name.starts_with('_') || host.iter().any(|&&(n, _)| n == name),
                "{what}: member {name} is not written by the host"
            );
        }
    }
}

/// The workgroup size of each entry point, with the override constants `constants`.
fn workgroup_size(
    shader: &se_runtime::device::Shader,
    entry: &str,
    constants: &[(&str, f64)],
) -> [u32; 3] {
    let (module, info) = parse(shader);
    let constants = constants.iter().map(|&(k, v)| (k.to_string(), v)).collect();
    let (module, _) = naga::back::pipeline_constants::process_overrides(
        &module,
        &info,
        Some((naga::ShaderStage::Compute, entry)),
        &constants,
    )
    .unwrap_or_else(|e| panic!("{}::{entry}: {e}", shader.name));
    module.entry_points[0].workgroup_size
}

/// Each entry point's workgroup has as many invocations as the host divides its work
/// by; a GEMM tile's, `Tile::invocations` for every tile shape.
#[test]
fn workgroup_sizes_match_the_host() {
    let tiles = [(4, 16, 16), (8, 8, 64), (4, 4, 64), (8, 32, 8), (4, 1, 8)];
    for e in ENTRY_POINTS {
        let what = format!("{}::{}", e.shader.name, e.name);
        match e.workgroup {
            Workgroup::Invocations(n) => {
                assert_eq!(
                    workgroup_size(&e.shader, e.name, &[]),
                    [n as u32, 1, 1],
                    "{what}"
                );
            }
            Workgroup::GemmTile => {
                for (rows, wg_m, wg_n) in tiles {
                    let tile = Tile { rows, wg_m, wg_n };
                    let constants = [
                        ("ROWS", f64::from(rows)),
                        ("WG_M", f64::from(wg_m)),
                        ("WG_N", f64::from(wg_n)),
                    ];
                    let size = workgroup_size(&e.shader, e.name, &constants);
                    assert_eq!(size, [tile.invocations(), 1, 1], "{what} {tile:?}");
                }
            }
            Workgroup::PerItem => {
                let size = workgroup_size(&e.shader, e.name, &[]);
                assert!(size.iter().product::<u32>() >= 1, "{what}");
            }
        }
    }
}
