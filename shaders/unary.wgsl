// y = activate(x), or y = f(x) for a math function, elementwise.
// CPU twin: src/cpu/unary.rs.

struct Params {
    len: u32,
    // The activation's kind, or MATH + the function's (`UnaryOp` in src/ops/unary.rs).
    kind: u32,
    a: f32,
    b: f32,
}

const MATH: u32 = 64u;

// Bindings p (Params), x and y: shared/x_to_y.wgsl.

@compute @workgroup_size(256)
fn unary(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid, 256u);
    if i >= p.len {
        return;
    }
    if p.kind >= MATH {
        y[i] = math(x[i], p.kind - MATH);
    } else {
        y[i] = activate(x[i], p.kind, p.a, p.b);
    }
}

// Abramowitz and Stegun 7.1.26: absolute error below 1.5e-7.
fn erf(v: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.3275911 * abs(v));
    let poly = t * (0.2548296 + t * (-0.2844967 + t * (1.4214138 + t * (-1.453152 + t * 1.0614054))));
    let r = 1.0 - poly * exp(-v * v);
    return select(r, -r, v < 0.0);
}

fn math(v: f32, kind: u32) -> f32 {
    switch kind {
        case 0u: { return ceil(v); }
        case 1u: { return floor(v); }
        // WGSL's round breaks ties to even, as ONNX does.
        case 2u: { return round(v); }
        case 3u: { return sqrt(v); }
        case 4u: { return 1.0 / v; }
        case 5u: { return exp(v); }
        case 6u: { return log(v); }
        case 7u: { return -v; }
        case 8u: { return abs(v); }
        case 9u: { return erf(v); }
        case 10u: { return 0.5 * v * (1.0 + erf(v * 0.70710678)); }
        case 11u: {
            let inner = 0.79788456 * (v + 0.044715 * v * v * v);
            return 0.5 * v * (1.0 + tanh(clamp(inner, -15.0, 15.0)));
        }
        default: { return v; }
    }
}
