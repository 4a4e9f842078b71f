// Copies one concat input into its slice of the output. Viewed as [outer, axis, inner],
// the input's runs of chunk_in elements land chunk_out apart, starting at offset.
// Host code: src/kernels/concat.rs; CPU twin: src/cpu/concat.rs.

struct Params {
    len: u32,
    chunk_in: u32,
    chunk_out: u32,
    offset: u32,
}

// Bindings p (Params), x and y: shared/x_to_y.wgsl.

@compute @workgroup_size(256)
fn concat(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid, 256u);
    if i >= p.len {
        return;
    }
    y[(i / p.chunk_in) * p.chunk_out + p.offset + i % p.chunk_in] = x[i];
}
