enable f16;

// Prelude of matmul.wgsl: a (a 1x1 convolution's weights) stored as f16, half the
// memory and bandwidth; every product and sum stays f32. `enable` must open the module, so this comes first.
@group(0) @binding(1) var<storage, read> a: array<vec4<f16>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;

fn a_vec4(i: u32) -> vec4<f32> { return vec4<f32>(a[i]); }
fn a_elem(i: u32) -> f32 { return f32(a[i >> 2u][i & 3u]); }
fn b_vec4(i: u32) -> vec4<f32> { return b[i]; }
fn b_elem(i: u32) -> f32 { return b[i >> 2u][i & 3u]; }
