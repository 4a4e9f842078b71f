// Drives the browser benchmark: se-runtime (WebGPU) against onnxruntime-web (WebGPU and
// wasm providers) in one headless Chromium on SwiftShader, same ONNX bytes, same input.
//   node bench/web/run.mjs [--quick] [--out DIR] [--only KEY,...] [MODELS_DIR]
//   node bench/web/run.mjs --render [--out DIR]   (web.md again from web.json)
// MODELS_DIR (or $SE_BENCH_MODELS) holds <name>/model.onnx as tools/make_fixtures.py
// --size full writes them; the demo model models/fashion_se_resnet.onnx is always in.
// Writes DIR/web.json (every number) and DIR/web.md (the tables); DIR defaults to
// bench/results. bench/web/run.sh installs what this needs first.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './server.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless', '--no-sandbox', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic', '--enable-unsafe-webgpu',
];
const KINDS = ['se', 'ort-webgpu', 'ort-wasm'];
const NAMES = { se: 'se-runtime (WebGPU)', 'ort-webgpu': 'ORT-web WebGPU', 'ort-wasm': 'ORT-web wasm' };
// Benchmark models in the order of the tables, with the names the tables use.
const MODELS = [
  ['se_resnet50', 'SE-ResNet-50'],
  ['resnet50', 'ResNet-50'],
  ['mobilenet_v3_large', 'MobileNetV3-Large'],
  ['efficientnet_b0', 'EfficientNet-B0'],
];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const outIndex = args.indexOf('--out');
const outDir = resolve(outIndex >= 0 ? args[outIndex + 1] : join(ROOT, 'bench/results'));
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? args[onlyIndex + 1].split(',') : null;
const positional = args.filter((a, i) => !a.startsWith('--') && !['--out', '--only'].includes(args[i - 1]));
const modelsDir = positional[0] ?? process.env.SE_BENCH_MODELS ?? null;

// Runs per configuration: at most RUNS timed (after up to WARMUP warm-up rounds, only
// one where a round takes over WARM_EXTRA_MAX_S, plus one that prices a round), fewer
// where interleaved rounds of all runtimes would push the configuration past CAP_S
// seconds, but never fewer than MIN_RUNS. Runtimes too slow for batch 8 (B8_MAX_S)
// are left out of it and the tables say so.
const WARMUP = quick ? 1 : 3;
const RUNS = quick ? 5 : 20;
const MIN_RUNS = 3;
const WARM_EXTRA_MAX_S = 10;
const B8_MAX_S = Number(process.env.SE_BENCH_WEB_B8_MAX_S ?? 20);
const CAP_S = quick ? 15 : Number(process.env.SE_BENCH_WEB_CAP_S ?? 90);
const COLD_REPS = quick ? 1 : Number(process.env.SE_BENCH_WEB_COLD_REPS ?? 3);
const BATCHES = [1, 8];
const started = Date.now();
const say = (m) => console.log(`[web-bench ${((Date.now() - started) / 1000).toFixed(0)} s] ${m}`);

const fileSize = (f) => statSync(f).size;

function findModels() {
  const list = [];
  const demo = join(ROOT, 'models/fashion_se_resnet.onnx');
  if (!existsSync(demo)) throw new Error(`the demo model ${demo} is missing`);
  if (!quick) {
    if (!modelsDir) {
      throw new Error('no models directory: pass one or set SE_BENCH_MODELS ' +
        '(tools/make_fixtures.py DIR --size full writes them), or use --quick');
    }
    for (const [key, name] of MODELS) {
      const file = join(modelsDir, key, 'model.onnx');
      if (!existsSync(file)) throw new Error(`${file} is missing: run tools/make_fixtures.py ${modelsDir} --size full`);
      const meta = JSON.parse(readFileSync(join(modelsDir, key, 'meta.json'), 'utf8'));
      list.push({ key, name, file, shape: meta.input_shape, seBlocks: meta.se_blocks });
    }
  }
  list.push({ key: 'fashion_se_resnet', name: 'demo (fashion SE-ResNet)', file: demo, shape: [1, 1, 28, 28], seBlocks: null });
  // Cheapest first, so that a run cut short still has the small models; the tables
  // keep the list's order.
  list.forEach((m, i) => (m.order = i));
  list.sort((a, b) => fileSize(a.file) - fileSize(b.file));
  return only ? list.filter((m) => only.includes(m.key)) : list;
}

