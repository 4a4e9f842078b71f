//! f32 tensors in GPU storage buffers, and the buffer pool behind them.
//!
//! Layout: activations are NCHW, the layout ONNX and every exporter use, so weights
//! and inputs need no transposes at the model boundary. Two measured reasons decide it
//! for SE networks on top of that:
//! - the squeeze reduces each channel's H x W plane; in NCHW that plane is contiguous,
//!   so the reduction reads in perfectly coalesced runs (NHWC would stride by C);
//! - 1x1 convolutions (most of an SE-ResNet's and MobileNet's MACs) are a plain GEMM
//!   `W[Co,Ci] x X[Ci,H*W]` whose N dimension (H*W) is contiguous, so vec4 loads and
//!   4x4 register blocking apply without any reshuffling.
//!
//! The squeeze benchmark (`benches/squeeze.rs`) measures the NHWC-strided read against
//! the NCHW one to back this up.

use std::sync::{Arc, Mutex, Weak};

use crate::device::Runtime;
use crate::error::{Error, Result};

pub(crate) const STORAGE_USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);
pub(crate) const STAGING_USAGE: wgpu::BufferUsages =
    wgpu::BufferUsages::MAP_READ.union(wgpu::BufferUsages::COPY_DST);

/// Buffers are sized in 16-byte steps so every binding can be read as `array<vec4<f32>>`.
pub(crate) fn padded_size(bytes: u64) -> u64 {
    bytes.max(16).div_ceil(16) * 16
}

/// Free buffers, keyed by exact (padded) size and usage; returned buffers are reused by
/// the next request of the same size, so repeated inferences allocate nothing.
/// Bounded: past `MAX_POOLED_BYTES` a returned buffer is freed instead. Clones share
/// the free list.
#[derive(Clone)]
pub(crate) struct BufferPool {
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
    pub(crate) fn new(device: wgpu::Device) -> Self {
        Self {
            device,
            inner: Arc::default(),
        }
    }

    pub(crate) fn take(&self, bytes: u64, usage: wgpu::BufferUsages) -> Result<PooledBuffer> {
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

    pub(crate) fn stats(&self) -> PoolStats {
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
pub(crate) struct PooledBuffer {
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
    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        self.buffer.as_ref().expect("buffer present until drop")
    }

    /// Maps `..size` for reading, copies it out and unmaps; wgpu errors are reported
    /// as met `during` that work. On any failure the buffer is not returned to the pool.
    pub(crate) async fn read_mapped(
        &mut self,
        rt: &Runtime,
        size: u64,
        during: &str,
    ) -> Result<Vec<u8>> {
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
        rt.check(during)?;
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

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor{:?}", self.shape)
    }
}

/// Number of elements of `shape`, or an error if it overflows.
pub fn numel(shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::invalid("tensor", format!("shape {shape:?} overflows")))
}

impl Tensor {
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn buffer(&self) -> &wgpu::Buffer {
        self.storage.buffer()
    }

    /// A view of the same storage with another shape of the same size.
    pub fn reshape(&self, shape: &[usize]) -> Result<Tensor> {
        if numel(shape)? != self.len() {
            return Err(Error::shape("reshape", &self.shape, shape));
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
        if numel(shape)? != data.len() {
            return Err(Error::shape(
                "upload",
                format!("{} values for shape {shape:?}", numel(shape)?),
                data.len(),
            ));
        }
        let t = self.tensor(shape)?;
        if !data.is_empty() {
            self.queue
                .write_buffer(t.buffer(), 0, bytemuck::cast_slice(data));
        }
        Ok(t)
    }

    pub fn pool_stats(&self) -> PoolStats {
        self.pool.stats()
    }

    /// Fails with [`Error::LimitExceeded`], naming the limit, when a storage buffer of
    /// `bytes` cannot be bound on this device; allocates nothing.
    pub fn check_storage_size(&self, what: impl FnOnce() -> String, bytes: u64) -> Result<()> {
        let limits = self.limits();
        let padded = padded_size(bytes);
        let (limit, limit_name) =
            if limits.max_storage_buffer_binding_size <= limits.max_buffer_size {
                (
                    limits.max_storage_buffer_binding_size,
                    "max_storage_buffer_binding_size",
                )
            } else {
                (limits.max_buffer_size, "max_buffer_size")
            };
        if padded > limit {
            return Err(Error::LimitExceeded {
                what: what(),
                needed: padded,
                limit,
                limit_name,
            });
        }
        Ok(())
    }

    /// Like [`Runtime::check_storage_size`] for a buffer that is only copied to and
    /// mapped (staging), which only `max_buffer_size` bounds.
    pub fn check_staging_size(&self, what: impl FnOnce() -> String, bytes: u64) -> Result<()> {
        let limit = self.limits().max_buffer_size;
        if padded_size(bytes) > limit {
            return Err(Error::LimitExceeded {
                what: what(),
                needed: padded_size(bytes),
                limit,
                limit_name: "max_buffer_size",
            });
        }
        Ok(())
    }
}

/// The NumPy broadcast of two shapes.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let rank = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| (i + s.len()).checked_sub(rank).map_or(1, |j| s[j]);
    (0..rank)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            _ => Err(Error::shape("broadcast", a, b)),
        })
        .collect()
}

