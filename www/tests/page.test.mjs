// End to end: the page in headless Chromium, on WebGPU (SwiftShader) and without it.
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serve } from '../serve.mjs';
import { artifactDir, launch } from './browser.mjs';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
let server;
let url;
let gpuResult;

before(async () => {
  ({ server, url } = await serve(0));
});
after(() => server?.close());

const slug = (label) => label.toLowerCase().replace(/[-/ ]/g, '_');

/** Waits for a result for the image `name` (or any) and returns what the page shows. */
async function result(page, name) {
  await page.waitForFunction(
    (n) => window.seRuntimePage?.result && (!n || window.seRuntimePage.image?.name === n) && !window.seRuntimePage.busy,
    name,
    { timeout: 120_000 },
  );
  return page.evaluate(() => {
    const s = window.seRuntimePage;
    return {
      image: s.image.name,
      truth: s.image.truth,
      backend: s.result.backend,
      top: s.result.top,
      excitations: s.result.excitations.map((e) => ({ name: e.name, channels: e.channels, values: Array.from(e.values) })),
      seBlocks: s.model.info.seBlocks.map((b) => b.channels),
      firstResultMs: s.firstResultMs,
      badge: document.getElementById('backend').textContent,
      notice: document.getElementById('notice').hidden ? null : document.getElementById('notice').textContent,
    };
  });
}

/** Drops a file with `bytes` on the page as a user would. */
async function drop(page, name, bytes) {
  await page.evaluate(([n, b]) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(b)], n));
    window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, [name, Array.from(bytes)]);
}

test('classifies a sample on WebGPU and draws every block and channel', async () => {
  const { page, log, close } = await launch();
  try {
    await page.goto(url);
    const r = await result(page);
    assert.equal(r.backend, 'webgpu', log.join('\n'));
    assert.match(r.badge, /WebGPU/);
    assert.ok(r.truth, 'the first gallery sample has its class in its name');
    assert.equal(slug(r.top[0].label), r.truth, `predicted ${r.top[0].label} for ${r.image}`);
    assert.equal(r.top.length, 5);
    assert.ok(r.excitations.length > 0, 'the model has SE blocks');
    assert.deepEqual(r.excitations.map((e) => e.channels), r.seBlocks);
    for (const e of r.excitations) {
      assert.equal(e.values.length, e.channels);
      assert.ok(e.values.every((v) => v >= 0 && v <= 1), `${e.name}: excitations in [0, 1]`);
    }
    gpuResult = r;

    // The same image through the native program (tools/test-web.sh runs it on lavapipe).
    if (process.env.SE_WEB_NATIVE) {
      const native = JSON.parse(readFileSync(process.env.SE_WEB_NATIVE, 'utf8'));
      assert.ok(native.image.endsWith(`/${r.image}`), `native result is for ${native.image}`);
      assert.equal(native.top[0].label, r.top[0].label);
      assert.deepEqual(native.blocks.map((b) => b.channels), r.seBlocks);
      native.blocks.forEach((b, i) => b.values.forEach((v, c) => {
        const w = r.excitations[i].values[c];
        assert.ok(Math.abs(v - w) <= 2e-4, `${b.name}[${c}]: native ${v} vs browser ${w}`);
      }));
    }

    // The heatmap shows one row per block with that block's channel count, and each
    // cell has the colour of its value.
    const drawn = await page.evaluate(async () => {
      const { sequential } = await import('/www/app/colors.js');
      const c = document.getElementById('heatmap');
      const layout = JSON.parse(c.dataset.layout);
      const dpr = c.width / layout.width;
      const g = c.getContext('2d');
      const ex = window.seRuntimePage.result.excitations;
      let worst = 0;
      ex.forEach((b, r) => {
        for (const ch of [0, 1, Math.floor(b.channels / 2), b.channels - 1]) {
          const x = layout.gutter + ((ch + 0.5) * layout.plot) / b.channels;
          const y = layout.top + (r + 0.5) * layout.rowHeight;
          const px = g.getImageData(Math.floor(x * dpr), Math.floor(y * dpr), 1, 1).data;
          const want = sequential(b.values[ch]);
          worst = Math.max(worst, ...want.map((v, i) => Math.abs(v - px[i])));
        }
      });
      return { rows: Number(c.dataset.rows), channels: c.dataset.channels, worst };
    });
    assert.equal(drawn.rows, r.excitations.length);
    assert.equal(drawn.channels, r.excitations.map((e) => e.channels).join(','));
    assert.ok(drawn.worst <= 2, `heatmap cell colours off by ${drawn.worst}`);
    assert.equal(await page.locator('#distributions .hist').count(), r.excitations.length);
    const profiles = await page.getAttribute('#profiles', 'data-state');
    assert.equal(profiles, existsSync(join(REPO, 'docs/class_profiles.json')) ? 'loaded' : 'absent');

    // Export: the JSON holds every block's excitations.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
    const exported = JSON.parse(await (await download.createReadStream()).toArray().then((c) => Buffer.concat(c).toString()));
    assert.deepEqual(exported.excitations.map((e) => e.values.length), r.seBlocks);

    // Compare: pin the first image, pick another.
    await page.click('#pin');
    await page.click('#gallery button:nth-child(3)');
    await page.waitForFunction(() => document.getElementById('compare').dataset.state === 'compared');

    await page.evaluate(() => document.getElementById('toast').classList.remove('show'));
    await page.waitForTimeout(400); // the toast's fade-out
    const dir = artifactDir();
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, 'page.png'), fullPage: true });
    if (process.env.SE_WEB_UPDATE_SCREENSHOT) copyFileSync(join(dir, 'page.png'), join(REPO, 'docs/page.png'));
    console.log(`first result ${r.firstResultMs.toFixed(0)} ms after navigation (WebGPU, SwiftShader)`);
  } finally {
    await close();
  }
});

