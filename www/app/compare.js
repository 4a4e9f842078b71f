// Two images side by side: per channel, how much more (red) or less (blue) the network
// lets through for B than for A, and the channels that move most in each block.
import { Heatmap, correlation, el, escapeHtml, fmt } from './charts.js';
import { gradient } from './colors.js';

export class CompareView {
  constructor(root, tooltip) {
    this.root = root;
    this.tooltip = tooltip;
    this.clear();
  }

  clear() {
    this.root.replaceChildren(el('div', { class: 'empty', text:
      'Pin an image as A (the button above the heatmap), then pick another image B: this view shows B − A for every channel.' }));
    this.root.dataset.state = 'empty';
  }

  show(pinned, current) {
    if (!pinned) return this.clear();
    if (pinned.result === current.result) {
      this.root.replaceChildren(el('div', { class: 'empty', text: `A is ${pinned.image.name}: now pick another image (B).` }));
      this.root.dataset.state = 'pinned';
      return;
    }
    const A = pinned.result.excitations;
    const B = current.result.excitations;
    const deltas = B.map((b, i) => b.values.map((v, c) => v - A[i].values[c]));
    const range = Math.max(0.05, ...deltas.map((d) => Math.max(...d.map(Math.abs))));
    const figure = (tag, img, result) => el('figure', {},
      el('img', { src: img.thumb, alt: tag }),
      el('figcaption', {}, el('b', { text: `${tag}: ` }), `${img.name} → ${result.top[0].label}`));
    const canvas = el('canvas');
    const legend = el('div', { class: 'legend' },
      el('span', { text: `−${fmt(range, 2)} · B turns down` }), el('span', { class: 'scale' }), el('span', { text: `+${fmt(range, 2)} · B turns up` }));
    legend.querySelector('.scale').style.background = gradient('diverging');
    const movers = el('div', { class: 'movers' }, ...deltas.map((d, i) => {
      const order = Array.from(d, (_, c) => c).sort((x, y) => d[y] - d[x]);
      const line = (c, cls) => el('div', { class: cls, text: `ch ${c}: ${fmt(A[i].values[c], 2)} → ${fmt(B[i].values[c], 2)} (${d[c] > 0 ? '+' : ''}${fmt(d[c], 2)})` });
      return el('div', {},
        el('b', { text: `${i + 1} · ${B[i].name}  (r = ${fmt(correlation(A[i].values, B[i].values), 2)})` }),
        ...order.slice(0, 3).filter((c) => d[c] > 0).map((c) => line(c, 'up')),
        ...order.slice(-3).reverse().filter((c) => d[c] < 0).map((c) => line(c, 'down')));
    }));
    this.root.replaceChildren(
      el('div', { class: 'pair' }, figure('A', pinned.image, pinned.result), figure('B', current.image, current.result)),
      el('div', { class: 'heatmap-wrap' }, canvas), legend, movers);
    this.root.dataset.state = 'compared';
    new Heatmap(canvas, this.tooltip).set(
      deltas.map((d, i) => ({ label: `${i + 1} · ${B[i].name}`, values: d, note: `${d.length} ch` })),
      { kind: 'diverging', range },
      { describe: (r, c, v) => `<b>${escapeHtml(B[r].name)}</b>, channel ${c}<br>A ${fmt(A[r].values[c])} → B ${fmt(B[r].values[c])}<br>Δ <b>${v > 0 ? '+' : ''}${fmt(v)}</b>` });
  }
}
