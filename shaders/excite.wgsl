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

// `WORKGROUP` in src/kernels/excite.rs (tests/shaders.rs checks).
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
fn excite(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let n = workgroup_index(wg);
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
// adapters (lavapipe) pay for heavily. Both passes are the same fully connected layer
//   y[n, o] = act(w[o, :] . x[n, :] + bias[o])
// run once as FC1 (x = squeezed s, w = w1, act = the hidden activation) and once as FC2
// (x = hidden, w = w2, act = the gate). One invocation per (n, o), each over a
// contiguous row of w (vec4 loads in `excite_layer_vec4`, where the input length is a
// multiple of 4; separate entries because one entry point may not use both views of
// a binding). Bindings: 1 x, 2 w, 3 bias, 4 y.

struct LayerParams {
    batch: u32,
    inputs: u32,
    outputs: u32,
    kind: u32,
    act_a: f32,
    act_b: f32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> lp: LayerParams;
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

// `LAYER_WORKGROUP` in src/kernels/excite.rs (tests/shaders.rs checks).
const LAYER_WG: u32 = 64u;

@compute @workgroup_size(LAYER_WG)
fn excite_layer(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid, LAYER_WG);
    if i >= lp.batch * lp.outputs {
        return;
    }
    let n = i / lp.outputs;
    let o = i % lp.outputs;
    var acc = 0.0;
    for (var j = 0u; j < lp.inputs; j++) {
        acc += w1[o * lp.inputs + j] * s[n * lp.inputs + j];
    }
    y[i] = activate(acc + b1[o], lp.kind, lp.act_a, lp.act_b);
}

@compute @workgroup_size(LAYER_WG)
fn excite_layer_vec4(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid, LAYER_WG);
    if i >= lp.batch * lp.outputs {
        return;
    }
    let n = i / lp.outputs;
    let o = i % lp.outputs;
    let k4 = lp.inputs / 4u;
    var sum = vec4<f32>(0.0);
    for (var j = 0u; j < k4; j++) {
        sum += w4[o * k4 + j] * x4[n * k4 + j];
    }
    let acc = (sum.x + sum.y) + (sum.z + sum.w);
    y[i] = activate(acc + b1[o], lp.kind, lp.act_a, lp.act_b);
}
