// Entry point of the npm package: the wasm-bindgen classes, with the wasm module
// instantiated on first use so that `await Runtime.create()` is all a user writes.
import init, { Runtime } from './se_runtime.js';

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

export { Runtime };
