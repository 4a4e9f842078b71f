// The benchmark hooks of the package (LoadOptions.batch, Model.runTensor, Model.profile)
// in Node, on the CPU fallback: a batch runs its rows as separate batch-1 runs would.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Runtime, initialize } from '../pkg/index.js';

const MODEL = readFileSync(new URL('../../models/fashion_se_resnet.onnx', import.meta.url));
const IMAGE = 28 * 28;

test('runTensor runs a batch row by row as batch-1 runs do; bad batches and inputs are refused', async () => {
  await initialize(readFileSync(new URL('../pkg/se_runtime_bg.wasm', import.meta.url)));
  const runtime = await Runtime.create({ backend: 'cpu' });
  const one = await runtime.loadModel(MODEL);
  const three = await runtime.loadModel(MODEL, { batch: 3 });

  // Three different images: a smooth ramp, its negative, and a checkerboard.
  const input = new Float32Array(3 * IMAGE);
  for (let i = 0; i < IMAGE; i++) {
    input[i] = i / IMAGE - 0.5;
    input[IMAGE + i] = 0.5 - i / IMAGE;
    input[2 * IMAGE + i] = ((i % 28) + Math.floor(i / 28)) % 2 ? 1 : -1;
  }
  const batched = await three.runTensor(input);
  assert.ok(batched instanceof Float32Array);
  const classes = batched.length / 3;
  assert.equal(classes, 10);
  for (let r = 0; r < 3; r++) {
    const row = await one.runTensor(input.subarray(r * IMAGE, (r + 1) * IMAGE));
    assert.equal(row.length, classes);
    for (let c = 0; c < classes; c++) {
      const want = row[c];
      assert.ok(Math.abs(batched[r * classes + c] - want) <= 1e-4 * Math.max(1, Math.abs(want)),
        `row ${r} class ${c}: ${batched[r * classes + c]} vs ${want}`);
    }
  }
  // The rows differ, so a batch that repeated row 0 would have failed above.
  assert.notDeepEqual([...batched.subarray(0, classes)], [...batched.subarray(classes, 2 * classes)]);

  await assert.rejects(runtime.loadModel(MODEL, { batch: 0 }), /options\.batch must be a whole number >= 1/);
  await assert.rejects(runtime.loadModel(MODEL, { batch: 1.5 }), /options\.batch must be a whole number >= 1/);
  await assert.rejects(three.runTensor(new Float32Array(IMAGE)), /runTensor: .*2352 values for shape \[3, 1, 28, 28\].*784/);
  await assert.rejects(three.profile(input), /profile: the CPU fallback has no GPU timestamps/);
});
