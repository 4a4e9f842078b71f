// Inference worker: owns the se-runtime Runtime and the loaded models, so the page's
// main thread never blocks on wasm (WebGPU works in dedicated workers).
//
// Requests  {id, type: 'init', backend} | {id, type: 'load', key, source, name, metadata}
//           | {id, type: 'classify', key, image, topK}
// Replies   {id, ok: true, value} | {id, ok: false, error}
import { Runtime } from '../pkg/index.js';

let runtime = null;
const models = new Map();

const handlers = {
  async init({ backend }) {
    const t0 = performance.now();
    runtime = await Runtime.create({ backend: backend ?? 'auto' });
    return { adapter: runtime.adapterInfo(), ms: performance.now() - t0 };
  },

  async load({ key, source, metadata }) {
    const t0 = performance.now();
    const model = await runtime.loadModel(source, { metadata });
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
