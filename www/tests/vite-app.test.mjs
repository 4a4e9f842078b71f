// The packed npm tarball in a plain Vite 7 + TypeScript app: type-checks, builds with
// `vite build`, and classifies a sample in headless Chromium.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serve } from '../serve.mjs';
import { launch } from './browser.mjs';

const WWW = fileURLToPath(new URL('../', import.meta.url));
const APP = `${WWW}test-app`;
const REPO = fileURLToPath(new URL('../../', import.meta.url));

test('the npm tarball installs, type-checks, builds and runs in a Vite app', async () => {
  const tarball = readdirSync(`${WWW}dist`).filter((f) => f.endsWith('.tgz')).sort().at(-1);
  assert.ok(tarball, 'www/build.sh --pack makes www/dist/se-runtime-<version>.tgz');
  const run = (cmd, args) => execFileSync(cmd, args, { cwd: APP, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `../dist/${tarball}`]);
  mkdirSync(`${APP}/public`, { recursive: true });
  copyFileSync(`${REPO}models/fashion_se_resnet.onnx`, `${APP}/public/model.onnx`);
  const sample = readdirSync(`${REPO}samples/fashion`).sort((a, b) => parseInt(a) - parseInt(b))[0];
  copyFileSync(`${REPO}samples/fashion/${sample}`, `${APP}/public/sample.png`);
  run('npx', ['tsc', '--noEmit']);
  const built = run('npx', ['vite', 'build']);
  assert.match(built, /\.wasm/, 'vite emits the wasm module as an asset');

  const { server, url } = await serve(0, { root: `${APP}/dist`, allow: null });
  const { page, log, close } = await launch();
  try {
    await page.goto(url);
    const out = await (await page.waitForFunction(() => window.viteCheck, null, { timeout: 120_000 })).jsonValue();
    assert.equal(out.error, undefined, `${out.error}\n${log.join('\n')}`);
    assert.equal(out.backend, 'webgpu');
    const truth = sample.replace(/\.png$/, '').replace(/^\d+_/, '');
    assert.equal(out.label.toLowerCase().replace(/[-/ ]/g, '_'), truth);
    assert.ok(out.blocks > 0);
  } finally {
    await close();
    server.close();
  }
});
