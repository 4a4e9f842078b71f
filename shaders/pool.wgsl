// 2-D max and average pooling over NCHW planes, one invocation per output element.
// Host code (shape checks, ONNX semantics): src/kernels/pool.rs; CPU twin: src/cpu/pool.rs.
// The host guarantees every window covers at least one input element.

// Average pooling: divide by the taps inside the padded input, not only real elements.
override COUNT_INCLUDE_PAD: bool = false;

struct Params {
    len: u32,
    h: u32,
    w: u32,
    oh: u32,
    ow: u32,
    kh: u32,
    kw: u32,
    sh: u32,
    sw: u32,
    dh: u32,
    dw: u32,
    pad_top: u32,
    pad_left: u32,
    pad_bottom: u32,
    pad_right: u32,
    _pad: u32,
}

// Bindings p (Params), x and y: shared/x_to_y.wgsl.

// Where output element i's window starts: (first element of its input plane,
// top row, left column); rows and columns may be negative (in the padding).
fn window(i: u32) -> vec3<i32> {
    let ox = i % p.ow;
    let oy = (i / p.ow) % p.oh;
    let plane = i / (p.ow * p.oh);
    return vec3<i32>(
        i32(plane * p.h * p.w),
        i32(oy * p.sh) - i32(p.pad_top),
        i32(ox * p.sw) - i32(p.pad_left),
    );
}

@compute @workgroup_size(256)
fn max_pool2d(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid, 256u);
    if i >= p.len {
        return;
    }
    let o = window(i);
    // Seeded from the first real element, so padding never wins and -inf inputs survive.
    var m = 0.0;
    var seen = false;
    for (var ky = 0u; ky < p.kh; ky++) {
        let iy = o.y + i32(ky * p.dh);
        if iy < 0 || iy >= i32(p.h) {
            continue;
        }
        for (var kx = 0u; kx < p.kw; kx++) {
            let ix = o.z + i32(kx * p.dw);
            if ix < 0 || ix >= i32(p.w) {
                continue;
            }
            let v = x[o.x + iy * i32(p.w) + ix];
            if !seen || v > m {
                m = v;
                seen = true;
            }
        }
    }
    y[i] = m;
}

@compute @workgroup_size(256)
fn avg_pool2d(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid, 256u);
    if i >= p.len {
        return;
    }
    let o = window(i);
    var sum = 0.0;
    var count = 0u;
    for (var ky = 0u; ky < p.kh; ky++) {
        let iy = o.y + i32(ky * p.dh);
        let real_y = iy >= 0 && iy < i32(p.h);
        // Windows start at or after -pad_top, so only the end of the padding can be passed.
        let padded_y = iy < i32(p.h + p.pad_bottom);
        for (var kx = 0u; kx < p.kw; kx++) {
            let ix = o.z + i32(kx * p.dw);
            let real_x = ix >= 0 && ix < i32(p.w);
            let padded_x = ix < i32(p.w + p.pad_right);
            if real_y && real_x {
                sum += x[o.x + iy * i32(p.w) + ix];
                count += 1u;
            } else if COUNT_INCLUDE_PAD && padded_y && padded_x {
                count += 1u;
            }
        }
    }
    y[i] = sum / f32(count);
}
