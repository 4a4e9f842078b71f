
/** Options of `Runtime.create`. */
export interface RuntimeOptions {
  /** "auto" (default): WebGPU when the browser has it, else the CPU fallback;
   *  "webgpu": fail with the reason instead of falling back; "cpu": skip WebGPU. */
  backend?: "auto" | "webgpu" | "cpu";
  /** Where the npm wrapper loads the wasm module from on first use (see `initialize`). */
  wasm?: string | URL | BufferSource | WebAssembly.Module;
}

/** What runs the model: the WebGPU adapter, or the CPU fallback and why it is used. */
export interface AdapterInfo {
  backend: "webgpu" | "cpu";
  /** The adapter's name, e.g. "google swiftshader"; the CPU fallback says so. */
  name: string;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for software adapters (SwiftShader) and the CPU fallback. */
  isFallbackAdapter: boolean;
  /** Why the CPU fallback runs; absent on WebGPU. */
  fallbackReason?: string;
}

/** A model file: a URL to fetch, or its bytes. */
export type ModelSource = string | URL | ArrayBuffer | ArrayBufferView | Blob;

/** Options of `runtime.loadModel`. */
export interface LoadOptions {
  /** `se_runtime.*` metadata entries that override or complete the model's own
   *  (input_size, resize, channels, mean, std, scale, invert, labels): for models
   *  without them. */
  metadata?: Record<string, string>;
  /** The batch size to plan for, when the model leaves it open (default 1). */
  batch?: number;
  /** Called as the model's kernels are built on the GPU, one call per plan step
   *  (`done` of `total`): pipeline compilation takes seconds on some adapters. */
  onProgress?: (progress: LoadProgress) => void;
}

/** What `LoadOptions.onProgress` gets. */
export interface LoadProgress { phase: 'compile'; done: number; total: number; }

/** One plan step's GPU time, from `model.profile`. */
export interface StepTime { name: string; op: string; ms: number; }

/** What `classify` accepts: any canvas image source, ImageData, or raw RGBA pixels. */
export type ImageInput =
  | ImageBitmap | ImageData | HTMLImageElement | HTMLCanvasElement | HTMLVideoElement
  | OffscreenCanvas | { width: number; height: number; data: Uint8Array | Uint8ClampedArray };

export interface ClassifyOptions {
  /** How many classes to return, most likely first (default 5). */
  topK?: number;
}

export interface ClassScore {
  index: number;
  /** From the model's `se_runtime.labels`, else "class <index>". */
  label: string;
  probability: number;
}

/** One SE block's excitation: the gate it applied to each channel for this image. */
export interface BlockExcitation {
  name: string;
  channels: number;
  values: Float32Array;
}

export interface Timings {
  /** Reading the pixels, resizing and normalising. */
  preprocessMs: number;
  /** Upload, the model, and reading back outputs and excitations. */
  inferenceMs: number;
  totalMs: number;
}

export interface ClassifyResult {
  top: ClassScore[];
  /** Every class's probability (softmax of the scores unless the model ends in one). */
  probabilities: Float32Array;
  /** Every SE block, in network order. */
  excitations: BlockExcitation[];
  timings: Timings;
  backend: "webgpu" | "cpu";
}

export interface TensorInfo { name: string; shape: number[]; }

export interface SeBlockInfo {
  name: string;
  channels: number;
  /** Width of the bottleneck (the first FC's outputs). */
  reduced: number;
  reduction: number;
  pooling: "avg" | "max";
  hidden: string;
  gate: string;
  /** A residual add fused into the block's scale. */
  residual: boolean;
}

export interface LayerInfo { name: string; op: string; output: number[]; macs: number; }

export interface ModelInfo {
  producer: string;
  opset: number;
  /** The batch size the model fixes, or null when any batch works. */
  batch: number | null;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  labels: string[] | null;
  seBlocks: SeBlockInfo[];
  /** The compiled steps, after fusion. */
  layers: LayerInfo[];
  onnxNodes: number;
  parameters: number;
  macs: number;
  metadata: Record<string, string>;
  /** How images become the input tensor. */
  preprocess: {
    size: [number, number]; channels: "gray" | "rgb" | "bgr";
    mean: number[]; std: number[]; scale: number; invert: boolean;
  };
  backend: "webgpu" | "cpu";
}
