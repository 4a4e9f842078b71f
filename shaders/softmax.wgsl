// Softmax along one axis of a tensor viewed as [outer, n, inner]: row r holds the n
// elements (r / inner) * n * inner + r % inner + k * inner, k < n.
// Host code: src/kernels/softmax.rs; CPU twin: src/cpu/softmax.rs.

struct Params {
    rows: u32,
    n: u32,
    inner: u32,
    // 1: LogSoftmax.
    log: u32,
}

// Bindings p (Params), x and y: shared/x_to_y.wgsl.

// Element x of a row with maximum m and sum of exponentials s, normalised.
fn normalised(v: f32, m: f32, s: f32) -> f32 {
    if p.log == 1u {
        return v - m - log(s);
    }
    return exp(v - m) / s;
}

fn row_start(r: u32) -> u32 {
    return (r / p.inner) * p.n * p.inner + r % p.inner;
}

// Short rows: one invocation per row.
@compute @workgroup_size(64)
fn softmax_rows(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let r = global_index(wg, lid, 64u);
    if r >= p.rows {
        return;
    }
    let base = row_start(r);
    var m = x[base];
    for (var k = 1u; k < p.n; k++) {
        m = max(m, x[base + k * p.inner]);
    }
    // Subtracting the max keeps every exp in (0, 1]: no overflow for large logits.
    var s = 0.0;
    for (var k = 0u; k < p.n; k++) {
        s += exp(x[base + k * p.inner] - m);
    }
    for (var k = 0u; k < p.n; k++) {
        let i = base + k * p.inner;
        y[i] = normalised(x[i], m, s);
    }
}

// Long rows: one workgroup per row, each invocation taking every WG-th element,
// then a tree reduction in workgroup memory.
const WG: u32 = 256u;
var<workgroup> partial: array<f32, WG>;

fn reduce_max(lid: u32) -> f32 {
    for (var step = WG / 2u; step > 0u; step /= 2u) {
        workgroupBarrier();
        if lid < step {
            partial[lid] = max(partial[lid], partial[lid + step]);
        }
    }
    workgroupBarrier();
    let r = partial[0];
    // Everyone has read the result before `partial` is written again.
    workgroupBarrier();
    return r;
}

fn reduce_sum(lid: u32) -> f32 {
    for (var step = WG / 2u; step > 0u; step /= 2u) {
        workgroupBarrier();
        if lid < step {
            partial[lid] += partial[lid + step];
        }
    }
    workgroupBarrier();
    return partial[0];
}

@compute @workgroup_size(256)
fn softmax_workgroup(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    // Uniform across the workgroup, so the barriers below stay in uniform control flow.
    let r = workgroup_index(wg);
    if r >= p.rows {
        return;
    }
    let base = row_start(r);
    // Seeding with the row's first element keeps idle invocations neutral.
    var m = x[base];
    for (var k = lid; k < p.n; k += WG) {
        m = max(m, x[base + k * p.inner]);
    }
    partial[lid] = m;
    m = reduce_max(lid);
    var s = 0.0;
    for (var k = lid; k < p.n; k += WG) {
        s += exp(x[base + k * p.inner] - m);
    }
    partial[lid] = s;
    s = reduce_sum(lid);
    for (var k = lid; k < p.n; k += WG) {
        let i = base + k * p.inner;
        y[i] = normalised(x[i], m, s);
    }
}
