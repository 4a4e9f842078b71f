// out[n, c, h, w] = activate(x[n, c, h, w] * g[n, c] + residual[n, c, h, w]):
// the end of an SE(-ResNet) block (channel scaling, identity add, ReLU) in one pass.
// CPU twin: src/cpu/scale.rs.
//
// `scale_vec4` handles four elements per invocation when H * W is a multiple of 4
// (a vec4 then never straddles two planes, so it shares one gate); `scale` does one
// element per invocation for every other size.

// Whether `residual` is added; without one the host binds `x` in its place.
override HAS_RESIDUAL: bool = false;

struct Params {
    len: u32,  // elements of x
    hw: u32,   // H * W
    kind: u32,
    act_a: f32,
    act_b: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read> residual: array<f32>;
@group(0) @binding(3) var<storage, read> residual4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> out4: array<vec4<f32>>;

@compute @workgroup_size(256)
fn scale(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid, 256u);
    if i >= p.len {
        return;
    }
    var v = x[i] * g[i / p.hw];
    if HAS_RESIDUAL {
        v += residual[i];
    }
    out[i] = activate(v, p.kind, p.act_a, p.act_b);
}

@compute @workgroup_size(256)
fn scale_vec4(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid, 256u);
    if i >= p.len / 4u {
        return;
    }
    var v = x4[i] * g[i * 4u / p.hw];
    if HAS_RESIDUAL {
        v += residual4[i];
    }
    out4[i] = vec4<f32>(
        activate(v.x, p.kind, p.act_a, p.act_b),
        activate(v.y, p.kind, p.act_a, p.act_b),
        activate(v.z, p.kind, p.act_a, p.act_b),
        activate(v.w, p.kind, p.act_a, p.act_b),
    );
}
