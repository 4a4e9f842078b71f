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

struct Subgroup {
    @builtin(subgroup_id) id: u32,
    @builtin(num_subgroups) count: u32,
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(subgroup_size) lanes: u32,
}

// The planes of this workgroup that subgroup s reduces: first + s.id, then every
// s.count-th, up to but not including `end`. Uniform within the subgroup, as the
// subgroup operations need.
fn first_plane(wg: Workgroup, s: Subgroup) -> u32 {
    return workgroup_index(wg) * p.planes_per_group + s.id;
}

fn end_plane(wg: Workgroup) -> u32 {
    return min((workgroup_index(wg) + 1u) * p.planes_per_group, p.planes);
}

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
fn squeeze_subgroup(wg: Workgroup, @builtin(local_invocation_index) lid: u32, s: Subgroup) {
    let lane = s.lane;
    let lanes = s.lanes;
    for (var plane = first_plane(wg, s); plane < end_plane(wg); plane += s.count) {
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
fn squeeze_subgroup_vec4(wg: Workgroup, @builtin(local_invocation_index) lid: u32, s: Subgroup) {
    let lane = s.lane;
    let lanes = s.lanes;
    let hw4 = p.hw / 4u;
    for (var plane = first_plane(wg, s); plane < end_plane(wg); plane += s.count) {
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
