// The package in Node: no WebGPU there, so it must say so and run the CPU kernels.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { Runtime, initialize } from '../pkg/index.js';

const REPO = new URL('../../', import.meta.url);

/** RGBA pixels of an 8-bit greyscale PNG without interlacing (the Fashion samples). */
function decodeGrayPng(bytes) {
  let pos = 8;
  let width = 0;
  let height = 0;
  const idat = [];
  while (pos < bytes.length) {
    const len = bytes.readUInt32BE(pos);
    const type = bytes.toString('latin1', pos + 4, pos + 8);
    const body = bytes.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      assert.deepEqual([body[8], body[9], body[12]], [8, 0, 0], 'an 8-bit grey, non-interlaced PNG');
    }
    if (type === 'IDAT') idat.push(body);
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const data = new Uint8ClampedArray(width * height * 4);
  const row = new Uint8Array(width);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (width + 1)];
    for (let x = 0; x < width; x++) {
      const v = raw[y * (width + 1) + 1 + x];
      const left = x ? row[x - 1] : 0;
      const up = row[x]; // the previous row's value, not yet overwritten
      row[x] = [v, v + left, v + up, v + ((left + up) >> 1)][filter] ?? assert.fail(`PNG filter ${filter}`);
    }
    for (let x = 0; x < width; x++) data.set([row[x], row[x], row[x], 255], (y * width + x) * 4);
  }
  return { width, height, data };
}

test('in Node the runtime says there is no WebGPU and classifies on the CPU', async () => {
  await initialize(readFileSync(new URL('../pkg/se_runtime_bg.wasm', import.meta.url)));
  const runtime = await Runtime.create();
  assert.equal(runtime.backend, 'cpu');
  const info = runtime.adapterInfo();
  assert.equal(info.backend, 'cpu');
  assert.match(info.fallbackReason, /^Node\.js \S+ has no WebGPU/);
  await assert.rejects(Runtime.create({ backend: 'webgpu' }), /WebGPU is unavailable: Node\.js/);
  await assert.rejects(Runtime.create({ backend: 'cuda' }), /unknown backend 'cuda'/);

  const model = await runtime.loadModel(readFileSync(new URL('models/fashion_se_resnet.onnx', REPO)));
  const name = readdirSync(new URL('samples/fashion/', REPO)).sort((a, b) => parseInt(a) - parseInt(b))[0];
  const image = decodeGrayPng(readFileSync(new URL(`samples/fashion/${name}`, REPO)));
  const result = await model.classify(image, { topK: 3 });
  assert.equal(result.backend, 'cpu');
  assert.equal(result.top.length, 3);
  assert.equal(result.top[0].label.toLowerCase().replace(/[-/ ]/g, '_'), name.replace(/^\d+_|\.png$/g, ''));
  assert.deepEqual(result.excitations.map((e) => e.channels), model.info().seBlocks.map((b) => b.channels));
  await assert.rejects(model.classify({ width: 2, height: 2, data: new Uint8Array(3) }), /needs 16 bytes/);
  await assert.rejects(runtime.loadModel(new Uint8Array([1, 2, 3])), Error);
});

test('overlapping classify calls resolve in order, each with its own result', async () => {
  await initialize(readFileSync(new URL('../pkg/se_runtime_bg.wasm', import.meta.url)));
  const runtime = await Runtime.create();
  const model = await runtime.loadModel(readFileSync(new URL('models/fashion_se_resnet.onnx', REPO)));
  const names = readdirSync(new URL('samples/fashion/', REPO)).sort((a, b) => parseInt(a) - parseInt(b)).slice(0, 5);
  const images = names.map((n) => decodeGrayPng(readFileSync(new URL(`samples/fashion/${n}`, REPO))));
  const serial = [];
  for (const image of images) serial.push(await model.classify(image, { topK: 3 }));
  assert.ok(new Set(serial.map((r) => JSON.stringify(r.top))).size > 1, 'the samples differ');

  // Five calls without awaiting; the pixel buffers are then overwritten at once, as a
  // video loop reusing its frame buffer would, which must not change the queued calls.
  const order = [];
  const pending = images.map((image, i) => model.classify(image, { topK: 3 }).then((r) => {
    order.push(i);
    return r;
  }));
  for (const image of images) image.data.fill(0);
  const results = await Promise.all(pending);
  assert.deepEqual(order, [0, 1, 2, 3, 4]);
  results.forEach((r, i) => {
    assert.deepEqual(r.top, serial[i].top, names[i]);
    r.excitations.forEach((e, b) => assert.deepEqual(Array.from(e.values), Array.from(serial[i].excitations[b].values)));
  });

  // A failing call in the queue rejects alone; the ones after it still run.
  const mixed = await Promise.allSettled([
    model.classify(images[0], { topK: 1 }),
    model.classify({ width: 2, height: 2, data: new Uint8Array(3) }),
    model.classify(images[0], { topK: 1 }),
  ]);
  assert.deepEqual(mixed.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.match(mixed[1].reason.message, /needs 16 bytes/);
});
