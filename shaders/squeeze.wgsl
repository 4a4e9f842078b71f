// Global pooling: out[n, c] = mean (or max) of the H x W plane x[n, c, :, :].
// CPU twin: src/cpu/squeeze.rs.
//
// A workgroup of WG invocations reduces WG / lanes planes side by side, `lanes`
// invocations per plane (a power of two the host picks from H * W and the adapter,
// so small planes do not leave most of a workgroup idle). Each lane folds an interleaved part of its
// plane (lane, lane + lanes, ...: neighbouring lanes read neighbouring addresses),
// then the plane's lanes combine their partial results in a shared-memory tree.
// `squeeze_vec4` is the same with vec4 loads, for planes whose size is a multiple
// of 4 (each plane then starts 16-byte aligned).

// Max pooling instead of average; compiled in.
override MAX_POOL: bool = false;

// `WORKGROUP` in src/kernels/squeeze.rs (tests/shaders.rs checks).
const WG: u32 = 64u;

struct Params {
    planes: u32,  // N * C
    hw: u32,      // H * W
    lanes: u32,   // invocations per plane: a power of two <= WG
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, WG>;

fn combine(a: f32, b: f32) -> f32 {
    if MAX_POOL {
        return max(a, b);
    }
    return a + b;
}

// Tree-reduces each plane's `lanes` values in `partial` and stores the result.
// Called by every invocation (the barriers need the whole workgroup).
fn reduce_and_store(lid: u32, plane: u32, value: f32) {
    partial[lid] = value;
    workgroupBarrier();
    let lane = lid % p.lanes;
    for (var stride = p.lanes / 2u; stride > 0u; stride /= 2u) {
        if lane < stride {
            partial[lid] = combine(partial[lid], partial[lid + stride]);
        }
        workgroupBarrier();
    }
    if lane == 0u && plane < p.planes {
        var r = partial[lid];
        if !MAX_POOL {
            r = r / f32(p.hw);
        }
        out[plane] = r;
    }
}

// The plane this invocation helps reduce: each workgroup takes WG / lanes of them.
fn plane_of(wg: Workgroup, lid: u32) -> u32 {
    return workgroup_index(wg) * (WG / p.lanes) + lid / p.lanes;
}

@compute @workgroup_size(WG)
fn squeeze(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let plane = plane_of(wg, lid);
    let lane = lid % p.lanes;
    var acc = 0.0;
    if plane < p.planes {
        let base = plane * p.hw;
        // Max starts from an element of the plane: no -infinity literal needed.
        if MAX_POOL {
            acc = x[base];
        }
        for (var i = lane; i < p.hw; i += p.lanes) {
            acc = combine(acc, x[base + i]);
        }
    }
    reduce_and_store(lid, plane, acc);
}

@compute @workgroup_size(WG)
fn squeeze_vec4(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let plane = plane_of(wg, lid);
    let lane = lid % p.lanes;
    let hw4 = p.hw / 4u;
    var acc = vec4<f32>(0.0);
    if plane < p.planes {
        let base = plane * hw4;
        if MAX_POOL {
            acc = x4[base];
        }
        for (var i = lane; i < hw4; i += p.lanes) {
            let v = x4[base + i];
            if MAX_POOL {
                acc = max(acc, v);
            } else {
                acc += v;
            }
        }
    }
    reduce_and_store(lid, plane, combine(combine(acc.x, acc.y), combine(acc.z, acc.w)));
}
