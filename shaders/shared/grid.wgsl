// Where an invocation stands in a dispatch. The host splits a large dispatch's
// workgroups over x and y (`grid` in src/device/pipeline.rs); every kernel recovers the
// linear workgroup index and bound-checks it.

//
// The workgroup's builtins only: uniform across the workgroup. Tint's uniformity
// analysis takes a struct parameter as one value, so the invocation's own index
// (non-uniform) is a parameter of its own, or no barrier after a bound check would
// compile in the browser.
struct Workgroup {
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
}

// The workgroup's linear index over the x-y grid.
fn workgroup_index(wg: Workgroup) -> u32 {
    return wg.wid.x + wg.wid.y * wg.nwg.x;
}

// Invocation `lid`'s linear index, `per_group` invocations to a workgroup.
fn global_index(wg: Workgroup, lid: u32, per_group: u32) -> u32 {
    return workgroup_index(wg) * per_group + lid;
}
