//! GPU time per group of dispatches (per layer of a model), from timestamp queries.
//!
//! Each group is recorded into its own compute pass whose beginning and end write a
//! timestamp (`ComputePassDescriptor::timestamp_writes`): that needs only the
//! `TIMESTAMP_QUERY` feature, which WebGPU browsers and most native adapters have,
//! not the rarer timestamps inside passes. Splitting passes adds a barrier between
//! groups, so the per-group times add up to slightly more than one-pass execution.

use crate::device::Runtime;
use crate::error::{Error, Result};
use crate::kernels::Dispatch;

/// Groups per query set: two timestamps each, within wgpu's query set limit.
const GROUPS_PER_SET: usize = wgpu::QUERY_SET_MAX_QUERIES as usize / 2;

impl Runtime {
    /// Whether [`submit_timed`](Self::submit_timed) works on this adapter.
    pub fn has_timestamps(&self) -> bool {
        self.features().contains(wgpu::Features::TIMESTAMP_QUERY)
    }

    /// Runs `groups` in order, each in its own timed compute pass, and returns each
    /// group's GPU time in nanoseconds.
    pub async fn submit_timed(&self, groups: &[&[Dispatch]]) -> Result<Vec<f64>> {
        if !self.has_timestamps() {
            return Err(Error::invalid(
                "profiling",
                format!(
                    "{} has no TIMESTAMP_QUERY feature",
                    self.adapter_info().name
                ),
            ));
        }
        let period = self.queue.get_timestamp_period() as f64;
        let mut times = Vec::with_capacity(groups.len());
        for chunk in groups.chunks(GROUPS_PER_SET) {
            let count = 2 * chunk.len() as u32;
            let query_set = self.device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("se-runtime profile"),
                ty: wgpu::QueryType::Timestamp,
                count,
            });
            let resolved = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("se-runtime profile"),
                size: count as u64 * 8,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            let mut encoder = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
            for (i, group) in chunk.iter().enumerate() {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: group.first().map(|d| d.label),
                    timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                        query_set: &query_set,
                        beginning_of_pass_write_index: Some(2 * i as u32),
                        end_of_pass_write_index: Some(2 * i as u32 + 1),
                    }),
                });
                for d in group.iter() {
                    d.record(&mut pass);
                }
            }
            encoder.resolve_query_set(&query_set, 0..count, &resolved, 0);
            self.queue.submit([encoder.finish()]);
            self.check("profiling")?;
            let bytes = self.read_bytes(&resolved, count as u64 * 8).await?;
            let ticks: Vec<u64> = bytemuck::pod_collect_to_vec(&bytes);
            times.extend(
                ticks
                    .chunks_exact(2)
                    .map(|t| t[1].saturating_sub(t[0]) as f64 * period),
            );
        }
        Ok(times)
    }
}
