enable f16;

// Prelude of conv2d.wgsl: weights stored as f16, half the memory and bandwidth; every
// product and sum stays f32. `enable` must open the module, so this comes first.
@group(0) @binding(2) var<storage, read> w: array<vec4<f16>>;

fn w_vec4(i: u32) -> vec4<f32> { return vec4<f32>(w[i]); }
fn w_elem(i: u32) -> f32 { return f32(w[i >> 2u][i & 3u]); }
