// Activation functions shared by every kernel that fuses one into its output.
// Included by the kernels that call `activate` (`shader!` in src/kernels/); CPU twin: src/cpu/activation.rs.
// `kind` values match `Activation::code` in src/kernels/activation.rs.

const ACT_IDENTITY: u32 = 0u;
const ACT_RELU: u32 = 1u;
const ACT_CLIP: u32 = 2u;          // clamp(x, a, b)
const ACT_HARD_SIGMOID: u32 = 3u;  // clamp(a * x + b, 0, 1)
const ACT_HARD_SWISH: u32 = 4u;    // x * clamp(x / 6 + 0.5, 0, 1)
const ACT_SIGMOID: u32 = 5u;
const ACT_SILU: u32 = 6u;          // x * sigmoid(x)
const ACT_TANH: u32 = 7u;

fn sigmoid(x: f32) -> f32 {
    // exp of a non-positive argument never overflows.
    if x >= 0.0 {
        return 1.0 / (1.0 + exp(-x));
    }
    let e = exp(x);
    return e / (1.0 + e);
}

fn activate(x: f32, kind: u32, a: f32, b: f32) -> f32 {
    switch kind {
        case 1u: { return max(x, 0.0); }
        case 2u: { return clamp(x, a, b); }
        case 3u: { return clamp(a * x + b, 0.0, 1.0); }
        case 4u: { return x * clamp(x / 6.0 + 0.5, 0.0, 1.0); }
        case 5u: { return sigmoid(x); }
        case 6u: { return x * sigmoid(x); }
        // Clamped: some drivers build tanh from exp and overflow to NaN.
        case 7u: { return tanh(clamp(x, -15.0, 15.0)); }
        default: { return x; }
    }
}