/// Element strides of a row-major `shape` read as the broadcast `target`:
/// one entry per dimension of `target`, 0 where `shape` is broadcast.
pub fn broadcast_strides(shape: &[usize], target: &[usize]) -> Vec<usize> {
    let offset = target.len() - shape.len();
    let mut strides = vec![0; target.len()];
    let mut step = 1;
    for i in (0..shape.len()).rev() {
        if shape[i] != 1 {
            strides[offset + i] = step;
        }
        step *= shape[i];
    }
    strides
}

/// An f32 tensor in host memory: model weights, CPU reference inputs and outputs.
#[derive(Clone, Debug, PartialEq)]
pub struct HostTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Checks that a host tensor's data has as many values as its (public) shape says.
pub(crate) fn check_host(what: &str, t: &HostTensor) -> Result<()> {
    let want = numel(&t.shape)?;
    if t.data.len() != want {
        return Err(Error::shape(
            format!("{what} data"),
            format!("{want} values for shape {:?}", t.shape),
            t.data.len(),
        ));
    }
    Ok(())
}

impl HostTensor {
    pub fn new(shape: &[usize], data: Vec<f32>) -> Result<Self> {
        if numel(shape)? != data.len() {
            return Err(Error::shape(
                "host tensor",
                format!("{} values for shape {shape:?}", numel(shape)?),
                data.len(),
            ));
        }
        Ok(Self {
            shape: shape.to_vec(),
            data,
        })
    }

    pub fn zeros(shape: &[usize]) -> Result<Self> {
        Self::new(shape, vec![0.0; numel(shape)?])
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

impl Runtime {
    pub fn upload_host(&self, t: &HostTensor) -> Result<Tensor> {
        self.upload(&t.shape, &t.data)
    }
}

impl Tensor {
    pub async fn read_host(&self, rt: &Runtime) -> Result<HostTensor> {
        HostTensor::new(&self.shape, self.read(rt).await?)
    }
}

impl Tensor {
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
}

/// Weights on the GPU stored as f16, packed two per 32-bit word in an f32 tensor's
/// storage (padded with a zero to an even count). Kernels that take one compute in
/// f32; they need the adapter's `shader-f16` feature. Clones share storage.
#[derive(Clone)]
pub struct HalfTensor {
    packed: Tensor,
    shape: Vec<usize>,
}

impl std::fmt::Debug for HalfTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HalfTensor{:?}", self.shape)
    }
}

impl HalfTensor {
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The storage, as the f32 tensor of the packed words.
    pub(crate) fn packed(&self) -> &Tensor {
        &self.packed
    }

    /// A view of the same storage with another shape of the same size.
    pub fn reshape(&self, shape: &[usize]) -> Result<HalfTensor> {
        if numel(shape)? != self.len() {
            return Err(Error::shape("reshape", &self.shape, shape));
        }
        Ok(HalfTensor {
            packed: self.packed.clone(),
            shape: shape.to_vec(),
        })
    }
}

impl Runtime {
    /// A [`HalfTensor`] holding `data` rounded to the nearest f16.
    pub fn upload_f16(&self, shape: &[usize], data: &[f32]) -> Result<HalfTensor> {
        if numel(shape)? != data.len() {
            return Err(Error::shape(
                "upload_f16",
                format!("{} values for shape {shape:?}", numel(shape)?),
                data.len(),
            ));
        }
        let mut bits: Vec<u16> = data
            .iter()
            .map(|&v| half::f16::from_f32(v).to_bits())
            .collect();
        if bits.len() % 2 == 1 {
            bits.push(0);
        }
        let packed = self.tensor(&[bits.len() / 2])?;
        if !bits.is_empty() {
            self.queue
                .write_buffer(packed.buffer(), 0, bytemuck::cast_slice(&bits));
        }
        Ok(HalfTensor {
            packed,
            shape: shape.to_vec(),
        })
    }
}

