// 2-D convolution, NCHW: y = act(conv(x, w) + bias + residual), with stride, asymmetric
// padding, dilation and groups. CPU twin: src/cpu/conv2d.rs. Two entry points (1x1
// convolutions run as a plain GEMM in matmul.wgsl):
//
// conv2d_igemm: implicit GEMM per group g (grid z): out[m, n] = sum_k w[m, k] * x[k, n]
// with M = output channels per group, N = batch * OH * OW, K = Cin/groups * KH * KW;
// x[k, n] is gathered from the input on the fly. Tiles and register blocking as in
// matmul.wgsl: each invocation computes 4 x 4 outputs, a workgroup 4 WG_M x 4 WG_N.
//
// conv2d_depthwise: one input channel per group (MobileNet); each invocation computes
// 4 neighbouring outputs along W and loads each weight once for all four.

override WG_M: u32 = 16u;
override WG_N: u32 = 16u;
// The kernel size is compiled in: index arithmetic over k divides by constants.
override KH: u32 = 3u;
override KW: u32 = 3u;
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
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> residual: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

var<workgroup> a_tile: array<vec4<f32>, BK * WG_M>;   // weights, a_tile[k][m]
var<workgroup> b_tile: array<vec4<f32>, BK * WG_N>;   // gathered inputs, b_tile[k][n]
// Per tile column n: (offset of x[image, group's first channel, ih0, iw0], ih0, iw0, 0),
// where (ih0, iw0) is the input position of the window's top-left tap.
var<workgroup> columns: array<vec4<i32>, 4u * WG_N>;

fn w_at(i: u32) -> f32 {
    return w[i >> 2u][i & 3u];
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
    let mg = p.co / p.groups;
    let cg = p.ci / p.groups;
    let kdim = cg * KH * KW;
    let ohw = p.oh * p.ow;
    let ndim = p.batch * ohw;
    let hw = p.h * p.w;
    let m0 = (tile % p.tiles_m) * 4u * WG_M;
    let n0 = (tile / p.tiles_m) * 4u * WG_N;
    let tx = lid % WG_N;
    let ty = lid / WG_N;
    let threads = WG_M * WG_N;

    for (var c = lid; c < 4u * WG_N; c += threads) {
        let n = n0 + c;
        var info = vec4<i32>(0, FAR, FAR, 0);
        if n < ndim {
            let image = n / ohw;
            let oy = (n % ohw) / p.ow;
            let ox = n % p.ow;
            let ih0 = i32(oy * p.stride_h) - i32(p.pad_top);
            let iw0 = i32(ox * p.stride_w) - i32(p.pad_left);
            let base = i32((image * p.ci + g * cg) * hw);
            info = vec4<i32>(base + ih0 * i32(p.w) + iw0, ih0, iw0, 0);
        }
        columns[c] = info;
    }
    workgroupBarrier();

    var acc: array<vec4<f32>, 4>;
    for (var k0 = 0u; k0 < kdim; k0 += BK) {
        // Weight tile: 4 x 4 blocks transposed into a_tile[k][m], as in matmul.wgsl.
        for (var e = lid; e < WG_M * BK / 4u; e += threads) {
            let r = (e / (BK / 4u)) * 4u;
            let kq = (e % (BK / 4u)) * 4u;
            var rows: array<vec4<f32>, 4>;
            for (var i = 0u; i < 4u; i++) {
                let m = m0 + r + i;
                let at = (g * mg + m) * kdim + k0 + kq;
                if VEC_A {
                    if m < mg && k0 + kq < kdim {
                        rows[i] = w[at >> 2u];
                    }
                } else {
                    for (var q = 0u; q < 4u; q++) {
                        if m < mg && k0 + kq + q < kdim {
                            rows[i][q] = w_at(at + q);
                        }
                    }
                }
            }
            for (var q = 0u; q < 4u; q++) {
                a_tile[(kq + q) * WG_M + r / 4u] = vec4<f32>(rows[0][q], rows[1][q], rows[2][q], rows[3][q]);
            }
        }
        // Input tile: row k is tap (channel, ky, kx) of the window; 4 columns per item.
        for (var e = lid; e < BK * WG_N; e += threads) {
            let r = e / WG_N;
            let c = (e % WG_N) * 4u;
            let k = k0 + r;
            var v = vec4<f32>(0.0);
            if k < kdim {
                let ch = k / (KH * KW);
                let dy = i32(((k / KW) % KH) * p.dil_h);
                let dx = i32((k % KW) * p.dil_w);
                let offset = i32(ch * hw) + dy * i32(p.w) + dx;
                for (var q = 0u; q < 4u; q++) {
                    let col = columns[c + q];
                    if u32(col.y + dy) < p.h && u32(col.z + dx) < p.w {
                        v[q] = x[u32(col.x + offset)];
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

    for (var q = 0u; q < 4u; q++) {
        let n = n0 + tx * 4u + q;
        if n >= ndim {
            continue;
        }
        let image = n / ohw;
        let pixel = n % ohw;
        for (var i = 0u; i < 4u; i++) {
            let m = m0 + ty * 4u + i;
            if m < mg {
                let channel = g * mg + m;
                let at = (image * p.co + channel) * ohw + pixel;
                y[at] = epilogue(acc[i][q], channel, at);
            }
        }
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
            let wv = w_at(w_base + ky * KW + kx);
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
