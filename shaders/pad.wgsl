// ONNX Pad: each output element reads its source element or the constant.
// Host code (shape checks): src/kernels/pad.rs; CPU twin: src/cpu/pad.rs.

// 0 = constant, 1 = reflect, 2 = edge (`PadMode::code`).
override MODE: u32 = 0u;

struct Params {
    len: u32,
    rank: u32,
    value: f32,
    _pad0: u32,
    out_dims: array<vec4<u32>, 2>,
    in_dims: array<vec4<u32>, 2>,
    begins: array<vec4<u32>, 2>,
}

// Bindings p (Params), x and y: shared/x_to_y.wgsl.

fn at(v: array<vec4<u32>, 2>, d: u32) -> u32 {
    return v[d / 4u][d % 4u];
}

@compute @workgroup_size(256)
fn pad(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid, 256u);
    if i >= p.len {
        return;
    }
    var rest = i;
    var src = 0u;
    var stride = 1u;
    for (var d = i32(p.rank) - 1; d >= 0; d--) {
        let du = u32(d);
        let n = at(p.out_dims, du);
        let size = i32(at(p.in_dims, du));
        var c = i32(rest % n) - i32(at(p.begins, du));
        rest /= n;
        if c < 0 || c >= size {
            switch MODE {
                case 1u: {
                    // Reflection is periodic in 2 * (size - 1); wide pads mirror again.
                    let period = 2 * (size - 1);
                    if period == 0 {
                        c = 0;
                    } else {
                        c %= period;
                        if c < 0 {
                            c += period;
                        }
                        if c >= size {
                            c = period - c;
                        }
                    }
                }
                case 2u: {
                    c = clamp(c, 0, size - 1);
                }
                default: {
                    y[i] = p.value;
                    return;
                }
            }
        }
        src += u32(c) * stride;
        stride *= u32(size);
    }
    y[i] = x[src];
}