async function launch() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  const context = await browser.newContext();
  const page = await context.newPage();
  const log = [];
  page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  return { browser, page, log };
}

async function openPage(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => window.benchReady === true);
}

function stats(times) {
  const s = [...times].sort((a, b) => a - b);
  const q = (p) => {
    const i = (s.length - 1) * p;
    const lo = Math.floor(i);
    return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (i - lo);
  };
  return { n: s.length, median: q(0.5), p10: q(0.1), p90: q(0.9), min: s[0], max: s[s.length - 1] };
}

const message = (e) => String(e?.message ?? e).split('\n')[0].slice(0, 400);

/** Warm inference: every runtime in one page, runs interleaved. */
async function timed(page, model, log) {
  const result = { model: model.key, name: model.name, configs: [], loads: {}, profiles: {} };
  await page.evaluate((k) => window.bench.fetchModel(k), model.key);
  const ort = {};
  for (const kind of ['ort-webgpu', 'ort-wasm']) {
    const before = log.length;
    try {
      ort[kind] = await page.evaluate(([k, key, shape]) => window.bench.load(k, key, 1, shape), [kind, model.key, model.shape]);
      result.loads[kind] = { ms: ort[kind].ms, backend: ort[kind].backend };
      say(`${model.key}: ${kind} session in ${ort[kind].ms.toFixed(0)} ms`);
    } catch (e) {
      result.loads[kind] = { error: message(e) };
      say(`${model.key}: ${kind} failed to load: ${message(e)}`);
    }
    const logs = log.slice(before).filter((l) => !l.startsWith('debug'));
    if (logs.length) result.loads[kind] = { ...result.loads[kind], console: logs.slice(0, 20) };
  }
  for (const batch of BATCHES) {
    const config = { batch, runtimes: {}, agreement: {} };
    result.configs.push(config);
    const ids = {};
    // At batch 8, a runtime whose batch-1 median says one run would take over
    // B8_MAX_S is left out (before its session is made): on a software adapter the
    // budget cannot hold it.
    const tooSlow = (kind) => {
      const b1 = result.configs[0].runtimes[kind]?.median;
      return batch !== 1 && b1 && (b1 * batch) / 1000 > B8_MAX_S ? (b1 * batch) / 1000 : 0;
    };
    if (tooSlow('se')) {
      config.runtimes.se = {};
    } else {
      try {
        const se = await page.evaluate(([key, b, shape]) => window.bench.load('se', key, b, shape), [model.key, batch, model.shape]);
        ids.se = se.id;
        config.runtimes.se = { loadMs: se.ms, backend: se.backend };
        say(`${model.key} b${batch}: se-runtime session in ${se.ms.toFixed(0)} ms`);
      } catch (e) {
        config.runtimes.se = { error: message(e) };
        say(`${model.key} b${batch}: se-runtime failed to load: ${message(e)}`);
      }
    }
    for (const kind of ['ort-webgpu', 'ort-wasm']) {
      if (ort[kind]) {
        ids[kind] = ort[kind].id;
        config.runtimes[kind] = { backend: ort[kind].backend };
      } else {
        config.runtimes[kind] = { error: result.loads[kind].error };
      }
    }
    // The ORT sessions were made for batch 1; the model's batch is symbolic, so they
    // take batch 8 as it is, on an input made for it.
    if (batch !== 1) {
      for (const kind of ['ort-webgpu', 'ort-wasm']) {
        if (ids[kind]) await page.evaluate(([id, key, b, shape]) => window.bench.setInput(id, key, b, shape), [ids[kind], model.key, batch, model.shape]);
      }
    }
    for (const kind of KINDS) {
      const s = tooSlow(kind);
      if (!s) continue;
      config.runtimes[kind].skipped = `not run: ${batch} x its batch-1 median is ${s.toFixed(0)} s per run, over the ${B8_MAX_S} s limit`;
      say(`${model.key} b${batch}: ${kind} ${config.runtimes[kind].skipped}`);
      delete ids[kind];
    }
    const live = KINDS.filter((k) => ids[k]);
    const times = Object.fromEntries(live.map((k) => [k, []]));
    const runOne = async (kind) => {
      try {
        return await page.evaluate((id) => window.bench.run(id), ids[kind]);
      } catch (e) {
        config.runtimes[kind].error = message(e);
        say(`${model.key} b${batch}: ${kind} failed to run: ${message(e)}`);
        delete ids[kind];
        return null;
      }
    };
    // Warm-up: the first round compiles pipelines; more rounds only where cheap.
    let warm = 0;
    for (let i = 0; i < WARMUP && (i === 0 || warm < WARM_EXTRA_MAX_S * 1000); i++) {
      warm = 0;
      for (const kind of live) {
        if (!ids[kind]) continue;
        const t = await runOne(kind);
        warm += t ?? 0;
        say(`${model.key} b${batch}: warm-up ${i + 1} ${kind} ${t?.toFixed(0)} ms`);
      }
      config.warmup = i + 2;
    }
    // One more warm-up round prices a round of all runtimes, to fit the runs in CAP_S.
    let roundMs = 0;
    for (const kind of live) if (ids[kind]) roundMs += (await runOne(kind)) ?? 0;
    const runs = Math.max(MIN_RUNS, Math.min(RUNS, Math.floor((CAP_S * 1000) / Math.max(roundMs, 1))));
    config.runs = runs;
    for (let i = 0; i < runs; i++) {
      // Rotate who goes first so that no runtime always follows the same one.
      const order = live.map((_, j) => live[(i + j) % live.length]);
      for (const kind of order) {
        if (!ids[kind]) continue;
        const ms = await runOne(kind);
        if (ms !== null) times[kind].push(ms);
      }
    }
    for (const kind of live) {
      if (times[kind].length) Object.assign(config.runtimes[kind], stats(times[kind]), { times: times[kind] });
    }
    // Outputs of the last timed run of each; ORT WebGPU is the reference when it ran.
    const ref = ids['ort-webgpu'] ? 'ort-webgpu' : ids['ort-wasm'] ? 'ort-wasm' : null;
    for (const kind of live) {
      if (!ids[kind] || !ref || kind === ref) continue;
      config.agreement[`${kind} vs ${ref}`] = await page.evaluate(([a, b, c]) => window.bench.compare(a, b, c), [ids[kind], ids[ref], batch]);
    }
    if (ids['ort-webgpu'] && ids['ort-wasm']) {
      config.agreement['ort-webgpu vs ort-wasm'] = await page.evaluate(([a, b, c]) => window.bench.compare(a, b, c), [ids['ort-webgpu'], ids['ort-wasm'], batch]);
    }
    const fmt = (k) => (config.runtimes[k].median ? `${k} ${config.runtimes[k].median.toFixed(1)} ms` : `${k} -`);
    say(`${model.key} b${batch}: ${runs} runs: ${live.map(fmt).join(', ')}`);
    if (batch === 1 && ids.se && !quick) {
      try {
        result.profiles.se = await page.evaluate((id) => window.bench.profileSe(id), ids.se);
      } catch (e) {
        result.profiles.se = { error: message(e) };
      }
    }
    if (ids.se) await page.evaluate((id) => window.bench.release(id), ids.se);
  }
  for (const kind of ['ort-webgpu', 'ort-wasm']) {
    if (ort[kind]) await page.evaluate((id) => window.bench.release(id), ort[kind].id);
  }
  return result;
}

