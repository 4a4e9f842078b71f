// The bench page: loads se-runtime and onnxruntime-web on demand and times them on the
// same ONNX bytes and the same input. bench/web/run.mjs drives it through window.bench;
// every timing is taken here with performance.now(), around one awaited inference
// that starts from a Float32Array in JavaScript and ends with the logits back in it
// (upload, the model, readback), for every runtime alike.

const SE_URL = '/pkg/index.js';
const ORT_DIR = '/ort/';
// The WebGPU build also carries the wasm CPU provider; the timed page uses it for
// both providers. Cold starts load what a user of each provider would load.
const ORT_BUILDS = { 'ort-webgpu': 'ort.webgpu.min.mjs', 'ort-wasm': 'ort.wasm.min.mjs' };

const models = new Map(); // key -> ArrayBuffer
const sessions = new Map(); // id -> { kind, run(input), release() }
const inputs = new Map(); // "key/batch" -> { data, shape }
let se = null;
let ort = null;
let nextId = 1;
const warnings = [];

/** A seeded normal(0, 1) tensor, the same in every page and run. */
function randomInput(shape, seed) {
  let s = seed >>> 0;
  const uniform = () => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - uniform()));
    const a = 2 * Math.PI * uniform();
    data[i] = r * Math.cos(a);
    if (i + 1 < n) data[i + 1] = r * Math.sin(a);
  }
  return data;
}

async function loadSe() {
  if (!se) se = await import(SE_URL);
  return se;
}

async function loadOrt(kind) {
  if (!ort) {
    ort = await import(ORT_DIR + ORT_BUILDS[kind]);
    ort.env.wasm.wasmPaths = ORT_DIR;
    // The page is not cross-origin isolated (as most pages are not): one thread.
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'warning';
  }
  return ort;
}

let seRuntime = null;

/** Creates a session of `kind` for `bytes`; resolves to { run(input) -> logits, ... }. */
async function createSession(kind, bytes, batch, shape) {
  if (kind === 'se') {
    const { Runtime } = await loadSe();
    seRuntime ??= await Runtime.create({ backend: 'webgpu' });
    const model = await seRuntime.loadModel(new Uint8Array(bytes), { batch });
    return {
      kind,
      backend: model.backend,
      run: (x) => model.runTensor(x),
      profile: (x) => model.profile(x),
      release: () => model.free(),
    };
  }
  const o = await loadOrt(kind);
  const ep = kind === 'ort-webgpu' ? 'webgpu' : 'wasm';
  const session = await o.InferenceSession.create(new Uint8Array(bytes), {
    executionProviders: [ep],
    graphOptimizationLevel: 'all',
  });
  const input = session.inputNames[0];
  const output = session.outputNames[0];
  const perImage = shape.slice(1).reduce((a, b) => a * b, 1);
  return {
    kind,
    backend: ep,
    run: async (x) => {
      const dims = [x.length / perImage, ...shape.slice(1)];
      const out = await session.run({ [input]: new o.Tensor('float32', x, dims) });
      const data = out[output].data;
      for (const t of Object.values(out)) t.dispose?.();
      return data;
    },
    release: () => session.release(),
  };
}

function inputFor(key, batch, shape) {
  const id = `${key}/${batch}`;
  if (!inputs.has(id)) inputs.set(id, randomInput([batch, ...shape.slice(1)], 1234 + batch));
  return inputs.get(id);
}

async function adapterInfo() {
  if (!navigator.gpu) return { available: false, reason: 'navigator.gpu is missing' };
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return { available: false, reason: 'requestAdapter() returned null' };
  const i = adapter.info ?? {};
  return {
    available: true,
    vendor: i.vendor,
    architecture: i.architecture,
    device: i.device,
    description: i.description,
    isFallbackAdapter: i.isFallbackAdapter ?? adapter.isFallbackAdapter,
    features: [...adapter.features].sort(),
    maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  };
}

