// Global pooling with subgroup reductions: out[n, c] = mean (or max) of x[n, c, :, :].
// The same bindings and result as squeeze.wgsl (its fallback on adapters without
// subgroups); CPU twin: src/cpu/squeeze.rs.
//
// Each subgroup reduces whole planes: its lanes fold interleaved elements (neighbouring
// lanes read neighbouring addresses), then one subgroupAdd / subgroupMax combines them.
// No workgroup memory and no barriers, which on CPU adapters (lavapipe) is what a
// shared-memory tree costs most: each barrier switches between the workgroup's SIMD
// chunks. A workgroup takes `p.planes_per_group` planes; its subgroups deal them out
// among themselves, so any subgroup size the driver picks covers them all.

override MAX_POOL: bool = false;

// `WORKGROUP` in src/kernels/squeeze.rs (tests/shaders.rs checks).
const WG: u32 = 64u;

struct Params {
    planes: u32,           // N * C
    hw: u32,               // H * W
    planes_per_group: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

fn finish(plane: u32, lane: u32, value: f32) {
    var r: f32;
    if MAX_POOL {
        r = subgroupMax(value);
    } else {
        r = subgroupAdd(value) / f32(p.hw);
    }
    if lane == 0u {
        out[plane] = r;
    }
}

@compute @workgroup_size(WG)
fn squeeze_subgroup(
    inv: Invocation,
    @builtin(subgroup_id) sg: u32,
    @builtin(num_subgroups) sgs: u32,
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(subgroup_size) lanes: u32,
) {
    let first = workgroup_index(inv) * p.planes_per_group;
    let last = min(first + p.planes_per_group, p.planes);
    // Uniform within the subgroup, as the subgroup operations need.
    for (var plane = first + sg; plane < last; plane += sgs) {
        let base = plane * p.hw;
        // Max starts from an element of the plane: no -infinity literal needed.
        var acc = 0.0;
        if MAX_POOL {
            acc = x[base];
        }
        for (var i = lane; i < p.hw; i += lanes) {
            if MAX_POOL {
                acc = max(acc, x[base + i]);
            } else {
                acc += x[base + i];
            }
        }
        finish(plane, lane, acc);
    }
}

// The same with vec4 loads, for planes whose size is a multiple of 4.
@compute @workgroup_size(WG)
fn squeeze_subgroup_vec4(
    inv: Invocation,
    @builtin(subgroup_id) sg: u32,
    @builtin(num_subgroups) sgs: u32,
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(subgroup_size) lanes: u32,
) {
    let first = workgroup_index(inv) * p.planes_per_group;
    let last = min(first + p.planes_per_group, p.planes);
    let hw4 = p.hw / 4u;
    for (var plane = first + sg; plane < last; plane += sgs) {
        let base = plane * hw4;
        var acc = vec4<f32>(0.0);
        if MAX_POOL {
            acc = x4[base];
        }
        for (var i = lane; i < hw4; i += lanes) {
            if MAX_POOL {
                acc = max(acc, x4[base + i]);
            } else {
                acc += x4[base + i];
            }
        }
        var v: f32;
        if MAX_POOL {
            v = max(max(acc.x, acc.y), max(acc.z, acc.w));
        } else {
            v = (acc.x + acc.y) + (acc.z + acc.w);
        }
        finish(plane, lane, v);
    }
}
