// 2-D convolution, NCHW: y = act(conv(x, w) + bias + residual), with stride, asymmetric
// padding, dilation and groups. CPU twin: src/cpu/conv2d.rs. Two entry points (1x1
// convolutions run as a plain GEMM in matmul.wgsl):
//
// conv2d_igemm: implicit GEMM per group g (grid z): out[m, n] = sum_k w[m, k] * x[k, n]
// with M = output channels per group, N = batch * OH * OW, K = Cin/groups * KH * KW;
// x[k, n] is gathered from the input on the fly. Tiles, register blocking and the
// STAGED / direct choice as in matmul.wgsl: each invocation computes ROWS x 4 outputs,
// a workgroup ROWS WG_M x 4 WG_N.
//
// conv2d_depthwise: one input channel per group (MobileNet); each invocation computes
// 4 neighbouring outputs along W and loads each weight once for all four.

override WG_M: u32 = 16u;
override WG_N: u32 = 16u;
// The kernel size is compiled in: index arithmetic over k divides by constants.
override KH: u32 = 3u;
override KW: u32 = 3u;
override STAGED: bool = true;
override ROWS: u32 = 4u;  // 4 when STAGED, as in matmul.wgsl
// K % 4 == 0: weight rows are read as vec4.
override VEC_A: bool = false;

const BK: u32 = 16u;
const DW_GROUP: u32 = 64u;
// Far enough out of range that adding any kernel offset stays out of range.
const FAR: i32 = -0x40000000;

