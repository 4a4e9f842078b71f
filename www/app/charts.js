// The page's figures: a rows x channels heatmap (canvas, with tooltip), per-block
// histograms (SVG) and small bar charts. Plain DOM, no framework.
import { css, diverging, sequential } from './colors.js';

const SVG = 'http://www.w3.org/2000/svg';

export function svg(tag, attrs = {}, parent) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  parent?.appendChild(el);
  return el;
}

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

export const fmt = (v, digits = 3) => (Number.isFinite(v) ? v.toFixed(digits) : '–');

export function stats(values) {
  let sum = 0;
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    sq += v * v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = sum / values.length;
  return { mean, std: Math.sqrt(Math.max(0, sq / values.length - mean * mean)), min, max };
}

/** Pearson correlation of two equally long vectors. */
export function correlation(a, b) {
  const sa = stats(a);
  const sb = stats(b);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - sa.mean) * (b[i] - sb.mean);
  return s / a.length / (sa.std * sb.std || 1);
}

/**
 * A heatmap with one row per block (or class), each row spanning the full width with
 * its own channel count. `rows`: [{label, note, values, highlight}]; `scale`:
 * {kind: 'sequential'} for values in [0, 1] or {kind: 'diverging', range}.
 * The drawn layout is published on the canvas's data attributes for tests and export.
 */
export class Heatmap {
  constructor(canvas, tooltip, { rowHeight = 24, gutter = 150, right = 56 } = {}) {
    this.canvas = canvas;
    this.tooltip = tooltip;
    this.opts = { rowHeight, gutter, right, top: 6, bottom: 22 };
    this.rows = [];
    canvas.addEventListener('mousemove', (e) => this.hover(e));
    canvas.addEventListener('mouseleave', () => this.tooltip.classList.remove('show'));
    new ResizeObserver(() => this.rows.length && this.draw()).observe(canvas.parentElement);
  }

  set(rows, scale, { sort = false, describe } = {}) {
    this.rows = rows;
    this.scale = scale;
    this.sort = sort;
    this.describe = describe;
    // Display order per row: channel index, or by value (largest first).
    this.order = rows.map((r) => {
      const idx = Array.from(r.values, (_, i) => i);
      return sort ? idx.sort((a, b) => r.values[b] - r.values[a]) : idx;
    });
    this.draw();
  }

  color(v) {
    return this.scale.kind === 'diverging' ? diverging(v, this.scale.range) : sequential(v);
  }

  draw() {
    const { rowHeight, gutter, right, top, bottom } = this.opts;
    const c = this.canvas;
    const width = Math.max(320, c.parentElement.clientWidth);
    const height = top + this.rows.length * rowHeight + bottom;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(width * dpr);
    c.height = Math.round(height * dpr);
    c.style.width = `${width}px`;
    c.style.height = `${height}px`;
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, width, height);
    const plot = width - gutter - right;
    this.layout = { gutter, plot, top, rowHeight, width, height };
    g.font = '12px system-ui, sans-serif';
    g.textBaseline = 'middle';
    this.rows.forEach((row, r) => {
      const y = top + r * rowHeight;
      const n = row.values.length;
      const order = this.order[r];
      for (let i = 0; i < n; i++) {
        const x0 = gutter + Math.floor((i * plot) / n);
        const x1 = gutter + Math.floor(((i + 1) * plot) / n);
        g.fillStyle = css(this.color(row.values[order[i]]));
        g.fillRect(x0, y + 1, Math.max(1, x1 - x0), rowHeight - 2);
      }
      if (row.highlight) {
        g.strokeStyle = '#e8590c';
        g.lineWidth = 2;
        g.strokeRect(gutter - 1, y, plot + 2, rowHeight);
      }
      g.fillStyle = row.highlight ? '#e8590c' : '#333';
      g.textAlign = 'right';
      g.fillText(truncate(g, row.label, gutter - 10), gutter - 8, y + rowHeight / 2);
      g.fillStyle = '#777';
      g.textAlign = 'left';
      g.fillText(row.note ?? `${n} ch`, gutter + plot + 6, y + rowHeight / 2);
    });
    g.fillStyle = '#777';
    g.textAlign = 'left';
    const axisY = top + this.rows.length * rowHeight + 11;
    g.fillText(this.sort ? 'channels, largest first' : 'channel 0', gutter, axisY);
    g.textAlign = 'right';
    g.fillText(this.sort ? '' : 'last channel', gutter + plot, axisY);
    c.dataset.rows = String(this.rows.length);
    c.dataset.channels = this.rows.map((r) => r.values.length).join(',');
    c.dataset.layout = JSON.stringify(this.layout);
    c.dataset.sorted = String(this.sort);
  }

  /** The row and channel under a canvas-relative point, or null. */
  cellAt(x, y) {
    const { gutter, plot, top, rowHeight } = this.layout ?? {};
    if (!this.layout || x < gutter || x >= gutter + plot || y < top) return null;
    const r = Math.floor((y - top) / rowHeight);
    if (r >= this.rows.length) return null;
    const n = this.rows[r].values.length;
    const i = Math.min(n - 1, Math.floor(((x - gutter) * n) / plot));
    return { row: r, channel: this.order[r][i] };
  }

  hover(e) {
    const rect = this.canvas.getBoundingClientRect();
    const cell = this.cellAt(e.clientX - rect.left, e.clientY - rect.top);
    if (!cell) {
      this.tooltip.classList.remove('show');
      return;
    }
    const row = this.rows[cell.row];
    const value = row.values[cell.channel];
    this.tooltip.innerHTML = this.describe
      ? this.describe(cell.row, cell.channel, value)
      : `<b>${escapeHtml(row.label)}</b><br>channel ${cell.channel}<br>value ${fmt(value)}`;
    this.tooltip.style.left = `${e.clientX + 14}px`;
    this.tooltip.style.top = `${e.clientY + 14}px`;
    this.tooltip.classList.add('show');
  }
}

