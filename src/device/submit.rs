//! Command encoders (made here and nowhere else), submission, the copies that read
//! results back, and GPU time per group of dispatches from timestamp queries.
//!
//! Timing: each group is recorded into its own compute pass whose beginning and end
//! write a timestamp (`ComputePassDescriptor::timestamp_writes`): that needs only the
//! `TIMESTAMP_QUERY` feature, which WebGPU browsers and most native adapters have,
//! not the rarer timestamps inside passes. Splitting passes adds a barrier between
//! groups, so the per-group times add up to slightly more than one-pass execution.

use super::buffer::STAGING_USAGE;
use super::{Dispatch, ErrorScope, Runtime, Tensor};
use crate::error::{Error, Result};

/// Groups per query set: two timestamps each, within wgpu's query set limit.
const GROUPS_PER_SET: usize = wgpu::QUERY_SET_MAX_QUERIES as usize / 2;

/// Records `dispatches` into one compute pass.
fn record<'a>(
    encoder: &mut wgpu::CommandEncoder,
    dispatches: impl IntoIterator<Item = &'a Dispatch>,
) {
    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
    for d in dispatches {
        d.record(&mut pass);
    }
}

impl Runtime {
    fn encoder(&self, label: Option<&str>) -> wgpu::CommandEncoder {
        self.device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label })
    }

    /// Records `dispatches` into one compute pass and submits them as one command buffer.
    pub fn submit<'a>(&self, dispatches: impl IntoIterator<Item = &'a Dispatch>) {
        let mut encoder = self.encoder(None);
        record(&mut encoder, dispatches);
        self.queue.submit([encoder.finish()]);
    }

    /// Submits `dispatches` and checks for errors: for one-off kernel calls (tests, the
    /// `SeBlock` API).
    pub fn run(&self, dispatches: &[Dispatch]) -> Result<()> {
        self.submit(dispatches);
        self.check("submitting kernels")
    }

    /// Copies `size` bytes of `buffer` back to the host.
    pub(crate) async fn read_bytes(&self, buffer: &wgpu::Buffer, size: u64) -> Result<Vec<u8>> {
        self.check_lost()?;
        let scope = self.scope();
        self.copy_out(
            scope,
            self.encoder(None),
            &[(buffer, size)],
            "running kernels",
        )
        .await
    }

    /// One inference's work in one submission: `dispatches` in one compute pass, then
    /// the copies of every tensor of `reads` into one staging buffer, mapped once.
    /// Returns the values of each tensor of `reads`, in order.
    pub(crate) async fn submit_and_read(
        &self,
        dispatches: &[Dispatch],
        reads: &[Tensor],
        during: &str,
    ) -> Result<Vec<Vec<f32>>> {
        let scope = self.scope();
        let mut encoder = self.encoder(Some("inference"));
        record(&mut encoder, dispatches);
        let sources: Vec<(&wgpu::Buffer, u64)> = reads
            .iter()
            .map(|t| (t.buffer(), (t.len() * 4) as u64))
            .collect();
        let bytes = self.copy_out(scope, encoder, &sources, during).await?;
        let mut start = 0;
        Ok(sources
            .iter()
            .map(|&(_, size)| {
                let part = &bytes[start..start + size as usize];
                start += size as usize;
                bytemuck::pod_collect_to_vec(part)
            })
            .collect())
    }

    /// Appends to `encoder` the copies of each `(buffer, bytes)` of `sources`, one
    /// after another, into one staging buffer, submits it and maps that buffer once;
    /// the errors `scope` (opened before `encoder` was recorded) caught are reported as
    /// met `during` that work.
    async fn copy_out(
        &self,
        scope: ErrorScope,
        mut encoder: wgpu::CommandEncoder,
        sources: &[(&wgpu::Buffer, u64)],
        during: &str,
    ) -> Result<Vec<u8>> {
        let total: u64 = sources.iter().map(|&(_, size)| size).sum();
        self.check_staging_size(|| "a readback".into(), total)?;
        let mut staging = match total {
            0 => None,
            _ => Some(self.pool.take(total, STAGING_USAGE)?),
        };
        if let Some(staging) = &staging {
            let mut offset = 0;
            for &(buffer, size) in sources {
                encoder.copy_buffer_to_buffer(buffer, 0, staging.buffer(), offset, size);
                offset += size;
            }
        }
        self.queue.submit([encoder.finish()]);
        scope.close(self, during).await?;
        match &mut staging {
            Some(staging) => staging.read_mapped(self, total).await,
            None => Ok(Vec::new()),
        }
    }

    /// Waits until the GPU has finished all submitted work (native only; a no-op in browsers).
    pub fn wait(&self) -> Result<()> {
        #[cfg(not(target_arch = "wasm32"))]
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Readback(e.to_string()))?;
        self.check("running kernels")
    }

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
            let scope = self.scope();
            let mut encoder = self.encoder(None);
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
            let bytes = self
                .copy_out(
                    scope,
                    encoder,
                    &[(&resolved, count as u64 * 8)],
                    "profiling",
                )
                .await?;
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
