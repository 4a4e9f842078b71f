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

// Bindings p (Params), x and y: shared/x_to_y.wgsl.


@compute @workgroup_size(256)
fn transpose(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid, 256u);
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
