// LayerNormalization of a tensor viewed as [rows, n]: one invocation per row, a pass
// for the mean, one for the variance, one to write; each row's mean and inverse
// standard deviation are written too. Scale and bias hold n values or 1 (their
// lengths in the params); without a bias its length is 0.
// Host code: src/kernels/layer_norm.rs; CPU twin: src/cpu/layer_norm.rs.

struct Params {
    rows: u32,
    n: u32,
    scale_len: u32,
    bias_len: u32,
    epsilon: f32,
    // To 32 bytes, as the host writes them.
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> mean_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> inv_std_out: array<f32>;

@compute @workgroup_size(64)
fn layer_norm(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let row = global_index(wg, lid, 64u);
    if row >= p.rows {
        return;
    }
    let base = row * p.n;
    var sum = 0.0;
    for (var k = 0u; k < p.n; k++) {
        sum += x[base + k];
    }
    let mean = sum / f32(p.n);
    var sq = 0.0;
    for (var k = 0u; k < p.n; k++) {
        let d = x[base + k] - mean;
        sq += d * d;
    }
    let inv_std = 1.0 / sqrt(sq / f32(p.n) + p.epsilon);
    mean_out[row] = mean;
    inv_std_out[row] = inv_std;
    for (var k = 0u; k < p.n; k++) {
        let s = scale[select(k, 0u, p.scale_len == 1u)];
        var b = 0.0;
        if p.bias_len > 0u {
            b = bias[select(k, 0u, p.bias_len == 1u)];
        }
        y[base + k] = (x[base + k] - mean) * inv_std * s + b;
    }
}