// ---- Model constants: initializers, Constant nodes and folded values ----

/// The most elements any tensor of a model may have (u32 indexing in the shaders,
/// and a guard against absurd declared sizes before anything is allocated).
pub const MAX_ELEMENTS: usize = 1 << 31;

/// Element types a graph value can have. Activations are always f32; integer tensors
/// only exist as constants (shapes, axes, indices) and are folded away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DType {
    F32,
    I64,
}

/// An integer constant (ONNX int8..int64, uint*, bool).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntTensor {
    pub shape: Vec<usize>,
    pub data: Vec<i64>,
}

/// A constant: an initializer, a Constant node's value, or a folded result.
/// Shared, so cloning a graph does not copy its weights.
#[derive(Clone, Debug)]
pub enum Const {
    F32(std::sync::Arc<HostTensor>),
    I64(std::sync::Arc<IntTensor>),
}

impl PartialEq for Const {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Const::F32(a), Const::F32(b)) => a == b,
            (Const::I64(a), Const::I64(b)) => a == b,
            _ => false,
        }
    }
}

impl Const {
    pub fn f32(t: HostTensor) -> Self {
        Const::F32(std::sync::Arc::new(t))
    }

    pub fn i64(shape: Vec<usize>, data: Vec<i64>) -> Self {
        Const::I64(std::sync::Arc::new(IntTensor { shape, data }))
    }

    pub fn shape(&self) -> &[usize] {
        match self {
            Const::F32(t) => &t.shape,
            Const::I64(t) => &t.shape,
        }
    }

    pub fn dtype(&self) -> DType {
        match self {
            Const::F32(_) => DType::F32,
            Const::I64(_) => DType::I64,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Const::F32(t) => t.data.len(),
            Const::I64(t) => t.data.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn as_f32(&self) -> Option<&HostTensor> {
        match self {
            Const::F32(t) => Some(t),
            Const::I64(_) => None,
        }
    }

    /// The values as integers (floats truncated), for attributes given as inputs.
    pub fn to_i64s(&self) -> Vec<i64> {
        match self {
            Const::F32(t) => t.data.iter().map(|&v| v as i64).collect(),
            Const::I64(t) => t.data.clone(),
        }
    }

    /// The values as floats, for attributes given as inputs (Clip bounds, pad value).
    pub fn to_f32s(&self) -> Vec<f32> {
        match self {
            Const::F32(t) => t.data.clone(),
            Const::I64(t) => t.data.iter().map(|&v| v as f32).collect(),
        }
    }
}

/// Checks that a tensor of `shape` stays within [`MAX_ELEMENTS`].
pub(crate) fn check_elements(
    what: &str,
    shape: &[usize],
) -> std::result::Result<(), crate::error::ModelError> {
    match shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) {
        Some(n) if n <= MAX_ELEMENTS => Ok(()),
        _ => Err(too_large(
            format!("{what} of shape {shape:?}"),
            shape.iter().map(|&d| d as f64),
        )),
    }
}

/// ONNX dims as a shape: rejects negative dims and more than [`MAX_ELEMENTS`].
pub(crate) fn checked_dims(
    what: &str,
    dims: &[i64],
) -> std::result::Result<Vec<usize>, crate::error::ModelError> {
    let too_large = || {
        too_large(
            format!("tensor '{what}' of shape {dims:?}"),
            dims.iter().map(|&d| d as f64),
        )
    };
    let mut n: usize = 1;
    let mut shape = Vec::with_capacity(dims.len());
    for &d in dims {
        let d = usize::try_from(d).map_err(|_| crate::error::ModelError::BadTensor {
            tensor: what.into(),
            message: format!("negative dimension in {dims:?}"),
        })?;
        n = n.checked_mul(d).ok_or_else(too_large)?;
        shape.push(d);
    }
    if n > MAX_ELEMENTS {
        return Err(too_large());
    }
    Ok(shape)
}

fn too_large(what: String, dims: impl Iterator<Item = f64>) -> crate::error::ModelError {
    crate::error::ModelError::TooLarge {
        what,
        elements: dims.product::<f64>().to_string(),
        limit: MAX_ELEMENTS,
    }
}
