// 2-D convolution, NCHW: y = act(conv(x, w) + bias + residual), with stride, asymmetric
// padding, dilation and groups. CPU twin: src/cpu/conv2d.rs. Two entry points (1x1
// convolutions run as a plain GEMM in matmul.wgsl):
//
// conv2d_igemm: implicit GEMM per group g (grid z): out[m, n] = sum_k w[m, k] * x[k, n]
// with M = output channels per group, N = batch * OH * OW, K = Cin/groups * KH * KW;
// x[k, n] is gathered from the input on the fly. The tile loop (tiles, register
// blocking, STAGED / direct) is shared/gemm_tile.wgsl; here are its loaders.
//
// conv2d_depthwise: one input channel per group (MobileNet); each invocation computes
// 4 neighbouring outputs along W and loads each weight once for all four.

// The kernel size is compiled in: index arithmetic over k divides by constants.
override KH: u32 = 3u;
override KW: u32 = 3u;
// K % 4 == 0: weight rows are read as vec4.
override VEC_A: bool = false;

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

// Per tile column n: (offset of x[image, group's first channel, ih0, iw0], ih0, iw0, 0),
// where (ih0, iw0) is the input position of the window's top-left tap.
var<workgroup> columns: array<vec4<i32>, 4u * WG_N>;

// Group g's GEMM, and its tile: the first column n0 and, when direct, this
// invocation's columns.
struct Tile {
    g: u32,
    n0: u32,
    columns: array<vec4<i32>, 4>,
}

// w[group's row m, k .. k + 4], zero past M and K; k % 4 == 0. Branch-free as in
// matmul.wgsl.
fn tile_a(t: Tile, m: u32, k: u32) -> vec4<f32> {
    let mg = p.co / p.groups;
    let kdim = (p.ci / p.groups) * KH * KW;
    let row = (t.g * mg + min(m, mg - 1u)) * kdim;
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

// x[k, n .. n + 4]: from the workgroup's column table when STAGED, else from this
// invocation's own columns (n is then always its first).
fn tile_b(t: Tile, k: u32, n: u32) -> vec4<f32> {
    if STAGED {
        let c = n - t.n0;
        return gather4(columns[c], columns[c + 1u], columns[c + 2u], columns[c + 3u], k);
    }
    return gather4(t.columns[0], t.columns[1], t.columns[2], t.columns[3], k);
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
fn tile_store(t: Tile, m: u32, n: u32, v: vec4<f32>) {
    let mg = p.co / p.groups;
    let ohw = p.oh * p.ow;
    for (var j = 0u; j < 4u; j++) {
        if m < mg && n + j < p.batch * ohw {
            let channel = t.g * mg + m;
            let at = ((n + j) / ohw * p.co + channel) * ohw + (n + j) % ohw;
            y[at] = epilogue(v[j], channel, at);
        }
    }
}

@compute @workgroup_size(WG_M * WG_N)
fn conv2d_igemm(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    // Whole workgroups leave together, so the barriers stay in uniform control flow.
    let tile = workgroup_index(wg);
    if tile >= p.tiles {
        return;
    }
    let g = wg.wid.z;
    let m0 = (tile % p.tiles_m) * ROWS * WG_M;
    let n0 = (tile / p.tiles_m) * 4u * WG_N;
    var t = Tile(g, n0, array<vec4<i32>, 4>());
    if STAGED {
        for (var c = lid; c < 4u * WG_N; c += WG_M * WG_N) {
            columns[c] = column(g, n0 + c);
        }
        workgroupBarrier();
    } else {
        let n = n0 + (lid % WG_N) * 4u;
        t.columns = array(column(g, n), column(g, n + 1u), column(g, n + 2u), column(g, n + 3u));
    }
    gemm_tile(t, lid, m0, n0, (p.ci / p.groups) * KH * KW);
}

@compute @workgroup_size(DW_GROUP)
fn conv2d_depthwise(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let blocks = (p.ow + 3u) / 4u;
    let i = global_index(wg, lid, DW_GROUP);
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
