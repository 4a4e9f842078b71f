// y = activate(x), elementwise. CPU twin: src/cpu/unary.rs.

struct Params {
    len: u32,
    kind: u32,
    a: f32,
    b: f32,
}

// Bindings p (Params), x and y: shared/x_to_y.wgsl.

@compute @workgroup_size(256)
fn unary(inv: Invocation) {
    let i = global_index(inv, 256u);
    if i >= p.len {
        return;
    }
    y[i] = activate(x[i], p.kind, p.a, p.b);
}
