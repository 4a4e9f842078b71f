//! GPU tensors in storage buffers, the buffer pool behind them, uploads, the mapping
//! of readbacks, and the size checks against the device's buffer limits.

use std::sync::{Arc, Mutex, Weak};

use super::Runtime;
use crate::error::{Error, Result};
use crate::tensor::{HostTensor, numel};

pub(super) const STORAGE_USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);
pub(super) const STAGING_USAGE: wgpu::BufferUsages =
    wgpu::BufferUsages::MAP_READ.union(wgpu::BufferUsages::COPY_DST);

/// Buffers are sized in 16-byte steps so every binding can be read as `array<vec4<f32>>`.
fn padded_size(bytes: u64) -> u64 {
    bytes.max(16).div_ceil(16) * 16
}

/// Free buffers, keyed by exact (padded) size and usage; returned buffers are reused by
/// the next request of the same size, so repeated inferences allocate nothing.
/// Bounded: past `MAX_POOLED_BYTES` a returned buffer is freed instead. Clones share
/// the free list.
#[derive(Clone)]
pub(super) struct BufferPool {
    device: wgpu::Device,
    inner: Arc<Mutex<PoolInner>>,
}

#[derive(Default)]
struct PoolInner {
    free: Vec<(u64, wgpu::BufferUsages, wgpu::Buffer)>,
    pooled_bytes: u64,
    live_bytes: u64,
    peak_live_bytes: u64,
}

const MAX_POOLED_BYTES: u64 = 512 << 20;

/// Counters for the pool, for memory reports and leak tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    pub live_bytes: u64,
    pub peak_live_bytes: u64,
    pub pooled_bytes: u64,
    pub pooled_buffers: usize,
}

impl BufferPool {
    pub(super) fn new(device: wgpu::Device) -> Self {
        Self {
            device,
            inner: Arc::default(),
        }
    }

    pub(super) fn take(&self, bytes: u64, usage: wgpu::BufferUsages) -> Result<PooledBuffer> {
        let size = padded_size(bytes);
        let mut inner = self.inner.lock().unwrap();
        let found = inner
            .free
            .iter()
            .position(|(s, u, _)| *s == size && *u == usage);
        let buffer = match found {
            Some(i) => {
                let (_, _, b) = inner.free.swap_remove(i);
                inner.pooled_bytes -= size;
                b
            }
            None => self.device.create_buffer(&wgpu::BufferDescriptor {
                label: None,
                size,
                usage,
                mapped_at_creation: false,
            }),
        };
        inner.live_bytes += size;
        inner.peak_live_bytes = inner.peak_live_bytes.max(inner.live_bytes);
        Ok(PooledBuffer {
            buffer: Some(buffer),
            size,
            usage,
            reusable: true,
            pool: Arc::downgrade(&self.inner),
        })
    }

    fn stats(&self) -> PoolStats {
        let inner = self.inner.lock().unwrap();
        PoolStats {
            live_bytes: inner.live_bytes,
            peak_live_bytes: inner.peak_live_bytes,
            pooled_bytes: inner.pooled_bytes,
            pooled_buffers: inner.free.len(),
        }
    }
}

/// A buffer that goes back to its pool when dropped.
pub(super) struct PooledBuffer {
    buffer: Option<wgpu::Buffer>,
    size: u64,
    usage: wgpu::BufferUsages,
    /// Whether the buffer may go back to the pool: false while a readback maps it, so
    /// a failed or abandoned readback frees the buffer instead of pooling one that is
    /// still mapped (its next map would fail, and the next, for every later user).
    reusable: bool,
    pool: Weak<Mutex<PoolInner>>,
}

impl PooledBuffer {
    pub(super) fn buffer(&self) -> &wgpu::Buffer {
        self.buffer.as_ref().expect("buffer present until drop")
    }

