//! Every shader the runtime can build parses and validates with naga, with no GPU needed.

use se_runtime::kernels::SHADERS;

#[test]
fn every_shader_validates() {
    for shader in SHADERS {
        let module = naga::front::wgsl::parse_str(shader.source)
            .unwrap_or_else(|e| panic!("{}: {}", shader.name, e.emit_to_string(shader.source)));
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::all(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}: {e:?}", shader.name));
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
