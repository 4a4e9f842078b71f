// y = activate(x), elementwise. CPU twin: src/cpu/unary.rs.

struct Params {
    len: u32,
    kind: u32,
    a: f32,
    b: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn unary(inv: Invocation) {
    let i = global_index(inv, 256u);
    if i >= p.len {
        return;
    }
    y[i] = activate(x[i], p.kind, p.a, p.b);
}
