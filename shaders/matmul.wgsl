// Batched GEMM: c[b] = act(a[b] x b[b] + bias + residual), every matrix row-major and
// contiguous: a[b] is M x K, b[b] is K x N, c[b] is M x N. CPU twin: src/cpu/matmul.rs.
// Serves `matmul` (bias per column) and 1x1 convolutions (c = W x X per image and
// group, bias per output channel, optional residual).
//
// Each workgroup computes a (ROWS WG_M) x (4 WG_N) tile of c; each invocation a
// ROWS x 4 block in registers, reading a and b as vec4 where rows are 16-byte aligned.
// K is walked in steps of BK (STAGED: a- and b-tiles staged in workgroup memory, for GPUs)
// or of 4 (direct vec4 reads from the storage buffers: on CPU adapters such as
// lavapipe, workgroup memory and barriers cost more than they save).

override WG_M: u32 = 16u;
override WG_N: u32 = 16u;
override STAGED: bool = true;
// Rows of c per invocation: 4 when STAGED; 4 or 8 when direct (8 reuses each b load
// twice as often, ~30% faster on lavapipe).
override ROWS: u32 = 4u;
// K % 4 == 0: a's rows are read as vec4.
override VEC_A: bool = false;
// N % 4 == 0: b's rows are read as vec4.
override VEC_B: bool = false;

const BK: u32 = 16u;
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

// a-tile stored k-major (4 consecutive rows per vec4), b-tile row-major.
var<workgroup> a_tile: array<vec4<f32>, BK * WG_M>;
var<workgroup> b_tile: array<vec4<f32>, BK * WG_N>;

// a[m, k .. k + 4] of the matrix at `base`, zero past M and K; k % 4 == 0. Reads
// clamped in-range indices and selects, without branches: on CPU adapters a branch
// around a load costs more than the load.
fn a_row(base: u32, m: u32, k: u32) -> vec4<f32> {
    let row = base + min(m, p.m - 1u) * p.k;
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

// b[k, n .. n + 4] of the matrix at `base`, zero past K and N; n % 4 == 0.
fn b_row(base: u32, k: u32, n: u32) -> vec4<f32> {
    let row = base + min(k, p.k - 1u) * p.n;
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
fn store_row(batch: u32, m: u32, n: u32, v: vec4<f32>) {
    for (var j = 0u; j < 4u; j++) {
        if m < p.m && n + j < p.n {
            let at = (batch * p.m + m) * p.n + n + j;
            c[at] = epilogue(v[j], batch, m, n + j, at);
        }
    }
}

@compute @workgroup_size(WG_M * WG_N)
fn matmul(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    // Batch from z, tile from the (x, y) grid; whole workgroups leave together, so the
    // barriers below stay in uniform control flow.
    let tile = wid.x + wid.y * nwg.x;
    if tile >= p.tiles {
        return;
    }
    let batch = wid.z;
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
    let tx = lid % WG_N;
    let ty = lid / WG_N;
    let m = m0 + ty * ROWS;
    let n = n0 + tx * 4u;
    let threads = WG_M * WG_N;

    // acc[i][j] accumulates c[m + i, n + j].
    var acc: array<vec4<f32>, 8>;
    if STAGED {
        for (var k0 = 0u; k0 < p.k; k0 += BK) {
            // a-tile: 4 x 4 blocks, transposed into a_tile[k][m] so that each
            // invocation writes whole vectors.
            for (var e = lid; e < WG_M * BK / 4u; e += threads) {
                let r = (e / (BK / 4u)) * 4u;
                let kq = (e % (BK / 4u)) * 4u;
                var rows: array<vec4<f32>, 4>;
                for (var i = 0u; i < 4u; i++) {
                    rows[i] = a_row(a_base, m0 + r + i, k0 + kq);
                }
                for (var q = 0u; q < 4u; q++) {
                    a_tile[(kq + q) * WG_M + r / 4u] = vec4<f32>(rows[0][q], rows[1][q], rows[2][q], rows[3][q]);
                }
            }
            for (var e = lid; e < BK * WG_N; e += threads) {
                b_tile[e] = b_row(b_base, k0 + e / WG_N, n0 + (e % WG_N) * 4u);
            }
            workgroupBarrier();
            for (var kk = 0u; kk < BK; kk++) {
                let av = a_tile[kk * WG_M + ty];
                let bv = b_tile[kk * WG_N + tx];
                acc[0] += av.x * bv;
                acc[1] += av.y * bv;
                acc[2] += av.z * bv;
                acc[3] += av.w * bv;
            }
            workgroupBarrier();
        }
    } else {
        // Direct: each invocation reads its blocks of a and b, 4 k at a time.
        for (var k0 = 0u; k0 < p.k; k0 += 4u) {
            let b0 = b_row(b_base, k0, n);
            let b1 = b_row(b_base, k0 + 1u, n);
            let b2 = b_row(b_base, k0 + 2u, n);
            let b3 = b_row(b_base, k0 + 3u, n);
            let a0 = a_row(a_base, m, k0);
            let a1 = a_row(a_base, m + 1u, k0);
            let a2 = a_row(a_base, m + 2u, k0);
            let a3 = a_row(a_base, m + 3u, k0);
            acc[0] += a0.x * b0 + a0.y * b1 + a0.z * b2 + a0.w * b3;
            acc[1] += a1.x * b0 + a1.y * b1 + a1.z * b2 + a1.w * b3;
            acc[2] += a2.x * b0 + a2.y * b1 + a2.z * b2 + a2.w * b3;
            acc[3] += a3.x * b0 + a3.y * b1 + a3.z * b2 + a3.w * b3;
            if ROWS == 8u {
                let a4 = a_row(a_base, m + 4u, k0);
                let a5 = a_row(a_base, m + 5u, k0);
                let a6 = a_row(a_base, m + 6u, k0);
                let a7 = a_row(a_base, m + 7u, k0);
                acc[4] += a4.x * b0 + a4.y * b1 + a4.z * b2 + a4.w * b3;
                acc[5] += a5.x * b0 + a5.y * b1 + a5.z * b2 + a5.w * b3;
                acc[6] += a6.x * b0 + a6.y * b1 + a6.z * b2 + a6.w * b3;
                acc[7] += a7.x * b0 + a7.y * b1 + a7.z * b2 + a7.w * b3;
            }
        }
    }

    // Constant indices into acc throughout: CPU adapters keep it in registers then.
    store_row(batch, m, n, acc[0]);
    store_row(batch, m + 1u, n, acc[1]);
    store_row(batch, m + 2u, n, acc[2]);
    store_row(batch, m + 3u, n, acc[3]);
    if ROWS == 8u {
        store_row(batch, m + 4u, n, acc[4]);
        store_row(batch, m + 5u, n, acc[5]);
        store_row(batch, m + 6u, n, acc[6]);
        store_row(batch, m + 7u, n, acc[7]);
    }
}
