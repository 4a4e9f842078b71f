// Entry point of the npm package: the wasm-bindgen classes, with the wasm module
// instantiated on first use so that `await Runtime.create()` is all a user writes.
import init, { Model, Runtime } from './se_runtime.js';

let loading = null;

/**
 * Instantiates the wasm module once. `Runtime.create` calls it; call it yourself only
 * to load the module from elsewhere (bytes in Node, a CDN URL).
 */
export function initialize(wasm) {
  loading ??= init(wasm === undefined ? undefined : { module_or_path: wasm }).then(() => {});
  return loading;
}

const create = Runtime.create;
Runtime.create = async function (options = {}) {
  await initialize(options.wasm);
  return create.call(Runtime, options);
};

// Calls to `classify` on one model run one at a time, in call order, each resolving
// with its own result: overlapping calls (several fired without awaiting) queue here
// rather than rely on how the wasm side orders them.
const queues = new WeakMap();
const classify = Model.prototype.classify;
Model.prototype.classify = function (image, options) {
  const previous = queues.get(this);
  // Raw pixels are copied at call time, as the call may wait: the caller may reuse them.
  const input = ArrayBuffer.isView(image?.data) && image.getContext === undefined
    ? { width: image.width, height: image.height, data: image.data.slice() }
    : image;
  const run = (previous ?? Promise.resolve()).then(() => classify.call(this, input, options));
  const settled = run.then(() => {}, () => {});
  queues.set(this, settled);
  settled.then(() => {
    if (queues.get(this) === settled) queues.delete(this);
  });
  return run;
};

export { Runtime };
