// Class excitation profiles: the mean excitation of every channel of every SE block
// over the images of each class (the figure of the SE paper that shows early blocks
// class-agnostic and late blocks class-specific), read from a JSON file made offline.
import { Heatmap, bars, correlation, el, escapeHtml, fmt, stats } from './charts.js';

/**
 * Accepts `{labels, blocks: [{name, channels}], mean: [class][block][channel]}` or
 * `{labels, blocks: [{name, channels, mean: [class][channel]}]}` (`classes` may stand
 * for `labels`); returns `{labels, blocks, mean: [class][block] Float32Array}`.
 */
export function normaliseProfiles(json) {
  const labels = json.labels ?? json.classes;
  const blocks = json.blocks;
  if (!Array.isArray(labels) || !Array.isArray(blocks)) throw new Error('needs "labels" and "blocks" arrays');
  const mean = labels.map((_, k) => blocks.map((b, i) => {
    const row = json.mean ? json.mean[k]?.[i] : b.mean?.[k];
    if (!row || row.length !== b.channels) throw new Error(`class ${k}, block ${i}: expected ${b.channels} values`);
    return Float32Array.from(row);
  }));
  return { ...json, labels, blocks: blocks.map((b) => ({ name: b.name, channels: b.channels })), mean };
}

/** Hex SHA-256 of the file at `url`, or null (no URL, or no crypto.subtle on http pages). */
async function sha256(url) {
  if (!url || !globalThis.crypto?.subtle) return null;
  try {
    const bytes = await (await fetch(url)).arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  } catch {
    return null;
  }
}

export class ProfilesView {
  constructor(root, tooltip) {
    this.root = root;
    this.tooltip = tooltip;
    this.data = null;
    this.block = null;
    this.result = null;
  }

  /**
   * Loads the profiles of the current model from `url` (or says why there are none).
   * `modelUrl` is fetched to check the profiles were computed for this very model.
   */
  async load(url, info, modelUrl) {
    this.data = null;
    this.message = null;
    if (!url) {
      this.message = 'No class profiles for this model: they are computed offline over a labelled data set.';
    } else {
      try {
        const response = await fetch(url);
        if (!response.ok) throw Object.assign(new Error(`HTTP ${response.status}`), { missing: response.status === 404 });
        const data = normaliseProfiles(await response.json());
        const want = info.seBlocks.map((b) => b.channels).join(',');
        const got = data.blocks.map((b) => b.channels).join(',');
        if (want !== got) throw new Error(`they are for SE blocks of ${got} channels, this model has ${want}`);
        const sha = await sha256(modelUrl);
        if (data.model_sha256 && sha && sha !== data.model_sha256) {
          throw new Error('they were computed for another version of this model: regenerate them with ' +
            '<code>se-runtime profiles --out docs</code>');
        }
        this.data = data;
        this.url = url;
      } catch (e) {
        this.message = e.missing
          ? `<code>${escapeHtml(url)}</code> is not there yet: it is made offline from the training data ` +
            '(mean excitation per class per block). This view shows it as soon as the file exists.'
          : `Could not use <code>${escapeHtml(url)}</code>: ${e.message}`;
      }
    }
    this.block = this.data ? this.data.blocks.length - 1 : null;
    this.render();
  }

  show(result) {
    this.result = result;
    this.render();
  }

  render() {
    if (!this.data) {
      this.root.replaceChildren(el('div', { class: 'empty' }));
      this.root.firstChild.innerHTML = this.message ?? '';
      this.root.dataset.state = 'absent';
      return;
    }
    const { labels, blocks, mean } = this.data;
    const b = this.block;
    this.root.dataset.state = 'loaded';
    const predicted = this.result?.top[0]?.index;
    const tabs = el('div', { class: 'tabs' }, ...blocks.map((blk, i) => {
      const t = el('button', { type: 'button', text: `${i + 1} · ${blk.name}`, onclick: () => { this.block = i; this.render(); } });
      t.classList.toggle('on', i === b);
      return t;
    }));
    const canvas = el('canvas');
    const wrap = el('div', { class: 'heatmap-wrap' }, canvas);
    const left = el('div', {},
      el('p', { class: 'subhead', text: `Block ${b + 1}: mean excitation of each channel, per class` }), wrap);

    // How much a block's excitations depend on the class: the spread of the class
    // means, averaged over channels.
    const spread = blocks.map((_, i) => {
      let s = 0;
      for (let c = 0; c < blocks[i].channels; c++) s += stats(mean.map((m) => m[i][c])).std;
      return s / blocks[i].channels;
    });
    const right = el('div', {},
      el('p', { class: 'subhead', text: 'Class specificity (spread of class means)' }),
      bars(spread.map((v, i) => ({ label: `block ${i + 1}`, title: blocks[i].name, value: v })), { max: Math.max(...spread, 1e-6) }));
    if (this.result) {
      const mine = this.result.excitations[b].values;
      const sims = labels.map((label, k) => ({ label, value: correlation(mine, mean[k][b]) }))
        .sort((x, y) => y.value - x.value).slice(0, 5);
      right.append(
        el('p', { class: 'subhead', text: `This image vs the class profiles (block ${b + 1}, correlation)` }),
        bars(sims.map((s) => ({ ...s, note: fmt(s.value, 2) })), { max: 1 }));
    }
    const note = el('p', { class: 'muted' });
    note.innerHTML = `From <code>${escapeHtml(this.url)}</code>` +
      (this.data.images ? `: ${escapeHtml(String(this.data.images))} images.` : '.');
    this.root.replaceChildren(tabs, el('div', { class: 'split' }, left, right), note);
    const hm = new Heatmap(canvas, this.tooltip, { rowHeight: 18, gutter: 110 });
    hm.set(labels.map((label, k) => ({ label, values: mean[k][b], highlight: k === predicted, note: '' })),
      { kind: 'sequential' },
      { describe: (r, c, v) => `<b>${escapeHtml(labels[r])}</b><br>block ${b + 1}, channel ${c}<br>mean excitation <b>${fmt(v)}</b>` });
  }
}
