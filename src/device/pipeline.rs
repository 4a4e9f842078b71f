//! Shaders, the pipeline cache, and prepared dispatches.
//!
//! A kernel is prepared once into a [`Dispatch`] (pipeline, bind group, uniforms and
//! workgroup count) and recorded into as many command buffers as needed: an execution
//! plan prepares all its dispatches at load time and records them per inference.
//!
//! Binding convention for every shader: `@binding(0)` is the kernel's uniform
//! parameters, `@binding(1..)` its tensors, inputs first, then outputs.

use std::collections::HashMap;
use std::sync::Mutex;

use wgpu::util::DeviceExt;

use super::{Runtime, Tensor};
use crate::error::{Error, Result};

/// A WGSL program: its name (for caching and error messages) and full source.
#[derive(Clone, Copy, Debug)]
pub struct Shader {
    pub name: &'static str,
    pub source: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct PipelineKey {
    shader: &'static str,
    entry: &'static str,
    constants: Vec<(&'static str, u64)>,
}

/// Shader modules and compute pipelines, built once per runtime.
#[derive(Default)]
pub(super) struct PipelineCache {
    modules: Mutex<HashMap<&'static str, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<PipelineKey, wgpu::ComputePipeline>>,
}

/// One prepared compute dispatch.
pub struct Dispatch {
    pub label: &'static str,
    /// The kernel family and the strategy that made this dispatch.
    strategy: String,
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

    /// The kernel family and the strategy it ran, `family/strategy` (e.g.
    /// `conv2d/implicit-gemm staged 64x64`); the shader's name alone for a kernel
    /// with one way to run.
    pub fn strategy(&self) -> &str {
        &self.strategy
    }

    /// This dispatch, recorded as made by `family` with `strategy`.
    pub(crate) fn with_strategy(mut self, family: &str, strategy: impl std::fmt::Display) -> Self {
        self.strategy = format!("{family}/{strategy}");
        self
    }
}

/// Workgroup count for `n` items at `per_group` items per workgroup.
pub(crate) fn groups(n: usize, per_group: usize) -> u32 {
    n.div_ceil(per_group).try_into().unwrap_or(u32::MAX)
}

/// Splits `count` workgroups over x and y so neither exceeds the per-dimension limit.
/// Shaders recover the linear index (`workgroup_index` in `shaders/shared/grid.wgsl`)
/// and bound-check it.
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
    /// A compute pipeline for `entry` in `shader`, specialised by WGSL override
    /// `constants`; built once and cached for the lifetime of the runtime.
    pub fn pipeline(
        &self,
        shader: Shader,
        entry: &'static str,
        constants: &[(&'static str, f64)],
    ) -> Result<wgpu::ComputePipeline> {
        let cache = &self.shared.pipelines;
        let key = PipelineKey {
            shader: shader.name,
            entry,
            constants: constants.iter().map(|(k, v)| (*k, v.to_bits())).collect(),
        };
        if let Some(p) = cache.pipelines.lock().unwrap().get(&key) {
            return Ok(p.clone());
        }
        let module = {
            let mut modules = cache.modules.lock().unwrap();
            modules
                .entry(shader.name)
                .or_insert_with(|| {
                    self.device
                        .create_shader_module(wgpu::ShaderModuleDescriptor {
                            label: Some(shader.name),
                            source: wgpu::ShaderSource::Wgsl(shader.source.into()),
                        })
                })
                .clone()
        };
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: None,
                module: &module,
                entry_point: Some(entry),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants,
                    // Every kernel writes its workgroup memory before reading it.
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            });
        self.check(&format!("building pipeline {}::{entry}", shader.name))?;
        cache
            .pipelines
            .lock()
            .unwrap()
            .insert(key, pipeline.clone());
        Ok(pipeline)
    }

    /// Builds a [`Dispatch`] of `entry` in `shader` over `tensors` with uniform `params`.
    /// Public so benchmarks and experiments can dispatch their own WGSL.
    pub fn dispatch<P: bytemuck::Pod>(
        &self,
        shader: Shader,
        entry: &'static str,
        constants: &[(&'static str, f64)],
        params: &P,
        tensors: &[&Tensor],
        workgroups: [u32; 3],
    ) -> Result<Dispatch> {
        let max = self.limits().max_compute_workgroups_per_dimension;
        if let Some(&n) = workgroups.iter().find(|&&n| n > max) {
            return Err(Error::invalid(
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
            strategy: shader.name.to_owned(),
            pipeline,
            bind_group,
            workgroups,
            _tensors: tensors.iter().map(|&t| t.clone()).collect(),
        })
    }
}

/// Rejects an output that shares storage with an input: WebGPU forbids binding one
/// buffer both read-only and writable in a dispatch, so in-place calls must fail early.
pub(crate) fn distinct_output(op: &str, inputs: &[&Tensor], out: &Tensor) -> Result<()> {
    if inputs.iter().any(|x| x.buffer() == out.buffer()) {
        return Err(Error::invalid(
            op,
            "the output shares storage with an input; use a separate output tensor",
        ));
    }
    Ok(())
}
