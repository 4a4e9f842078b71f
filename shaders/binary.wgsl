// out = activate(a OP b) with NumPy broadcasting over up to 8 dimensions.
// CPU twin: src/cpu/binary.rs.

const OP_ADD: u32 = 0u;
const OP_SUB: u32 = 1u;
const OP_MUL: u32 = 2u;
const OP_DIV: u32 = 3u;
const OP_POW: u32 = 4u;
const OP_MAX: u32 = 5u;
const OP_MIN: u32 = 6u;

struct Params {
    len: u32,
    op: u32,
    rank: u32,
    kind: u32,
    act_a: f32,
    act_b: f32,
    _pad0: u32,
    _pad1: u32,
    // Output dims and each input's element strides (0 where broadcast),
    // right-aligned: dimension d of a rank-r output sits at index 8 - r + d.
    dims: array<vec4<u32>, 2>,
    a_strides: array<vec4<u32>, 2>,
    b_strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn at(v: array<vec4<u32>, 2>, d: u32) -> u32 {
    return v[d / 4u][d % 4u];
}

// A float from its bits, computed at run time: WGSL refuses a constant expression
// that evaluates to infinity or NaN (Chrome's compiler enforces it; naga does not).
fn from_bits(b: u32) -> f32 {
    return bitcast<f32>(b);
}

// x ^ y as std's powf: WGSL's pow is undefined for x < 0 and x = 0.
fn power(x: f32, y: f32) -> f32 {
    if y == 0.0 {
        return 1.0;
    }
    if x == 0.0 {
        // +0 for a positive exponent, +inf for a negative one.
        return select(0.0, from_bits(0x7f800000u), y < 0.0);
    }
    let r = pow(abs(x), y);
    if x > 0.0 {
        return r;
    }
    if y != trunc(y) {
        return from_bits(0x7fc00000u);
    }
    // An odd integral exponent keeps the sign (exponents past 2^24 are all even).
    let odd = abs(y) < 16777216.0 && (i32(abs(y)) & 1) == 1;
    return select(r, -r, odd);
}

@compute @workgroup_size(256)
fn binary(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid, 256u);
    if i >= p.len {
        return;
    }
    var rest = i;
    var ia = 0u;
    var ib = 0u;
    for (var d = 7i; d >= i32(8u - p.rank); d--) {
        let du = u32(d);
        let n = at(p.dims, du);
        let c = rest % n;
        rest = rest / n;
        ia += c * at(p.a_strides, du);
        ib += c * at(p.b_strides, du);
    }
    let x = a[ia];
    let y = b[ib];
    var r: f32;
    switch p.op {
        case 0u: { r = x + y; }
        case 1u: { r = x - y; }
        case 2u: { r = x * y; }
        case 3u: { r = x / y; }
        case 4u: { r = power(x, y); }
        case 5u: { r = max(x, y); }
        default: { r = min(x, y); }
    }
    out[i] = activate(r, p.kind, p.act_a, p.act_b);
}
