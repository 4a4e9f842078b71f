// Promise-based client of the inference worker. A worker that dies (a wasm trap after a
// panic, say) is replaced on the next request, re-initialised and re-loaded.
// Models past this size are refused before they are read, from every source: the page
// holds a copy in the tab and one in the worker, and no SE classifier a page should run
// is this large.
export const MAX_MODEL_BYTES = 200 * 2 ** 20;

/** Why a model of `size` bytes is refused. */
export function tooLargeMessage(name, size) {
  const mb = (n) => `${(n / 2 ** 20).toFixed(0)} MB`;
  return `${name} is ${mb(size)}; this page loads models up to ${mb(MAX_MODEL_BYTES)}.`;
}

export class InferenceClient {
  constructor(backend) {
    this.backend = backend;
    this.worker = null;
    this.pending = new Map();
    this.nextId = 1;
    this.loaded = new Map(); // key -> load request, replayed after a restart
    this.started = null;
  }

  start() {
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    this.worker.onmessage = ({ data }) => {
      const p = this.pending.get(data.id);
      if (!p) return;
      if (data.progress) {
        p.onProgress?.(data.progress);
        return;
      }
      this.pending.delete(data.id);
      data.ok ? p.resolve(data.value) : p.reject(new Error(data.error));
    };
    this.worker.onerror = (e) => {
      e.preventDefault();
      this.crash(new Error(`the inference worker failed: ${e.message || 'unknown error'}`));
    };
    this.started = this.send({ type: 'init', backend: this.backend });
    return this.started;
  }

  crash(error) {
    this.worker?.terminate();
    this.worker = null;
    this.started = null;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  send(message, transfer = [], onProgress = null) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  async ensure() {
    if (this.worker) return this.started;
    const init = await this.start();
    for (const request of this.loaded.values()) await this.send(request);
    return init;
  }

  async init() {
    return this.ensure();
  }

  /** Loads a model; `onProgress({phase, done, total})` follows its download and the
   *  building of its kernels. */
  async load(key, source, metadata, onProgress = null) {
    await this.ensure();
    const request = { type: 'load', key, source, metadata };
    const value = await this.send(request, [], onProgress);
    this.loaded.set(key, request);
    return value;
  }

  async classify(key, image, topK = 5) {
    await this.ensure();
    const transfer = typeof ImageBitmap !== 'undefined' && image instanceof ImageBitmap ? [image] : [];
    return this.send({ type: 'classify', key, image, topK }, transfer);
  }
}