    /// Maps `..size` for reading, copies it out and unmaps; the work that filled it was
    /// checked in its own error scope. On any failure the buffer is not returned to the
    /// pool.
    pub(super) async fn read_mapped(&mut self, rt: &Runtime, size: u64) -> Result<Vec<u8>> {
        self.reusable = false;
        // A device lost mid-readback fails the poll or the map: report the loss.
        let failed = |e: String| match rt.check_lost() {
            Err(lost) => lost,
            Ok(()) => Error::Readback(e),
        };
        let (tx, rx) = futures_channel::oneshot::channel();
        let slice = self.buffer().slice(..size);
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        #[cfg(not(target_arch = "wasm32"))]
        rt.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| failed(e.to_string()))?;
        let mapped = rx
            .await
            .map_err(|_| failed("the map callback was dropped".into()))?;
        mapped.map_err(|e| failed(e.to_string()))?;
        let bytes = slice
            .get_mapped_range()
            .map_err(|e| failed(e.to_string()))?
            .to_vec();
        self.buffer().unmap();
        self.reusable = true;
        Ok(bytes)
    }
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        let (Some(buffer), Some(pool)) = (self.buffer.take(), self.pool.upgrade()) else {
            return;
        };
        let mut inner = pool.lock().unwrap();
        inner.live_bytes -= self.size;
        if self.reusable && inner.pooled_bytes + self.size <= MAX_POOLED_BYTES {
            inner.pooled_bytes += self.size;
            inner.free.push((self.size, self.usage, buffer));
        }
    }
}

/// An f32 tensor on the GPU (row-major, NCHW for activations). Clones share storage.
#[derive(Clone)]
pub struct Tensor {
    storage: Arc<PooledBuffer>,
    shape: Vec<usize>,
}

/// Weights on the GPU stored as f16, packed two per 32-bit word in an f32 tensor's
/// storage (padded with a zero to an even count). Kernels that take one compute in
/// f32; they need the adapter's `shader-f16` feature. Clones share storage.
#[derive(Clone)]
pub struct HalfTensor {
    /// The packed words.
    storage: Tensor,
    shape: Vec<usize>,
}

/// The shape accessors, `reshape` and `Debug` of a tensor type with a cloneable
/// `storage` and a `shape`.
macro_rules! shaped_tensor {
    ($name:ident) => {
        impl $name {
            pub fn shape(&self) -> &[usize] {
                &self.shape
            }

            pub fn len(&self) -> usize {
                self.shape.iter().product()
            }

            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// A view of the same storage with another shape of the same size.
            pub fn reshape(&self, shape: &[usize]) -> Result<$name> {
                if numel(shape)? != self.len() {
                    return Err(Error::shape("reshape", &self.shape, shape));
                }
                Ok($name {
                    storage: self.storage.clone(),
                    shape: shape.to_vec(),
                })
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($name), "{:?}"), self.shape)
            }
        }
    };
}
shaped_tensor!(Tensor);
shaped_tensor!(HalfTensor);

impl Tensor {
    pub fn buffer(&self) -> &wgpu::Buffer {
        self.storage.buffer()
    }

    /// A tensor of `shape` over the first elements of this tensor's storage. Unlike
    /// [`Tensor::reshape`] it may use less than the whole storage: an execution plan
    /// places differently shaped values, one after another, in one shared buffer.
    pub fn view(&self, shape: &[usize]) -> Result<Tensor> {
        let bytes = (numel(shape)? as u64).saturating_mul(4);
        if bytes > self.storage.size {
            return Err(Error::shape(
                format!("view of a {}-byte buffer", self.storage.size),
                format!("at most {} elements", self.storage.size / 4),
                shape,
            ));
        }
        Ok(Tensor {
            storage: self.storage.clone(),
            shape: shape.to_vec(),
        })
    }

