#!/usr/bin/env node
// Class excitation profiles for the page (docs/class_profiles.json): the mean
// excitation of every channel of every SE block over the test images of each class,
// the figure of the SE paper that shows early blocks class-agnostic and late blocks
// class-specific. Runs the model through the npm package in Node (the CPU kernels).
//
//   node tools/class_profiles.mjs [--model models/fashion_se_resnet.onnx]
//        [--data /usr/share/datasets/fashion-mnist] [--per-class 200] [--out docs/class_profiles.json]
//
// Needs www/pkg (www/build.sh) and the Fashion-MNIST test set (Debian package
// dataset-fashion-mnist).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { Runtime, initialize } from '../www/pkg/index.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/fashion_se_resnet.onnx' },
    data: { type: 'string', default: '/usr/share/datasets/fashion-mnist' },
    'per-class': { type: 'string', default: '200' },
    out: { type: 'string', default: 'docs/class_profiles.json' },
  },
});
const perClass = Number(args['per-class']);

/** An IDX file (gzip): its dimensions and bytes. */
function readIdx(path) {
  const b = gunzipSync(readFileSync(path));
  const dims = b[3];
  const shape = Array.from({ length: dims }, (_, i) => b.readUInt32BE(4 + 4 * i));
  return { shape, data: b.subarray(4 + 4 * dims) };
}

const images = readIdx(`${args.data}/t10k-images-idx3-ubyte.gz`);
const labels = readIdx(`${args.data}/t10k-labels-idx1-ubyte.gz`);
const [count, height, width] = images.shape;

await initialize(readFileSync(new URL('../www/pkg/se_runtime_bg.wasm', import.meta.url)));
const runtime = await Runtime.create({ backend: 'cpu' });
const modelBytes = readFileSync(args.model);
const model = await runtime.loadModel(modelBytes);
const info = model.info();
if (!info.labels) throw new Error(`${args.model} has no se_runtime.labels`);
const sums = info.labels.map(() => info.seBlocks.map((b) => new Float64Array(b.channels)));
const seen = info.labels.map(() => 0);
let correct = 0;

const started = performance.now();
const rgba = new Uint8ClampedArray(width * height * 4);
for (let i = 0; i < count && seen.some((n) => n < perClass); i++) {
  const k = labels.data[i];
  if (seen[k] >= perClass) continue;
  const pixels = images.data.subarray(i * width * height, (i + 1) * width * height);
  pixels.forEach((v, p) => rgba.set([v, v, v, 255], p * 4));
  const r = await model.classify({ width, height, data: rgba }, { topK: 1 });
  r.excitations.forEach((e, b) => e.values.forEach((v, c) => { sums[k][b][c] += v; }));
  seen[k]++;
  if (r.top[0].index === k) correct++;
}
const total = seen.reduce((a, b) => a + b, 0);
const round = (v) => Math.round(v * 1e5) / 1e5;
const doc = {
  model: basename(args.model),
  // The page checks it against the model it runs, so stale profiles are never shown.
  model_sha256: createHash('sha256').update(modelBytes).digest('hex'),
  source: `Fashion-MNIST test set, the first ${perClass} images of each class`,
  images: total,
  accuracy: round(correct / total),
  labels: info.labels,
  blocks: info.seBlocks.map((b) => ({ name: b.name, channels: b.channels })),
  // mean[class][block][channel]
  mean: sums.map((blocks, k) => blocks.map((s) => Array.from(s, (v) => round(v / seen[k])))),
};
writeFileSync(args.out, `${JSON.stringify(doc)}\n`);
const seconds = (performance.now() - started) / 1000;
console.log(`${args.out}: ${total} images in ${seconds.toFixed(0)} s, top-1 ${(100 * doc.accuracy).toFixed(1)}%`);
