// Reduction over any axes: one invocation per output element. Output i starts at i
// decomposed over the kept dimensions; its j-th input is j decomposed over the
// reduced ones on top (each as sizes and input strides, 8 slots, unused ones size 1).
// Host code: src/kernels/reduce.rs; CPU twin: src/cpu/reduce.rs.

struct Params {
    len: u32,
    count: u32,
    // `ReduceKind` in src/ops/reduce.rs.
    kind: u32,
    _pad: u32,
    kept_dims: array<vec4<u32>, 2>,
    kept_strides: array<vec4<u32>, 2>,
    reduced_dims: array<vec4<u32>, 2>,
    reduced_strides: array<vec4<u32>, 2>,
}

// Bindings p (Params), x and y: shared/x_to_y.wgsl.

fn offset(i: u32, dims: array<vec4<u32>, 2>, strides: array<vec4<u32>, 2>) -> u32 {
    var rest = i;
    var off = 0u;
    for (var d = 7i; d >= 0i; d--) {
        let n = dims[d / 4][d % 4];
        off += rest % n * strides[d / 4][d % 4];
        rest = rest / n;
    }
    return off;
}

fn at(base: u32, j: u32) -> f32 {
    return x[base + offset(j, p.reduced_dims, p.reduced_strides)];
}

// A float from its bits, computed at run time: WGSL refuses a constant expression
// that evaluates to infinity (Chrome's compiler enforces it; naga does not).
fn from_bits(b: u32) -> f32 {
    return bitcast<f32>(b);
}

@compute @workgroup_size(64)
fn reduce(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid, 64u);
    if i >= p.len {
        return;
    }
    let base = offset(i, p.kept_dims, p.kept_strides);
    let neg_inf = from_bits(0xff800000u);
    var acc = 0.0;
    switch p.kind {
        // Max, Min, Prod.
        case 2u: { acc = neg_inf; for (var j = 0u; j < p.count; j++) { acc = max(acc, at(base, j)); } }
        case 3u: { acc = -neg_inf; for (var j = 0u; j < p.count; j++) { acc = min(acc, at(base, j)); } }
        case 7u: { acc = 1.0; for (var j = 0u; j < p.count; j++) { acc *= at(base, j); } }
        // L2 and SumSquare.
        case 4u, 5u: { for (var j = 0u; j < p.count; j++) { let v = at(base, j); acc += v * v; } }
        case 6u: { for (var j = 0u; j < p.count; j++) { acc += abs(at(base, j)); } }
        case 9u: {
            var m = neg_inf;
            for (var j = 0u; j < p.count; j++) { m = max(m, at(base, j)); }
            if m == neg_inf {
                acc = m;
            } else {
                for (var j = 0u; j < p.count; j++) { acc += exp(at(base, j) - m); }
                acc = m + log(acc);
            }
        }
        // Sum, Mean, LogSum.
        default: { for (var j = 0u; j < p.count; j++) { acc += at(base, j); } }
    }
    switch p.kind {
        case 1u: { acc = acc / f32(p.count); }
        case 4u: { acc = sqrt(acc); }
        case 8u: { acc = log(acc); }
        default: {}
    }
    y[i] = acc;
}
