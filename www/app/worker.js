// Inference worker: owns the se-runtime Runtime and the loaded models, so the page's
// main thread never blocks on wasm (WebGPU works in dedicated workers).
//
// Requests  {id, type: 'init', backend} | {id, type: 'load', key, source, name, metadata}
//           | {id, type: 'classify', key, image, topK}
// Replies   {id, ok: true, value} | {id, ok: false, error}
//           | {id, progress: {phase: 'download', done, total} | {phase: 'compile', done, total}}
import { Runtime } from '../pkg/index.js';
import { MAX_MODEL_BYTES, tooLargeMessage } from './client.js';

let runtime = null;
const models = new Map();

const handlers = {
  async init({ backend }) {
    const t0 = performance.now();
    runtime = await Runtime.create({ backend: backend ?? 'auto' });
    return { adapter: runtime.adapterInfo(), ms: performance.now() - t0 };
  },

  async load({ id, key, source, metadata }) {
    const t0 = performance.now();
    const progress = (p) => self.postMessage({ id, progress: p });
    const bytes = typeof source === 'string' ? await download(source, progress) : source;
    // Posted while the wasm builds the kernels: the page's thread draws them meanwhile.
    const model = await runtime.loadModel(bytes, { metadata, onProgress: progress });
    models.get(key)?.free();
    models.set(key, model);
    return { info: model.info(), ms: performance.now() - t0 };
  },

  async classify({ key, image, topK }) {
    const model = models.get(key);
    if (!model) throw new Error(`no model '${key}' is loaded`);
    try {
      return await model.classify(image, { topK });
    } finally {
      image.close?.();
    }
  },
};

const tooLarge = (name, size) => new Error(tooLargeMessage(name, size));

/** The bytes at `url`, read as a stream: progress as they come, refused past the cap
 *  (on the declared length before reading, or as soon as the stream passes it). */
async function download(url, progress) {
  const name = decodeURIComponent(new URL(url).pathname.split('/').pop() || url);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
  const declared = Number(response.headers.get('content-length')) || 0;
  if (declared > MAX_MODEL_BYTES) {
    await response.body?.cancel();
    throw tooLarge(name, declared);
  }
  const chunks = [];
  let done = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { value, done: end } = await reader.read();
    if (end) break;
    done += value.byteLength;
    if (done > MAX_MODEL_BYTES) {
      await reader.cancel();
      throw tooLarge(name, done);
    }
    chunks.push(value);
    progress({ phase: 'download', done, total: declared || null });
  }
  const bytes = new Uint8Array(done);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return bytes;
}

// One request at a time: a classify must not interleave with a model swap.
let queue = Promise.resolve();
self.onmessage = ({ data }) => {
  queue = queue.then(async () => {
    try {
      const value = await handlers[data.type](data);
      const transfer = value?.excitations?.map((e) => e.values.buffer) ?? [];
      self.postMessage({ id: data.id, ok: true, value }, transfer);
    } catch (e) {
      self.postMessage({ id: data.id, ok: false, error: e?.message ?? String(e) });
    }
  });
};
