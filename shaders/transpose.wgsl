// y = x with permuted axes: each output element gathers its input element.
// The host passes the output dims and, per output axis, the input stride of the axis
// it comes from (after merging axes that stay adjacent), rank <= 8.
// Host code: src/kernels/transpose.rs; CPU twin: src/cpu/transpose.rs.

struct Params {
    len: u32,
    rank: u32,
    _pad0: u32,
    _pad1: u32,
    out_dims: array<vec4<u32>, 2>,
    src_strides: array<vec4<u32>, 2>,
}

// Bindings p (Params), x and y: shared/x_to_y.wgsl.

fn at(v: array<vec4<u32>, 2>, d: u32) -> u32 {
    return v[d / 4u][d % 4u];
}

@compute @workgroup_size(256)
fn transpose(inv: Invocation) {
    let i = global_index(inv, 256u);
    if i >= p.len {
        return;
    }
    var rest = i;
    var src = 0u;
    for (var d = i32(p.rank) - 1; d >= 0; d--) {
        let n = at(p.out_dims, u32(d));
        src += (rest % n) * at(p.src_strides, u32(d));
        rest /= n;
    }
    y[i] = x[src];
}
