// Where an invocation stands in a dispatch. The host splits a large dispatch's
// workgroups over x and y (`grid` in src/device/pipeline.rs); every kernel recovers the
// linear workgroup index and bound-checks it.

struct Invocation {
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
}

// The workgroup's linear index over the x-y grid.
fn workgroup_index(inv: Invocation) -> u32 {
    return inv.wid.x + inv.wid.y * inv.nwg.x;
}

// The invocation's linear index, `per_group` invocations to a workgroup.
fn global_index(inv: Invocation, per_group: u32) -> u32 {
    return workgroup_index(inv) * per_group + inv.lid;
}
