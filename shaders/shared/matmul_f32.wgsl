// Prelude of matmul.wgsl: both operands f32. a_vec4/b_vec4 read the vec4 at a vec4 index,
// a_elem/b_elem the element at an element index.
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;

fn a_vec4(i: u32) -> vec4<f32> { return a[i]; }
fn a_elem(i: u32) -> f32 { return a[i >> 2u][i & 3u]; }
fn b_vec4(i: u32) -> vec4<f32> { return b[i]; }
fn b_elem(i: u32) -> f32 { return b[i >> 2u][i & 3u]; }
