// Prelude of conv2d.wgsl: f32 weights. w_vec4 reads the vec4 at a vec4 index, w_elem
// the element at an element index.
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;

fn w_vec4(i: u32) -> vec4<f32> { return w[i]; }
fn w_elem(i: u32) -> f32 { return w[i >> 2u][i & 3u]; }
