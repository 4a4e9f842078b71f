// The SE excitation MLP, per batch item n:
//   hidden = act_h(w1 . s[n] + b1)        w1 [R, C]  (ONNX 1x1-conv layout)
//   out[n] = act_g(w2 . hidden + b2)      w2 [C, R]
// CPU twin: src/cpu/excite.rs.
//
// One workgroup per batch item. The hidden vector goes through workgroup memory in
// chunks of WG / split units (so any R fits). For each chunk, `split` invocations
// share each hidden unit's dot product over C (strided, then a shared-memory tree:
// with a small R the whole workgroup still works on FC1), then each invocation adds
// that chunk's contribution to its output channels (c = lid, lid + WG, ...). The
// running FC2 sums live in `out` between chunks: every output element is only ever
// touched by the same invocation.

// Must match `WORKGROUP` in src/kernels/excite.rs.
const WG: u32 = 256u;

struct Params {
    batch: u32,
    channels: u32,
    reduced: u32,
    hidden_kind: u32,
    hidden_a: f32,
    hidden_b: f32,
    gate_kind: u32,
    gate_a: f32,
    gate_b: f32,
    split: u32,  // invocations per hidden unit in FC1: a power of two <= WG
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> s: array<f32>;
@group(0) @binding(2) var<storage, read> w1: array<f32>;
@group(0) @binding(3) var<storage, read> b1: array<f32>;
@group(0) @binding(4) var<storage, read> w2: array<f32>;
@group(0) @binding(5) var<storage, read> b2: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, WG>;
var<workgroup> hidden: array<f32, WG>;

@compute @workgroup_size(WG)
fn excite(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let n = wid.x + wid.y * nwg.x;
    // The same for the whole workgroup, so the barriers below stay uniform.
    if n >= p.batch {
        return;
    }
    let C = p.channels;
    let R = p.reduced;
    let row = n * C;
    let units = WG / p.split;
    let part = lid % p.split;
    for (var r0 = 0u; r0 < R; r0 += units) {
        // FC1: hidden unit r0 + lid / split, this invocation's share of its dot product.
        let r = r0 + lid / p.split;
        var acc = 0.0;
        if r < R {
            for (var c = part; c < C; c += p.split) {
                acc += w1[r * C + c] * s[row + c];
            }
        }
        partial[lid] = acc;
        workgroupBarrier();
        for (var stride = p.split / 2u; stride > 0u; stride /= 2u) {
            if part < stride {
                partial[lid] += partial[lid + stride];
            }
            workgroupBarrier();
        }
        if part == 0u && r < R {
            hidden[lid / p.split] = activate(partial[lid] + b1[r], p.hidden_kind, p.hidden_a, p.hidden_b);
        }
        workgroupBarrier();
        // FC2 over this chunk's hidden units.
        let count = min(units, R - r0);
        for (var c = lid; c < C; c += WG) {
            var acc: f32;
            if r0 == 0u {
                acc = b2[c];
            } else {
                acc = out[row + c];
            }
            for (var j = 0u; j < count; j++) {
                acc += w2[c * R + r0 + j] * hidden[j];
            }
            out[row + c] = acc;
        }
        // `partial` and `hidden` are rewritten by the next chunk.
        workgroupBarrier();
    }
    for (var c = lid; c < C; c += WG) {
        out[row + c] = activate(out[row + c], p.gate_kind, p.gate_a, p.gate_b);
    }
}

// The MLP as two passes over many workgroups instead of one workgroup per image
// (`kernels::excite::se_block`), each without workgroup memory or barriers, which CPU
// adapters (lavapipe) pay for heavily. First layer:
//   hidden_out[n, r] = act_h(w1[r, :] . s[n, :] + b1[r])
// One invocation per (n, r), each over a contiguous row of w1 (vec4 loads in the
// `_vec4` entry, where C is a multiple of 4; separate entries because one entry point
// may not use both views of a binding). The output aliases binding 4.

@group(0) @binding(1) var<storage, read> s4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w1_4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> hidden_out: array<f32>;

// Must match `HIDDEN_WORKGROUP` in src/kernels/excite.rs.
const HIDDEN_WG: u32 = 64u;

@compute @workgroup_size(HIDDEN_WG)
fn excite_hidden(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.x + wid.y * nwg.x) * HIDDEN_WG + lid;
    if i >= p.batch * p.reduced {
        return;
    }
    let n = i / p.reduced;
    let r = i % p.reduced;
    var acc = 0.0;
    for (var c = 0u; c < p.channels; c++) {
        acc += w1[r * p.channels + c] * s[n * p.channels + c];
    }
    hidden_out[i] = activate(acc + b1[r], p.hidden_kind, p.hidden_a, p.hidden_b);
}

// The same with vec4 loads, where C is a multiple of 4.
@compute @workgroup_size(HIDDEN_WG)
fn excite_hidden_vec4(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.x + wid.y * nwg.x) * HIDDEN_WG + lid;
    if i >= p.batch * p.reduced {
        return;
    }
    let n = i / p.reduced;
    let r = i % p.reduced;
    let c4 = p.channels / 4u;
    var sum = vec4<f32>(0.0);
    for (var j = 0u; j < c4; j++) {
        sum += w1_4[r * c4 + j] * s4[n * c4 + j];
    }
    let acc = (sum.x + sum.y) + (sum.z + sum.w);
    hidden_out[i] = activate(acc + b1[r], p.hidden_kind, p.hidden_a, p.hidden_b);
}

// Second layer and gate: one invocation per (n, c) over a contiguous row of w2 (vec4
// loads in the `_vec4` entry, where R is a multiple of 4). Reads the hidden layer
// through binding 1 and writes the gates through binding 4:
//   gate_out[n, c] = act_g(w2[c, :] . hidden_in[n, :] + b2[c])
@group(0) @binding(1) var<storage, read> hidden_in: array<f32>;
@group(0) @binding(1) var<storage, read> hidden_in4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w2_rows: array<f32>;
@group(0) @binding(2) var<storage, read> w2_rows4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> b2_in: array<f32>;
@group(0) @binding(4) var<storage, read_write> gate_out: array<f32>;

@compute @workgroup_size(HIDDEN_WG)
fn excite_gate(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.x + wid.y * nwg.x) * HIDDEN_WG + lid;
    if i >= p.batch * p.channels {
        return;
    }
    let n = i / p.channels;
    let c = i % p.channels;
    var acc = b2_in[c];
    for (var j = 0u; j < p.reduced; j++) {
        acc += w2_rows[c * p.reduced + j] * hidden_in[n * p.reduced + j];
    }
    gate_out[i] = activate(acc, p.gate_kind, p.gate_a, p.gate_b);
}

@compute @workgroup_size(HIDDEN_WG)
fn excite_gate_vec4(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.x + wid.y * nwg.x) * HIDDEN_WG + lid;
    if i >= p.batch * p.channels {
        return;
    }
    let n = i / p.channels;
    let c = i % p.channels;
    let r4 = p.reduced / 4u;
    var sum = vec4<f32>(0.0);
    for (var j = 0u; j < r4; j++) {
        sum += w2_rows4[c * r4 + j] * hidden_in4[n * r4 + j];
    }
    gate_out[i] = activate(b2_in[c] + (sum.x + sum.y) + (sum.z + sum.w), p.gate_kind, p.gate_a, p.gate_b);
}