struct Params {
    batch: u32,
    ci: u32,
    h: u32,
    w: u32,
    co: u32,
    oh: u32,
    ow: u32,
    groups: u32,
    stride_h: u32,
    stride_w: u32,
    pad_top: u32,
    pad_left: u32,
    dil_h: u32,
    dil_w: u32,
    has_bias: u32,
    has_residual: u32,
    kind: u32,
    act_a: f32,
    act_b: f32,
    tiles_m: u32,
    tiles: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
// The weights w (binding 2) and their readers w_vec4/w_elem come from a prelude:
// shared/conv2d_f32.wgsl, or shared/conv2d_f16.wgsl for f16 weights.
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> residual: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

var<workgroup> a_tile: array<vec4<f32>, BK * WG_M>;   // weights, a_tile[k][m]
var<workgroup> b_tile: array<vec4<f32>, BK * WG_N>;   // gathered inputs, b_tile[k][n]
// Per tile column n: (offset of x[image, group's first channel, ih0, iw0], ih0, iw0, 0),
// where (ih0, iw0) is the input position of the window's top-left tap.
var<workgroup> columns: array<vec4<i32>, 4u * WG_N>;

// w[group's row m, k .. k + 4], zero past M and K; k % 4 == 0. Branch-free as in
// matmul.wgsl.
fn w_row(g: u32, m: u32, k: u32) -> vec4<f32> {
    let mg = p.co / p.groups;
    let kdim = (p.ci / p.groups) * KH * KW;
    let row = (g * mg + min(m, mg - 1u)) * kdim;
    if VEC_A {
        let v = w_vec4((row + min(k, kdim - 4u)) >> 2u);
        return select(vec4<f32>(0.0), v, m < mg && k < kdim);
    }
    var v: vec4<f32>;
    for (var q = 0u; q < 4u; q++) {
        v[q] = select(0.0, w_elem(row + min(k + q, kdim - 1u)), m < mg && k + q < kdim);
    }
    return v;
}

// Output column n of group g: (offset of x[image, group's first channel, ih0, iw0],
// ih0, iw0, 0), where (ih0, iw0) is the input position of the window's top-left tap;
// out of range everywhere past N.
fn column(g: u32, n: u32) -> vec4<i32> {
    let ohw = p.oh * p.ow;
    if n >= p.batch * ohw {
        return vec4<i32>(0, FAR, FAR, 0);
    }
    let image = n / ohw;
    let ih0 = i32(((n % ohw) / p.ow) * p.stride_h) - i32(p.pad_top);
    let iw0 = i32((n % p.ow) * p.stride_w) - i32(p.pad_left);
    let base = i32((image * p.ci + g * (p.ci / p.groups)) * p.h * p.w);
    return vec4<i32>(base + ih0 * i32(p.w) + iw0, ih0, iw0, 0);
}

// Tap k of the window, k = (channel * KH + ky) * KW + kx: (offset from the top-left
// tap, dy, dx, 0); out of range everywhere past K.
fn tap(k: u32) -> vec4<i32> {
    if k >= (p.ci / p.groups) * KH * KW {
        return vec4<i32>(0, FAR, FAR, 0);
    }
    let ch = k / (KH * KW);
    let dy = i32(((k / KW) % KH) * p.dil_h);
    let dx = i32((k % KW) * p.dil_w);
    return vec4<i32>(i32(ch * p.h * p.w) + dy * i32(p.w) + dx, dy, dx, 0);
}

// x at tap t of column c, zero in the padding.
fn gather(c: vec4<i32>, t: vec4<i32>) -> f32 {
    let inside = u32(c.y + t.y) < p.h && u32(c.z + t.z) < p.w;
    return select(0.0, x[u32(select(0, c.x + t.x, inside))], inside);
}

// Row k of the input tile for columns c0..c3.
fn gather4(c0: vec4<i32>, c1: vec4<i32>, c2: vec4<i32>, c3: vec4<i32>, k: u32) -> vec4<f32> {
    let t = tap(k);
    return vec4<f32>(gather(c0, t), gather(c1, t), gather(c2, t), gather(c3, t));
}

fn epilogue(v: f32, channel: u32, i: u32) -> f32 {
    var r = v;
    if p.has_bias != 0u {
        r += bias[channel];
    }
    if p.has_residual != 0u {
        r += residual[i];
    }
    return activate(r, p.kind, p.act_a, p.act_b);
}

// y[image(n + j), group's channel m, pixel(n + j)] = epilogue(v[j]), within bounds.
fn store_row(g: u32, m: u32, n: u32, v: vec4<f32>) {
    let mg = p.co / p.groups;
    let ohw = p.oh * p.ow;
    for (var j = 0u; j < 4u; j++) {
        if m < mg && n + j < p.batch * ohw {
            let channel = g * mg + m;
            let at = ((n + j) / ohw * p.co + channel) * ohw + (n + j) % ohw;
            y[at] = epilogue(v[j], channel, at);
        }
    }
}

@compute @workgroup_size(WG_M * WG_N)
fn conv2d_igemm(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    // Whole workgroups leave together, so the barriers stay in uniform control flow.
    let tile = wid.x + wid.y * nwg.x;
    if tile >= p.tiles {
        return;
    }
    let g = wid.z;
    let kdim = (p.ci / p.groups) * KH * KW;
    let m0 = (tile % p.tiles_m) * ROWS * WG_M;
    let n0 = (tile / p.tiles_m) * 4u * WG_N;
    let tx = lid % WG_N;
    let ty = lid / WG_N;
    let m = m0 + ty * ROWS;
    let n = n0 + tx * 4u;
    let threads = WG_M * WG_N;

    // acc[i][j] accumulates output (channel m + i, column n + j).
    var acc: array<vec4<f32>, 8>;
    if STAGED {
        for (var c = lid; c < 4u * WG_N; c += threads) {
            columns[c] = column(g, n0 + c);
        }
        workgroupBarrier();
        for (var k0 = 0u; k0 < kdim; k0 += BK) {
            // Weight tile: 4 x 4 blocks transposed into a_tile[k][m], as in matmul.wgsl.
            for (var e = lid; e < WG_M * BK / 4u; e += threads) {
                let r = (e / (BK / 4u)) * 4u;
                let kq = (e % (BK / 4u)) * 4u;
                var rows: array<vec4<f32>, 4>;
                for (var i = 0u; i < 4u; i++) {
                    rows[i] = w_row(g, m0 + r + i, k0 + kq);
                }
                for (var q = 0u; q < 4u; q++) {
                    a_tile[(kq + q) * WG_M + r / 4u] = vec4<f32>(rows[0][q], rows[1][q], rows[2][q], rows[3][q]);
                }
            }
            // Input tile: BK taps x 4 WG_N columns, 4 columns per item.
            for (var e = lid; e < BK * WG_N; e += threads) {
                let c = (e % WG_N) * 4u;
                b_tile[e] = gather4(columns[c], columns[c + 1u], columns[c + 2u], columns[c + 3u], k0 + e / WG_N);
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
        // Direct: each invocation gathers its own 4 columns, 4 taps at a time.
        let c0 = column(g, n);
        let c1 = column(g, n + 1u);
        let c2 = column(g, n + 2u);
        let c3 = column(g, n + 3u);
        for (var k0 = 0u; k0 < kdim; k0 += 4u) {
            let b0 = gather4(c0, c1, c2, c3, k0);
            let b1 = gather4(c0, c1, c2, c3, k0 + 1u);
            let b2 = gather4(c0, c1, c2, c3, k0 + 2u);
            let b3 = gather4(c0, c1, c2, c3, k0 + 3u);
            let a0 = w_row(g, m, k0);
            let a1 = w_row(g, m + 1u, k0);
            let a2 = w_row(g, m + 2u, k0);
            let a3 = w_row(g, m + 3u, k0);
            acc[0] += a0.x * b0 + a0.y * b1 + a0.z * b2 + a0.w * b3;
            acc[1] += a1.x * b0 + a1.y * b1 + a1.z * b2 + a1.w * b3;
            acc[2] += a2.x * b0 + a2.y * b1 + a2.z * b2 + a2.w * b3;
            acc[3] += a3.x * b0 + a3.y * b1 + a3.z * b2 + a3.w * b3;
            if ROWS == 8u {
                let a4 = w_row(g, m + 4u, k0);
                let a5 = w_row(g, m + 5u, k0);
                let a6 = w_row(g, m + 6u, k0);
                let a7 = w_row(g, m + 7u, k0);
                acc[4] += a4.x * b0 + a4.y * b1 + a4.z * b2 + a4.w * b3;
                acc[5] += a5.x * b0 + a5.y * b1 + a5.z * b2 + a5.w * b3;
                acc[6] += a6.x * b0 + a6.y * b1 + a6.z * b2 + a6.w * b3;
                acc[7] += a7.x * b0 + a7.y * b1 + a7.z * b2 + a7.w * b3;
            }
        }
    }

    // Constant indices into acc throughout: CPU adapters keep it in registers then.
    store_row(g, m, n, acc[0]);
    store_row(g, m + 1u, n, acc[1]);
    store_row(g, m + 2u, n, acc[2]);
    store_row(g, m + 3u, n, acc[3]);
    if ROWS == 8u {
        store_row(g, m + 4u, n, acc[4]);
        store_row(g, m + 5u, n, acc[5]);
        store_row(g, m + 6u, n, acc[6]);
        store_row(g, m + 7u, n, acc[7]);
    }
}

@compute @workgroup_size(DW_GROUP)
fn conv2d_depthwise(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let blocks = (p.ow + 3u) / 4u;
    let i = (wid.x + wid.y * nwg.x) * DW_GROUP + lid;
    if i >= p.batch * p.co * p.oh * blocks {
        return;
    }
    let ox0 = (i % blocks) * 4u;
    let oy = (i / blocks) % p.oh;
    let channel = (i / (blocks * p.oh)) % p.co;
    let image = i / (blocks * p.oh * p.co);
    // One input channel per group; `co / groups` outputs (the multiplier) read it.
    let input = channel / (p.co / p.groups);
    let x_base = (image * p.ci + input) * p.h * p.w;
    let w_base = channel * KH * KW;

    var acc = vec4<f32>(0.0);
    for (var ky = 0u; ky < KH; ky++) {
        let iy = i32(oy * p.stride_h + ky * p.dil_h) - i32(p.pad_top);
        if u32(iy) >= p.h {
            continue;
        }
        let row = x_base + u32(iy) * p.w;
        for (var kx = 0u; kx < KW; kx++) {
            let wv = w_elem(w_base + ky * KW + kx);
            for (var j = 0u; j < 4u; j++) {
                let ix = i32((ox0 + j) * p.stride_w + kx * p.dil_w) - i32(p.pad_left);
                if u32(ix) < p.w {
                    acc[j] += wv * x[row + u32(ix)];
                }
            }
        }
    }
    let out_base = ((image * p.co + channel) * p.oh + oy) * p.ow;
    for (var j = 0u; j < 4u; j++) {
        if ox0 + j < p.ow {
            y[out_base + ox0 + j] = epilogue(acc[j], channel, out_base + ox0 + j);
        }
    }
}
