// Colour scales for the excitation views, as 256-entry RGB lookup tables.
// Sequential: viridis (perceptually uniform, readable in grey and by most colour-blind
// viewers) for excitations in [0, 1]. Diverging: blue-white-red for differences.

function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** A lookup table interpolating `stops` (hex colours at equal spacing) linearly. */
function table(stops) {
  const rgb = stops.map(hexToRgb);
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (rgb.length - 1);
    const k = Math.min(Math.floor(t), rgb.length - 2);
    const f = t - k;
    for (let c = 0; c < 3; c++) {
      lut[i * 3 + c] = Math.round(rgb[k][c] * (1 - f) + rgb[k + 1][c] * f);
    }
  }
  return lut;
}

// Viridis sampled at 16 equally spaced points.
const VIRIDIS = table([
  '#440154', '#481a6c', '#472f7d', '#414487', '#39568c', '#31688e', '#2a788e', '#23888e',
  '#1f988b', '#22a884', '#35b779', '#54c568', '#7ad151', '#a5db36', '#d2e21b', '#fde725',
]);

// Blue (down) - near white - red (up), after ColorBrewer's RdBu.
const DIVERGING = table([
  '#053061', '#2166ac', '#4393c3', '#92c5de', '#d1e5f0', '#f7f7f7',
  '#fddbc7', '#f4a582', '#d6604d', '#b2182b', '#67001f',
]);

function lookup(lut, t) {
  const i = Math.max(0, Math.min(255, Math.round((Number.isFinite(t) ? t : 0) * 255)));
  return [lut[i * 3], lut[i * 3 + 1], lut[i * 3 + 2]];
}

/** RGB of an excitation value in [0, 1]. */
export function sequential(value) {
  return lookup(VIRIDIS, value);
}

/** RGB of a difference in [-range, range]. */
export function diverging(delta, range) {
  return lookup(DIVERGING, 0.5 + delta / (2 * (range || 1)));
}

export function css([r, g, b]) {
  return `rgb(${r},${g},${b})`;
}

/** A CSS linear-gradient of a scale, for legends. */
export function gradient(kind) {
  const stops = [];
  for (let i = 0; i <= 16; i++) {
    const t = i / 16;
    stops.push(css(kind === 'diverging' ? diverging(2 * t - 1, 1) : sequential(t)));
  }
  return `linear-gradient(to right, ${stops.join(', ')})`;
}