test('without --enable-unsafe-webgpu the page says so, runs on the CPU and agrees', async () => {
  const { page, log, close } = await launch({ webgpu: false });
  try {
    await page.goto(url);
    const r = await result(page);
    assert.equal(r.backend, 'cpu', log.join('\n'));
    assert.match(r.badge, /CPU/);
    assert.match(r.notice ?? '', /requestAdapter\(\) returned no adapter/);
    if (gpuResult) {
      assert.equal(r.top[0].label, gpuResult.top[0].label);
      r.excitations.forEach((e, i) => e.values.forEach((v, c) => {
        const g = gpuResult.excitations[i].values[c];
        assert.ok(Math.abs(v - g) <= 1e-3, `${e.name}[${c}]: cpu ${v} vs webgpu ${g}`);
      }));
    }
    console.log(`first result ${r.firstResultMs.toFixed(0)} ms after navigation (CPU fallback)`);
  } finally {
    await close();
  }
});

test('a corrupt model or image shows an error and the page keeps working', async () => {
  const { page, close } = await launch();
  try {
    await page.goto(url);
    const first = await result(page);
    const garbage = Buffer.from('this is not a protobuf \u0000\u0001\u0002 nor a picture');

    await drop(page, 'corrupt.onnx', garbage);
    await page.waitForSelector('#toast.show');
    assert.match(await page.textContent('#toast'), /Could not load corrupt\.onnx: .+/);
    assert.equal(await page.inputValue('#model-select'), 'fashion', 'the working model stays selected');

    await drop(page, 'corrupt.png', garbage);
    await page.waitForFunction(() => /corrupt\.png/.test(document.getElementById('toast').textContent));

    await page.click('#gallery button:nth-child(2)');
    const name = await page.getAttribute('#gallery button:nth-child(2)', 'data-name');
    const next = await result(page, name);
    assert.notEqual(next.image, first.image);
    assert.equal(next.top.length, 5);
  } finally {
    await close();
  }
});

test('an image or text in the model slot, a model too large and a text file dropped each say why, and the page keeps working', async () => {
  const { page, close } = await launch();
  try {
    await page.goto(url);
    const first = await result(page);
    const toastSays = async (pattern) => {
      await page.waitForFunction(
        (p) => document.getElementById('toast').classList.contains('show') && new RegExp(p).test(document.getElementById('toast').textContent),
        pattern.source,
      );
      await page.evaluate(() => {
        const t = document.getElementById('toast');
        t.classList.remove('show');
        t.textContent = '';
      });
    };
    const png = readFileSync(join(REPO, 'samples/fashion', first.image));

    // A PNG picked in the model slot: recognised by content, never parsed as a model.
    await page.setInputFiles('#model-file', { name: 'shoe.png', mimeType: 'image/png', buffer: png });
    await toastSays(/shoe\.png is a PNG image, not an ONNX model/);
    // The same PNG renamed .onnx and dropped.
    await drop(page, 'renamed.onnx', png);
    await toastSays(/renamed\.onnx is a PNG image, not an ONNX model/);
    // Text in the model slot: the runtime's own reason.
    await page.setInputFiles('#model-file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('model weights: see attached\n') });
    await toastSays(/Could not load notes\.txt: .*(not an ONNX model|no graph)/);
    // A text file dropped: neither an image nor a model.
    await drop(page, 'notes.txt', Buffer.from('hello'));
    await toastSays(/notes\.txt is neither an image this browser can decode nor an \.onnx model/);
    // A model over the page's size cap: refused before it is read (made in the page).
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(201 * 2 ** 20)], 'huge.onnx'));
      window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await toastSays(/huge\.onnx is 201 MB; this page loads models up to 200 MB/);

    assert.equal(await page.inputValue('#model-select'), 'fashion', 'the working model stays selected');
    assert.equal(await page.evaluate(() => window.seRuntimePage.model.key), 'fashion');
    await page.click('#gallery button:nth-child(3)');
    const name = await page.getAttribute('#gallery button:nth-child(3)', 'data-name');
    const next = await result(page, name);
    assert.equal(next.top.length, 5);
    assert.notEqual(next.image, first.image);
  } finally {
    await close();
  }
});

