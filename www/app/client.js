// Promise-based client of the inference worker. A worker that dies (a wasm trap after a
// panic, say) is replaced on the next request, re-initialised and re-loaded.
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

  send(message, transfer = []) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
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

  async load(key, source, metadata) {
    await this.ensure();
    const request = { type: 'load', key, source, metadata };
    const value = await this.send(request);
    this.loaded.set(key, request);
    return value;
  }

  async classify(key, image, topK = 5) {
    await this.ensure();
    const transfer = typeof ImageBitmap !== 'undefined' && image instanceof ImageBitmap ? [image] : [];
    return this.send({ type: 'classify', key, image, topK }, transfer);
  }
}