window.bench = {
  async environment() {
    return {
      userAgent: navigator.userAgent,
      hardwareConcurrency: navigator.hardwareConcurrency,
      crossOriginIsolated: self.crossOriginIsolated,
      adapter: await adapterInfo(),
    };
  },

  /** Fetches a model's bytes once; resolves to its size. */
  async fetchModel(key) {
    if (!models.has(key)) {
      const r = await fetch(`/models/${key}.onnx`);
      if (!r.ok) throw new Error(`fetching model ${key}: HTTP ${r.status}`);
      models.set(key, await r.arrayBuffer());
    }
    return models.get(key).byteLength;
  },

  /** Creates a session; resolves to { id, ms, backend }. */
  async load(kind, key, batch, shape) {
    const t0 = performance.now();
    const s = await createSession(kind, models.get(key), batch, shape);
    const ms = performance.now() - t0;
    s.input = inputFor(key, batch, shape);
    const id = nextId++;
    sessions.set(id, s);
    return { id, ms, backend: s.backend };
  },

  /** Gives session `id` the input for another batch size (ORT sessions take any). */
  setInput(id, key, batch, shape) {
    sessions.get(id).input = inputFor(key, batch, shape);
  },

  /** One timed inference; keeps the logits for `compare`. */
  async run(id) {
    const s = sessions.get(id);
    const t0 = performance.now();
    const y = await s.run(s.input);
    const ms = performance.now() - t0;
    s.last = y;
    return ms;
  },

  /** How far session `b`'s last logits are from `a`'s, and whether top-1 agrees per row. */
  compare(a, b, batch) {
    const x = sessions.get(a).last;
    const y = sessions.get(b).last;
    if (!x || !y) return { error: 'no output yet' };
    if (x.length !== y.length) return { error: `lengths differ: ${x.length} vs ${y.length}` };
    let maxAbs = 0;
    let maxRef = 0;
    let nonFinite = 0;
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) nonFinite++;
      maxAbs = Math.max(maxAbs, Math.abs(x[i] - y[i]));
      maxRef = Math.max(maxRef, Math.abs(y[i]));
    }
    const rows = batch;
    const classes = x.length / batch;
    let top1Agree = 0;
    let minMargin = Infinity;
    const argmax = (v, o) => {
      let best = o;
      for (let i = o; i < o + classes; i++) if (v[i] > v[best]) best = i;
      return best - o;
    };
    for (let r = 0; r < rows; r++) {
      const o = r * classes;
      const ty = argmax(y, o);
      if (argmax(x, o) === ty) top1Agree++;
      let second = -Infinity;
      for (let i = o; i < o + classes; i++) if (i - o !== ty) second = Math.max(second, y[i]);
      minMargin = Math.min(minMargin, y[o + ty] - second);
    }
    return { maxAbs, maxRef, nonFinite, rows, top1Agree, refTop1Margin: minMargin };
  },

  /** se-runtime's per-step GPU times (timestamp queries) for session `id`. */
  async profileSe(id) {
    const s = sessions.get(id);
    return s.profile(s.input);
  },

  release(id) {
    const s = sessions.get(id);
    sessions.delete(id);
    s?.release();
  },

  /**
   * One cold start in a fresh browser: the model's bytes are in hand; time the
   * runtime's import (download + compile of its JS and wasm), its initialisation,
   * the session (parsing, weights upload, pipelines) and the first inference.
   */
  async cold(kind, key, batch, shape) {
    const bytes = models.get(key);
    const x = inputFor(key, batch, shape);
    const t0 = performance.now();
    let session;
    if (kind === 'se') {
      const { Runtime, initialize } = await loadSe();
      await initialize();
      const t1 = performance.now();
      const rt = await Runtime.create({ backend: 'webgpu' });
      seRuntime = rt;
      const t2 = performance.now();
      session = await createSession(kind, bytes, batch, shape);
      const t3 = performance.now();
      const y = await session.run(x);
      const t4 = performance.now();
      return {
        totalMs: t4 - t0,
        importMs: t1 - t0,
        initMs: t2 - t1,
        sessionMs: t3 - t2,
        firstRunMs: t4 - t3,
        backend: session.backend,
        outputs: y.length,
      };
    }
    await loadOrt(kind);
    const t1 = performance.now();
    session = await createSession(kind, bytes, batch, shape);
    const t3 = performance.now();
    const y = await session.run(x);
    const t4 = performance.now();
    return {
      totalMs: t4 - t0,
      importMs: t1 - t0,
      initMs: 0,
      sessionMs: t3 - t1,
      firstRunMs: t4 - t3,
      backend: session.backend,
      outputs: y.length,
    };
  },

  versions() {
    return { onnxruntimeWeb: ort?.env?.versions?.web ?? null, onnxruntimeCommon: ort?.env?.versions?.common ?? null };
  },
};

window.addEventListener('unhandledrejection', (e) => warnings.push(String(e.reason)));
window.benchReady = true;
