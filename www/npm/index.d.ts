/// <reference lib="esnext.disposable" />
export * from './se_runtime.js';

/** Where the wasm module comes from: a URL, its bytes, or a compiled module. */
export type WasmSource = string | URL | Request | Response | BufferSource | WebAssembly.Module;

/**
 * Instantiates the wasm module once (`Runtime.create` calls it). By default the module
 * is fetched from next to this file; in Node pass its bytes:
 * `initialize(readFileSync(require.resolve('se-runtime/se_runtime_bg.wasm')))`.
 */
export function initialize(wasm?: WasmSource): Promise<void>;