/** Cold start: a fresh browser per measurement, counting what the server sent. */
async function cold(url, server, model, kind) {
  const { browser, page, log } = await launch();
  try {
    await openPage(page, url);
    await page.evaluate((k) => window.bench.fetchModel(k), model.key);
    const from = server.log.length;
    const r = await page.evaluate(([k, key, shape]) => window.bench.cold(k, key, 1, shape), [kind, model.key, model.shape]);
    r.files = server.log.slice(from).map(({ path, file, bytes }) => ({ path, file, bytes }));
    r.console = log.filter((l) => !l.startsWith('debug')).slice(0, 20);
    return r;
  } catch (e) {
    return { error: message(e), console: log.slice(0, 20) };
  } finally {
    await browser.close();
  }
}

function downloadSizes(files) {
  const out = [];
  for (const f of files) {
    const data = readFileSync(f.file);
    out.push({
      path: f.path,
      raw: data.length,
      gzip: gzipSync(data, { level: 9 }).length,
      // Quality 9, not the default 11, which takes minutes on ORT-web's 27 MB module.
      brotli: brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } }).length,
    });
  }
  return out;
}

async function main() {
  const models = findModels();
  const ortVersion = JSON.parse(readFileSync(join(HERE, 'node_modules/onnxruntime-web/package.json'), 'utf8')).version;
  const pkg = join(ROOT, 'www/pkg');
  if (!existsSync(join(pkg, 'se_runtime_bg.wasm'))) throw new Error('www/pkg is missing: run bash www/build.sh');
  const server = await serve({
    mounts: {
      '/pkg/': pkg,
      '/ort/': join(HERE, 'node_modules/onnxruntime-web/dist'),
      '/': HERE,
    },
    models: Object.fromEntries(models.map((m) => [m.key, m.file])),
  });
  const results = {
    date: new Date().toISOString(),
    quick,
    settings: { maxWarmup: WARMUP + 1, maxRuns: RUNS, minRuns: MIN_RUNS, capSeconds: CAP_S, batch8MaxSeconds: B8_MAX_S, coldReps: COLD_REPS, batches: BATCHES },
    loadAverage: { start: loadavg() },
    versions: { onnxruntimeWeb: ortVersion, playwrightCore: JSON.parse(readFileSync(join(HERE, 'node_modules/playwright-core/package.json'), 'utf8')).version },
    models: models.map(({ key, name, file, shape, seBlocks, order }) => ({ key, name, file: file.replace(ROOT + '/', ''), bytes: fileSize(file), shape, seBlocks, order })),
    timed: [],
    cold: [],
    downloads: {},
  };
  try {
    const { browser, page, log } = await launch();
    results.versions.chromium = browser.version();
    await openPage(page, server.url);
    results.environment = await page.evaluate(() => window.bench.environment());
    say(`Chromium ${results.versions.chromium}, onnxruntime-web ${ortVersion}, adapter ${JSON.stringify(results.environment.adapter.vendor)} ${JSON.stringify(results.environment.adapter.architecture)}`);
    for (const model of models) {
      results.timed.push(await timed(page, model, log));
      write(results);
    }
    results.versions.page = await page.evaluate(() => window.bench.versions());
    results.console = log.filter((l) => !l.startsWith('debug')).slice(0, 100);
    await browser.close();

    for (const model of models) {
      const entry = { model: model.key, name: model.name, runs: {} };
      results.cold.push(entry);
      // One cold start where a warm batch-1 run already takes seconds.
      const slowest = Math.max(...KINDS.map((k) => results.timed.find((t) => t.model === model.key)?.configs[0]?.runtimes[k]?.median ?? 0));
      const reps = slowest > 5000 ? 1 : COLD_REPS;
      entry.reps = reps;
      for (let rep = 0; rep < reps; rep++) {
        for (const kind of KINDS) {
          const r = await cold(server.url, server, model, kind);
          say(`cold ${model.key} ${kind}: ${r.error ? `failed: ${r.error}` : `${r.totalMs.toFixed(0)} ms`}`);
          (entry.runs[kind] ??= []).push(r);
          if (!results.downloads[kind] && r.files) {
            results.downloads[kind] = downloadSizes(r.files.filter((f) => f.path.startsWith('/pkg/') || f.path.startsWith('/ort/')));
          }
        }
      }
      for (const kind of KINDS) {
        const ok = entry.runs[kind].filter((r) => !r.error);
        entry[kind] = ok.length ? stats(ok.map((r) => r.totalMs)) : { error: entry.runs[kind][0]?.error };
      }
      write(results);
      say(`cold ${model.key}: ${KINDS.map((k) => `${k} ${entry[k].median?.toFixed(0) ?? 'failed'} ms`).join(', ')}`);
    }
  } finally {
    await server.close();
  }
  results.complete = true;
  write(results);
  say(`wrote ${join(outDir, 'web.json')} and web.md`);
}

