// Batched GEMM: c[b] = act(a[b] x b[b] + bias + residual), every matrix row-major and
// contiguous: a[b] is M x K, b[b] is K x N, c[b] is M x N. CPU twin: src/cpu/matmul.rs.
// Serves `matmul` (bias per column) and 1x1 convolutions (c = W x X per image and
// group, bias per output channel, optional residual).
//
// The tile loop (tiles, register blocking, STAGED / direct) is shared/gemm_tile.wgsl;
// here are its loaders, reading a and b as vec4 where rows are 16-byte aligned.

// K % 4 == 0: a's rows are read as vec4.
override VEC_A: bool = false;
// N % 4 == 0: b's rows are read as vec4.
override VEC_B: bool = false;

const BIAS_NONE: u32 = 0u;
const BIAS_ROW: u32 = 1u;     // bias[(batch * M + m) % bias_period]: a conv's output channel
const BIAS_COLUMN: u32 = 2u;  // bias[n]

struct Params {
    m: u32,
    n: u32,
    k: u32,
    tiles_m: u32,
    tiles: u32,            // tiles_m * tiles_n
    bias_mode: u32,
    bias_period: u32,
    has_residual: u32,
    kind: u32,
    act_a: f32,
    act_b: f32,
    _pad: u32,
    // Up to 4 batch dimensions (right-aligned, unused ones 1) and the element
    // offset each step along them moves a and b by (0 where broadcast). c and the
    // residual are contiguous over the flattened batch.
    batch_dims: vec4<u32>,
    a_batch_strides: vec4<u32>,
    b_batch_strides: vec4<u32>,
}

@group(0) @binding(0) var<uniform> p: Params;
// a and b (bindings 1 and 2) and their readers a_vec4/a_elem, b_vec4/b_elem come from a prelude:
// shared/matmul_f32.wgsl, or shared/matmul_f16a.wgsl / shared/matmul_f16b.wgsl for f16 weights in a / b.
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> residual: array<f32>;
// Scalar stores: rows of c need not start on a vec4 boundary, and two invocations must
// never write parts of the same vector.
@group(0) @binding(5) var<storage, read_write> c: array<f32>;

// The matrices of one batch item: where a's and b's start, and the item.
struct Tile {
    batch: u32,
    a_base: u32,
    b_base: u32,
}

// a[m, k .. k + 4], zero past M and K; k % 4 == 0. Reads clamped in-range indices and
// selects, without branches: on CPU adapters a branch around a load costs more than
// the load.
fn tile_a(t: Tile, m: u32, k: u32) -> vec4<f32> {
    let row = t.a_base + min(m, p.m - 1u) * p.k;
    if VEC_A {
        let v = a_vec4((row + min(k, p.k - 4u)) >> 2u);
        return select(vec4<f32>(0.0), v, m < p.m && k < p.k);
    }
    var v: vec4<f32>;
    for (var q = 0u; q < 4u; q++) {
        let at = row + min(k + q, p.k - 1u);
        v[q] = select(0.0, a_elem(at), m < p.m && k + q < p.k);
    }
    return v;
}

// b[k, n .. n + 4], zero past K and N; n % 4 == 0.
fn tile_b(t: Tile, k: u32, n: u32) -> vec4<f32> {
    let row = t.b_base + min(k, p.k - 1u) * p.n;
    if VEC_B {
        let v = b_vec4((row + min(n, p.n - 4u)) >> 2u);
        return select(vec4<f32>(0.0), v, k < p.k && n < p.n);
    }
    var v: vec4<f32>;
    for (var q = 0u; q < 4u; q++) {
        let at = row + min(n + q, p.n - 1u);
        v[q] = select(0.0, b_elem(at), k < p.k && n + q < p.n);
    }
    return v;
}

fn epilogue(v: f32, batch: u32, m: u32, n: u32, i: u32) -> f32 {
    var r = v;
    if p.bias_mode == BIAS_ROW {
        let ch = (batch * p.m + m) % p.bias_period;
        r += bias[ch];
    } else if p.bias_mode == BIAS_COLUMN {
        r += bias[n];
    }
    if p.has_residual != 0u {
        r += residual[i];
    }
    return activate(r, p.kind, p.act_a, p.act_b);
}

// c[m, n .. n + 4] = epilogue(v), within bounds.
fn tile_store(t: Tile, m: u32, n: u32, v: vec4<f32>) {
    for (var j = 0u; j < 4u; j++) {
        if m < p.m && n + j < p.n {
            let at = (t.batch * p.m + m) * p.n + n + j;
            c[at] = epilogue(v[j], t.batch, m, n + j, at);
        }
    }
}

@compute @workgroup_size(WG_M * WG_N)
fn matmul(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    // Batch from z, tile from the (x, y) grid; whole workgroups leave together, so the
    // tile loop's barriers stay in uniform control flow.
    let tile = workgroup_index(wg);
    if tile >= p.tiles {
        return;
    }
    let batch = wg.wid.z;
    var rest = batch;
    var a_base = 0u;
    var b_base = 0u;
    for (var d = 3i; d >= 0; d--) {
        let ix = rest % p.batch_dims[d];
        rest /= p.batch_dims[d];
        a_base += ix * p.a_batch_strides[d];
        b_base += ix * p.b_batch_strides[d];
    }
    let m0 = (tile % p.tiles_m) * ROWS * WG_M;
    let n0 = (tile / p.tiles_m) * 4u * WG_N;
    gemm_tile(Tile(batch, a_base, b_base), lid, m0, n0, p.k);
}