    /// Downloads the tensor to the host.
    pub async fn read(&self, rt: &Runtime) -> Result<Vec<f32>> {
        let bytes = rt
            .read_bytes(self.buffer(), (self.len() * 4) as u64)
            .await?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    pub async fn read_host(&self, rt: &Runtime) -> Result<HostTensor> {
        HostTensor::new(&self.shape, self.read(rt).await?)
    }
}

impl HalfTensor {
    /// The storage, as the f32 tensor of the packed words.
    pub(crate) fn packed(&self) -> &Tensor {
        &self.storage
    }
}

/// Fails unless `data` holds one value per element of `shape`.
fn check_values(what: &str, shape: &[usize], data: &[f32]) -> Result<()> {
    let want = numel(shape)?;
    if want != data.len() {
        return Err(Error::shape(
            what,
            format!("{want} values for shape {shape:?}"),
            data.len(),
        ));
    }
    Ok(())
}

impl Runtime {
    /// An uninitialised tensor from the pool.
    // Natively wgpu's types are Send + Sync and tensors cross threads; in the browser
    // they are not, and there is one thread.
    #[cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]
    pub fn tensor(&self, shape: &[usize]) -> Result<Tensor> {
        let bytes = (numel(shape)? as u64)
            .checked_mul(4)
            .ok_or_else(|| Error::invalid("tensor", format!("shape {shape:?} overflows")))?;
        self.check_storage_size(|| format!("a tensor of shape {shape:?}"), bytes)?;
        Ok(Tensor {
            storage: Arc::new(self.pool.take(bytes, STORAGE_USAGE)?),
            shape: shape.to_vec(),
        })
    }

    /// A tensor holding `data`.
    pub fn upload(&self, shape: &[usize], data: &[f32]) -> Result<Tensor> {
        check_values("upload", shape, data)?;
        let t = self.tensor(shape)?;
        self.write(&t, bytemuck::cast_slice(data));
        Ok(t)
    }

    pub fn upload_host(&self, t: &HostTensor) -> Result<Tensor> {
        self.upload(&t.shape, &t.data)
    }

    /// A [`HalfTensor`] holding `data` rounded to the nearest f16.
    pub fn upload_f16(&self, shape: &[usize], data: &[f32]) -> Result<HalfTensor> {
        check_values("upload_f16", shape, data)?;
        let mut bits: Vec<u16> = data
            .iter()
            .map(|&v| half::f16::from_f32(v).to_bits())
            .collect();
        if bits.len() % 2 == 1 {
            bits.push(0);
        }
        let packed = self.tensor(&[bits.len() / 2])?;
        self.write(&packed, bytemuck::cast_slice(&bits));
        Ok(HalfTensor {
            storage: packed,
            shape: shape.to_vec(),
        })
    }

    /// Queues a write of `bytes` to the start of `t`'s storage.
    pub(crate) fn write(&self, t: &Tensor, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.queue.write_buffer(t.buffer(), 0, bytes);
        }
    }

    pub fn pool_stats(&self) -> PoolStats {
        self.pool.stats()
    }

    /// Fails with [`Error::LimitExceeded`], naming the limit, when a storage buffer of
    /// `bytes` cannot be bound on this device; allocates nothing.
    pub fn check_storage_size(&self, what: impl FnOnce() -> String, bytes: u64) -> Result<()> {
        let limits = self.limits();
        let (limit, limit_name) =
            if limits.max_storage_buffer_binding_size <= limits.max_buffer_size {
                (
                    limits.max_storage_buffer_binding_size,
                    "max_storage_buffer_binding_size",
                )
            } else {
                (limits.max_buffer_size, "max_buffer_size")
            };
        check_size(what, bytes, limit, limit_name)
    }

    /// Like [`Runtime::check_storage_size`] for a buffer that is only copied to and
    /// mapped (staging), which only `max_buffer_size` bounds.
    pub fn check_staging_size(&self, what: impl FnOnce() -> String, bytes: u64) -> Result<()> {
        let limit = self.limits().max_buffer_size;
        check_size(what, bytes, limit, "max_buffer_size")
    }
}

/// Fails with [`Error::LimitExceeded`] when a buffer of `bytes`, padded, is over `limit`.
fn check_size(
    what: impl FnOnce() -> String,
    bytes: u64,
    limit: u64,
    limit_name: &'static str,
) -> Result<()> {
    let needed = padded_size(bytes);
    if needed > limit {
        return Err(Error::LimitExceeded {
            what: what(),
            needed,
            limit,
            limit_name,
        });
    }
    Ok(())
}