/** Writes what has been measured so far (after each model, so a cut-off run leaves it). */
function write(results) {
  results.loadAverage.end = loadavg();
  results.seconds = Math.round((Date.now() - started) / 1000);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'web.json'), JSON.stringify(results, null, 1) + '\n');
  writeFileSync(join(outDir, 'web.md'), markdown(results));
}

const ms = (v) => (v === undefined || v === null ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const kib = (b) => `${(b / 1024).toFixed(0)} KiB`;

function cell(r) {
  if (!r) return '-';
  if (r.error) return `failed: ${r.error.slice(0, 80)}`;
  if (r.skipped) return 'not run (see below)';
  if (r.median === undefined) return '-';
  return `**${ms(r.median)}** (${ms(r.p10)}–${ms(r.p90)})`;
}

function ratio(a, b) {
  return a?.median && b?.median ? `${(a.median / b.median).toFixed(2)}x` : '-';
}

function markdown(results) {
  const order = (list) => [...list].sort((a, b) => results.models.find((m) => m.key === a.model).order - results.models.find((m) => m.key === b.model).order);
  const r = { ...results, timed: order(results.timed), cold: order(results.cold) };
  const env = r.environment ?? {};
  const a = env.adapter ?? {};
  const lines = [];
  if (!r.complete) lines.push('**Incomplete: the run was cut off; these are the models it finished.**', '');
  lines.push(`Measured ${r.date.slice(0, 16).replace('T', ' ')} UTC${r.quick ? ' (--quick smoke run: too few runs to quote)' : ''} by \`bash bench/web/run.sh\`: ` +
    `headless Chromium ${r.versions.chromium} (${env.hardwareConcurrency} hardware threads), onnxruntime-web ${r.versions.onnxruntimeWeb}, ` +
    `WebGPU adapter as the page sees it: vendor "${a.vendor}", architecture "${a.architecture}"` +
    `${a.description ? `, "${a.description}"` : ''}, fallback adapter: ${a.isFallbackAdapter}` +
    `${a.features ? `, features: ${a.features.join(', ')}` : ''}.`);
  lines.push('');
  lines.push('Warm inference, milliseconds per call from a Float32Array input to the logits back in JavaScript ' +
    '(upload, model, readback; se-runtime also reads back every SE block\'s excitation): ' +
    '**median** (p10–p90) over the stated timed runs after the stated warm-up runs, the runtimes interleaved run by run in one page. ' +
    'Ratios are ORT-web\'s median over se-runtime\'s: above 1 means se-runtime is faster.');
  lines.push('');
  lines.push('| model | batch | warm-up + runs | se-runtime ms | ORT-web WebGPU ms | ORT-web wasm ms | WebGPU / se | wasm / se | outputs (se vs ORT) |');
  lines.push('|---|---|---|---|---|---|---|---|---|');
  for (const t of r.timed) {
    for (const c of t.configs) {
      const rt = c.runtimes;
      const agree = Object.entries(c.agreement)
        .filter(([k]) => k.startsWith('se vs'))
        .map(([, v]) => (v.error ? v.error : `top-1 ${v.top1Agree}/${v.rows}, max abs diff ${v.maxAbs.toExponential(1)}`))
        .join('; ');
      lines.push(`| ${t.name} | ${c.batch} | ${c.warmup ?? '-'} + ${c.runs ?? '-'} | ${cell(rt.se)} | ${cell(rt['ort-webgpu'])} | ${cell(rt['ort-wasm'])} | ` +
        `${ratio(rt['ort-webgpu'], rt.se)} | ${ratio(rt['ort-wasm'], rt.se)} | ${agree || '-'} |`);
    }
  }
  const short = r.timed.flatMap((t) => t.configs.filter((c) => c.runs < r.settings.maxRuns).map((c) => `${t.name} batch ${c.batch} (${c.runs})`));
  if (short.length) {
    lines.push('');
    lines.push(`Fewer than ${r.settings.maxRuns} timed runs, because a configuration's timed runs are capped at ~${r.settings.capSeconds} s ` +
      `(at least ${r.settings.minRuns}) on this software adapter: ${short.join(', ')}.`);
  }
  const skipped = r.timed.flatMap((t) => t.configs.flatMap((c) => Object.entries(c.runtimes).filter(([, x]) => x.skipped).map(([k, x]) => `${t.name} batch ${c.batch}, ${NAMES[k]}: ${x.skipped}`)));
  if (skipped.length) {
    lines.push('');
    lines.push('Left out of batch 8 to keep the whole run near 40 minutes:');
    lines.push('');
    for (const x of skipped) lines.push(`- ${x}`);
  }
  const median = (key, kind) => r.timed.find((t) => t.model === key)?.configs[0]?.runtimes[kind]?.median;
  const overhead = KINDS.filter((k) => median('se_resnet50', k) && median('resnet50', k))
    .map((k) => `${NAMES[k]} ${((median('se_resnet50', k) / median('resnet50', k) - 1) * 100).toFixed(1)}%`);
  if (overhead.length) {
    lines.push('');
    const runs = (key) => r.timed.find((t) => t.model === key)?.configs[0]?.runs;
    lines.push(`SE overhead at batch 1 (SE-ResNet-50 median over ResNet-50 median, minus 1; ${runs('se_resnet50')} and ` +
      `${runs('resnet50')} timed runs on a shared machine, so the spread of the runs bounds what this can resolve): ${overhead.join(', ')}.`);
  }
  const la = r.loadAverage;
  if (la?.end) {
    lines.push('');
    lines.push(`The machine was shared: load average ${la.start.map((x) => x.toFixed(1)).join(' / ')} at the start, ` +
      `${la.end.map((x) => x.toFixed(1)).join(' / ')} at the end (1 / 5 / 15 min), for ${env.hardwareConcurrency} hardware threads; the run took ${Math.round(r.seconds / 60)} min.`);
  }
  lines.push('');
  lines.push(`Cold start, batch 1: the model's bytes in hand to the first logits, in a fresh browser each time ` +
    `(import and compile of the runtime's JS and wasm, device, session, shader compilation, first run); median of the stated count, ms.`);
  lines.push('');
  lines.push('| model | starts each | se-runtime | ORT-web WebGPU | ORT-web wasm | WebGPU / se |');
  lines.push('|---|---|---|---|---|---|');
  for (const c of r.cold) {
    const f = (k) => (c[k]?.error ? `failed: ${c[k].error.slice(0, 80)}` : ms(c[k]?.median));
    lines.push(`| ${c.name} | ${c.reps} | ${f('se')} | ${f('ort-webgpu')} | ${f('ort-wasm')} | ${ratio(c['ort-webgpu'], c.se)} |`);
  }
  lines.push('');
  lines.push('Bytes downloaded by each runtime (JS and wasm the server sent for one cold start; gzip -9 and brotli -q 9 computed on the same files):');
  lines.push('');
  lines.push('| runtime | files | raw | gzip | brotli |');
  lines.push('|---|---|---|---|---|');
  for (const kind of KINDS) {
    const d = r.downloads[kind];
    if (!d) {
      lines.push(`| ${NAMES[kind]} | - | - | - | - |`);
      continue;
    }
    const sum = (k) => d.reduce((s, f) => s + f[k], 0);
    lines.push(`| ${NAMES[kind]} | ${d.map((f) => f.path.split('/').pop()).join(', ')} | ${kib(sum('raw'))} | ${kib(sum('gzip'))} | ${kib(sum('brotli'))} |`);
  }
  const notes = [];
  for (const t of r.timed) {
    for (const [kind, l] of Object.entries(t.loads)) {
      if (l.error) notes.push(`${t.name}: ${NAMES[kind]} failed to load: ${l.error}`);
      for (const c of l.console ?? []) notes.push(`${t.name}, ${NAMES[kind]} console: ${c.slice(0, 300)}`);
    }
    for (const c of t.configs) {
      for (const [kind, x] of Object.entries(c.runtimes)) {
        if (x.error && x.median !== undefined) notes.push(`${t.name} batch ${c.batch}: ${NAMES[kind]} failed during runs: ${x.error}`);
      }
    }
  }
  if (notes.length) {
    lines.push('');
    lines.push('What the runtimes reported (errors, fallbacks, warnings):');
    lines.push('');
    for (const n of [...new Set(notes)].slice(0, 30)) lines.push(`- ${n}`);
  }
  const prof = r.timed.filter((t) => Array.isArray(t.profiles?.se));
  if (prof.length) {
    lines.push('');
    lines.push('se-runtime\'s GPU time by op at batch 1 (one run with timestamp queries around each plan step; ' +
      'each step in its own compute pass, so the sum slightly exceeds a normal run), ms. ' +
      'onnxruntime-web 1.30\'s WebGPU provider delivered no per-kernel profile to `env.webgpu.profiling.ondata`, so there is no ORT-web column.');
    lines.push('');
    lines.push('| model | steps | GPU total | warm median (wall) | by op | slowest steps |');
    lines.push('|---|---|---|---|---|---|');
    for (const t of prof) {
      const by = new Map();
      for (const s of t.profiles.se) by.set(s.op, (by.get(s.op) ?? 0) + s.ms);
      const total = t.profiles.se.reduce((s, x) => s + x.ms, 0);
      const ops = [...by.entries()].sort((x, y) => y[1] - x[1]).slice(0, 6).map(([k, v]) => `${k} ${ms(v)}`).join(', ');
      const top = [...t.profiles.se].sort((x, y) => y.ms - x.ms).slice(0, 3).map((s) => `${s.name} (${s.op}) ${ms(s.ms)}`).join(', ');
      lines.push(`| ${t.name} | ${t.profiles.se.length} | ${ms(total)} | ${ms(t.configs[0].runtimes.se?.median)} | ${ops} | ${top} |`);
    }
  }
  return lines.join('\n') + '\n';
}

// --render: rewrite DIR/web.md from DIR/web.json without measuring.
const run = args.includes('--render')
  ? async () => writeFileSync(join(outDir, 'web.md'), markdown(JSON.parse(readFileSync(join(outDir, 'web.json'), 'utf8'))))
  : main;
run().catch((e) => {
  console.error(`web-bench: ${e.stack ?? e}`);
  process.exit(1);
});
