//! GPU kernels, one module per WGSL file in `shaders/`, each with a CPU reference of
//! the same name in `crate::cpu`.
//!
//! A kernel is prepared once into a [`Dispatch`] (pipeline, bind group, uniforms and
//! workgroup count) and recorded into as many command buffers as needed: an execution
//! plan prepares all its dispatches at load time and records them per inference.
//!
//! Binding convention for every shader: `@binding(0)` is the kernel's uniform
//! parameters, `@binding(1..)` its tensors, inputs first, then outputs.

pub mod activation;
pub mod binary;
pub mod concat;
pub mod conv2d;
pub mod excite;
pub mod matmul;
pub mod pad;
pub mod pool;
pub mod scale;
pub mod softmax;
pub mod squeeze;
pub mod transpose;
pub mod unary;

/// The [`Shader`](crate::device::Shader) for `shaders/<name>.wgsl`, with the shared
/// activation functions prepended.
macro_rules! shader {
    ($name:literal) => {
        $crate::device::Shader {
            name: $name,
            source: concat!(
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/shaders/activation.wgsl"
                )),
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/shaders/",
                    $name,
                    ".wgsl"
                )),
            ),
        }
    };
    // `name` built from shaders/<prelude>.wgsl, the activation functions, then
    // shaders/<body>.wgsl: a prelude can open with `enable f16;`, which must come first.
    ($name:literal, $prelude:literal, $body:literal) => {
        $crate::device::Shader {
            name: $name,
            source: concat!(
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/shaders/",
                    $prelude,
                    ".wgsl"
                )),
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/shaders/activation.wgsl"
                )),
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/shaders/",
                    $body,
                    ".wgsl"
                )),
            ),
        }
    };
}
pub(crate) use shader;

/// Every shader the runtime builds, for validation tests.
pub const SHADERS: &[crate::device::Shader] = &[
    shader!("unary"),
    shader!("binary"),
    shader!("conv2d", "conv2d_f32", "conv2d"),
    shader!("conv2d_f16", "conv2d_f16", "conv2d"),
    shader!("matmul", "matmul_f32", "matmul"),
    shader!("matmul_f16a", "matmul_f16a", "matmul"),
    shader!("matmul_f16b", "matmul_f16b", "matmul"),
    shader!("squeeze"),
    shader!("squeeze_subgroup"),
    shader!("excite"),
    shader!("scale"),
    shader!("pool"),
    shader!("softmax"),
    shader!("concat"),
    shader!("transpose"),
    shader!("pad"),
];

/// Workgroup count for `n` items at `per_group` items per workgroup.
pub(crate) fn groups(n: usize, per_group: usize) -> u32 {
    n.div_ceil(per_group).try_into().unwrap_or(u32::MAX)
}

use wgpu::util::DeviceExt;

use crate::device::Runtime;
use crate::error::Result;
use crate::tensor::Tensor;

/// One prepared compute dispatch.
pub struct Dispatch {
    pub label: &'static str,
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    workgroups: [u32; 3],
    /// Keeps the bound tensors' pooled buffers reserved while the dispatch exists:
    /// a dropped temporary would otherwise go back to the pool and could be
    /// overwritten by another upload before this dispatch runs.
    _tensors: Vec<Tensor>,
}

impl Dispatch {
    pub fn record(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        let [x, y, z] = self.workgroups;
        pass.dispatch_workgroups(x, y, z);
    }

    pub fn workgroups(&self) -> [u32; 3] {
        self.workgroups
    }
}

/// Splits `count` workgroups over x and y so neither exceeds the per-dimension limit.
/// Shaders recover the linear index as `wid.x + wid.y * nwg.x` and bound-check it.
/// Counts over the limit squared still leave y over it: [`Runtime::dispatch`] rejects
/// those with an error naming the limit.
pub fn grid(rt: &Runtime, count: u32) -> [u32; 3] {
    let max = rt.limits().max_compute_workgroups_per_dimension.max(1);
    if count <= max {
        [count.max(1), 1, 1]
    } else {
        let y = count.div_ceil(max);
        [count.div_ceil(y), y, 1]
    }
}

impl Runtime {
    /// Builds a [`Dispatch`] of `entry` in `shader` over `tensors` with uniform `params`.
    /// Public so benchmarks and experiments can dispatch their own WGSL.
    pub fn dispatch<P: bytemuck::Pod>(
        &self,
        shader: crate::device::Shader,
        entry: &'static str,
        constants: &[(&'static str, f64)],
        params: &P,
        tensors: &[&Tensor],
        workgroups: [u32; 3],
    ) -> Result<Dispatch> {
        let max = self.limits().max_compute_workgroups_per_dimension;
        if let Some(&n) = workgroups.iter().find(|&&n| n > max) {
            return Err(crate::error::Error::invalid(
                format!("{}::{entry}", shader.name),
                format!(
                    "{n} workgroups along one dimension ({workgroups:?}) are over this \
                     device's limit of {max} (max_compute_workgroups_per_dimension); \
                     use a smaller batch or input"
                ),
            ));
        }
        let pipeline = self.pipeline(shader, entry, constants)?;
        let uniform = self
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(entry),
                contents: bytemuck::bytes_of(params),
                usage: wgpu::BufferUsages::UNIFORM,
            });
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: uniform.as_entire_binding(),
        }];
        entries.extend(
            tensors
                .iter()
                .enumerate()
                .map(|(i, t)| wgpu::BindGroupEntry {
                    binding: i as u32 + 1,
                    resource: t.buffer().as_entire_binding(),
                }),
        );
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(entry),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        self.check(&format!("preparing {}::{entry}", shader.name))?;
        Ok(Dispatch {
            label: entry,
            pipeline,
            bind_group,
            workgroups,
            _tensors: tensors.iter().map(|&t| t.clone()).collect(),
        })
    }

    /// Prepares, submits and returns: for one-off kernel calls (tests, the `SeBlock` API).
    pub fn run(&self, dispatches: &[Dispatch]) -> Result<()> {
        self.submit(dispatches);
        self.check("submitting kernels")
    }
}

/// Rejects an output that shares storage with an input: WebGPU forbids binding one
/// buffer both read-only and writable in a dispatch, so in-place calls must fail early.
pub(crate) fn distinct_output(op: &str, inputs: &[&Tensor], out: &Tensor) -> Result<()> {
    if inputs.iter().any(|x| x.buffer() == out.buffer()) {
        return Err(crate::error::Error::invalid(
            op,
            "the output shares storage with an input; use a separate output tensor",
        ));
    }
    Ok(())
}
