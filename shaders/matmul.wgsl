// Batched GEMM: c[b] = act(a[b] x b[b] + bias + residual), every matrix row-major and
// contiguous: a[b] is M x K, b[b] is K x N, c[b] is M x N. CPU twin: src/cpu/matmul.rs.
// Serves `matmul` (bias per column) and 1x1 convolutions (c = W x X per image and
// group, bias per output channel, optional residual).
//
// Each workgroup computes a (4 WG_M) x (4 WG_N) tile of c; each invocation a 4 x 4
// block in registers. K is walked in steps of BK, staging an a-tile and a b-tile in
// workgroup memory. On lavapipe register blocking and vec4 accesses are what make it
// fast (platform.md); the tile shape is chosen per problem by the host.

override WG_M: u32 = 16u;
override WG_N: u32 = 16u;
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
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> residual: array<f32>;
// Scalar stores: rows of c need not start on a vec4 boundary, and two invocations must
// never write parts of the same vector.
@group(0) @binding(5) var<storage, read_write> c: array<f32>;

// a-tile stored k-major (4 consecutive rows per vec4), b-tile row-major.
var<workgroup> a_tile: array<vec4<f32>, BK * WG_M>;
var<workgroup> b_tile: array<vec4<f32>, BK * WG_N>;

fn a_at(i: u32) -> f32 {
    return a[i >> 2u][i & 3u];
}

fn b_at(i: u32) -> f32 {
    return b[i >> 2u][i & 3u];
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
    let m0 = (tile % p.tiles_m) * 4u * WG_M;
    let n0 = (tile / p.tiles_m) * 4u * WG_N;
    let tx = lid % WG_N;
    let ty = lid / WG_N;
    let threads = WG_M * WG_N;

    var acc: array<vec4<f32>, 4>;
    for (var k0 = 0u; k0 < p.k; k0 += BK) {
        // a-tile: bm rows x BK columns, as blocks of 4 x 4 transposed into a_tile[k][m],
        // each invocation writing whole vectors.
        for (var e = lid; e < WG_M * BK / 4u; e += threads) {
            let r = (e / (BK / 4u)) * 4u;
            let kq = (e % (BK / 4u)) * 4u;
            var rows: array<vec4<f32>, 4>;
            for (var i = 0u; i < 4u; i++) {
                let m = m0 + r + i;
                let at = a_base + m * p.k + k0 + kq;
                if VEC_A {
                    if m < p.m && k0 + kq < p.k {
                        rows[i] = a[at >> 2u];
                    }
                } else {
                    for (var q = 0u; q < 4u; q++) {
                        if m < p.m && k0 + kq + q < p.k {
                            rows[i][q] = a_at(at + q);
                        }
                    }
                }
            }
            for (var q = 0u; q < 4u; q++) {
                a_tile[(kq + q) * WG_M + r / 4u] = vec4<f32>(rows[0][q], rows[1][q], rows[2][q], rows[3][q]);
            }
        }
        // b-tile: BK rows x bn columns.
        for (var e = lid; e < BK * WG_N; e += threads) {
            let r = e / WG_N;
            let n = n0 + (e % WG_N) * 4u;
            var v = vec4<f32>(0.0);
            if k0 + r < p.k {
                let row = b_base + (k0 + r) * p.n;
                if VEC_B {
                    if n < p.n {
                        v = b[(row + n) >> 2u];
                    }
                } else {
                    for (var q = 0u; q < 4u; q++) {
                        if n + q < p.n {
                            v[q] = b_at(row + n + q);
                        }
                    }
                }
            }
            b_tile[e] = v;
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

    let n = n0 + tx * 4u;
    for (var i = 0u; i < 4u; i++) {
        let m = m0 + ty * 4u + i;
        for (var q = 0u; q < 4u; q++) {
            if m < p.m && n + q < p.n {
                let at = (batch * p.m + m) * p.n + n + q;
                c[at] = epilogue(acc[i][q], batch, m, n + q, at);
            }
        }
    }
}
