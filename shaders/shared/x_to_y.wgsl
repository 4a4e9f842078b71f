// The bindings of a kernel with one input tensor and one output, in the convention of
// `Runtime::dispatch` (src/device/pipeline.rs): the kernel's `Params` (which it
// defines) at 0, x at 1, y at 2.

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
