// A strided gather: output element i, decomposed over the output dims, reads
// x[offset + sum of its coordinates times the strides], rank <= 8. Transpose: the
// input stride of the axis each output axis comes from (after merging axes that stay
// adjacent), offset 0. Slice and Split: the box's first element and the input
// strides times the steps (negative for a negative step).
// Host code: src/kernels/transpose.rs, src/kernels/slice.rs; CPU twins:
// src/cpu/transpose.rs, src/cpu/slice.rs.

struct Params {
    len: u32,
    rank: u32,
    offset: u32,
    _pad: u32,
    out_dims: array<vec4<u32>, 2>,
    src_strides: array<vec4<i32>, 2>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;


@compute @workgroup_size(256)
fn transpose(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = (wid.x + wid.y * nwg.x) * 256u + lid;
    if i >= p.len {
        return;
    }
    var rest = i;
    var src = i32(p.offset);
    for (var d = i32(p.rank) - 1; d >= 0; d--) {
        let n = p.out_dims[d / 4][d % 4];
        src += i32(rest % n) * p.src_strides[d / 4][d % 4];
        rest /= n;
    }
    y[i] = x[u32(src)];
}