test('pasted images and the webcam (Chromium\'s fake camera) are classified', async () => {
  const { page, close } = await launch({
    args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
  });
  try {
    await page.goto(url);
    await result(page);
    const sample = (await page.getAttribute('#gallery button:nth-child(4)', 'data-name'));
    const bytes = await page.evaluate(async (n) => Array.from(new Uint8Array(await (await fetch(`samples/fashion/${n}`)).arrayBuffer())), sample);
    await page.evaluate(([n, b]) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(b)], `pasted-${n}`, { type: 'image/png' }));
      window.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt }));
    }, [sample, bytes]);
    const pasted = await result(page, `pasted-${sample}`);
    assert.equal(pasted.top.length, 5);

    await page.click('#webcam');
    await result(page, 'webcam');
    const frames = await page.evaluate(async () => {
      const seen = new Set();
      const until = performance.now() + 3000;
      while (performance.now() < until && seen.size < 3) {
        seen.add(window.seRuntimePage.result);
        await new Promise((r) => setTimeout(r, 50));
      }
      return seen.size;
    });
    assert.ok(frames >= 2, `live webcam frames classified: ${frames}`);
    await page.click('#webcam');
  } finally {
    await close();
  }
});

test('models by URL show their download and kernel building, and one past the cap is refused before it is read', async () => {
  // A sparse file past the 200 MB cap, served like any model.
  mkdirSync(join(REPO, 'models/local'), { recursive: true });
  const huge = join(REPO, 'models/local/huge_test.onnx');
  const fd = openSync(huge, 'w');
  ftruncateSync(fd, 201 * 2 ** 20);
  closeSync(fd);
  const { page, close } = await launch();
  try {
    await page.goto(url);
    await result(page);
    const { phases, last, error } = await page.evaluate(async () => {
      const client = window.seRuntimePage.client;
      const seen = [];
      await client.load('again', new URL('models/fashion_se_resnet.onnx', location.href).href, undefined, (p) => seen.push(p));
      let error = null;
      await client.load('huge', new URL('models/local/huge_test.onnx', location.href).href).catch((e) => {
        error = e.message;
      });
      return { phases: [...new Set(seen.map((p) => p.phase))], last: seen.filter((p) => p.phase === 'compile').at(-1), error };
    });
    assert.deepEqual(phases, ['download', 'compile']);
    assert.ok(last.total > 0 && last.done === last.total, JSON.stringify(last));
    assert.match(error, /huge_test\.onnx is 201 MB; this page loads models up to 200 MB/);
  } finally {
    await close();
    rmSync(huge, { force: true });
  }
});

const ORIENTATION = join(REPO, 'models/local/pp_lcnet_orientation.onnx');
const PAGE = join(REPO, 'samples/local/page.png');

test('the PP-LCNet orientation model reads a scanned page turned four ways (CPU fallback)', {
  skip: !(existsSync(ORIENTATION) && existsSync(PAGE)) && 'not fetched: run tools/fetch_models.sh',
}, async () => {
  const { page, close } = await launch({ webgpu: false });
  try {
    await page.goto(url);
    await result(page);
    await page.selectOption('#model-select', 'orientation');
    await page.waitForFunction(() => window.seRuntimePage.model?.key === 'orientation', null, { timeout: 120_000 });
    await page.click('#gallery button');
    let r = await result(page, 'page.png');
    assert.equal(r.top[0].label, '0°');
    assert.deepEqual(r.excitations.map((e) => e.channels), r.seBlocks);
    for (const turned of [90, 180, 270]) {
      await page.click('#rotate');
      r = await result(page, `page.png (turned ${turned}°)`);
      assert.equal(r.top[0].label, `${turned}°`);
    }
  } finally {
    await close();
  }
});