function truncate(g, text, width) {
  if (g.measureText(text).width <= width) return text;
  let t = text;
  while (t.length > 1 && g.measureText(`…${t}`).width > width) t = t.slice(1);
  return `…${t}`;
}

export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A small histogram of values in [0, 1]: bars coloured by the scale, mean marked. */
export function histogram(values, { bins = 20, width = 180, height = 72, title, subtitle }) {
  const counts = new Array(bins).fill(0);
  for (const v of values) counts[Math.max(0, Math.min(bins - 1, Math.floor(v * bins)))]++;
  const peak = Math.max(...counts, 1);
  const box = el('figure', { class: 'hist' });
  const s = svg('svg', { viewBox: `0 0 ${width} ${height + 14}`, width, height: height + 14 });
  const bw = width / bins;
  counts.forEach((n, i) => {
    const h = (n / peak) * (height - 4);
    svg('rect', {
      x: i * bw + 0.5,
      y: height - h,
      width: bw - 1,
      height: h,
      fill: css(sequential((i + 0.5) / bins)),
    }, s).appendChild(svg('title')).textContent = `${fmt(i / bins, 2)}–${fmt((i + 1) / bins, 2)}: ${n} channels`;
  });
  const { mean } = stats(values);
  svg('line', { x1: mean * width, x2: mean * width, y1: 0, y2: height, class: 'mean' }, s);
  svg('line', { x1: 0, x2: width, y1: height, y2: height, class: 'axis' }, s);
  for (const [t, anchor] of [[0, 'start'], [0.5, 'middle'], [1, 'end']]) {
    svg('text', { x: t * width, y: height + 12, 'text-anchor': anchor, class: 'tick' }, s).textContent = String(t);
  }
  box.append(el('figcaption', {}, el('b', { text: title }), el('span', { text: subtitle })), s);
  return box;
}

/** Horizontal bars: [{label, value, note}], values in [0, max]. */
export function bars(items, { max = 1, className = '' } = {}) {
  const list = el('div', { class: `bars ${className}` });
  for (const it of items) {
    const fill = el('span', { class: 'fill' });
    fill.style.width = `${Math.max(0, Math.min(1, it.value / max)) * 100}%`;
    list.append(
      el('div', { class: 'bar' },
        el('span', { class: 'label', text: it.label, title: it.title ?? it.label }),
        el('span', { class: 'track' }, fill),
        el('span', { class: 'value', text: it.note ?? fmt(it.value) })),
    );
  }
  return list;
}
