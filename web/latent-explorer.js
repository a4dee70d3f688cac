// <latent-explorer src=".../manifest.json">: decodes any point of a VAE's latent space live,
// in the browser, with onnxruntime-web. One slider per PCA component; every slider `input`
// decodes the new coordinates at once (no precomputed grid anywhere).
import { checkBatch, checkRow } from './coords.js';
import { anchorLabel, el } from './dom.js';
import { ImageView } from './image-view.js';
import { interpolation } from './interpolate.js';
import { loadModel } from './model.js';
import { loadOrt } from './runtime.js';
import { TextView } from './text-view.js';

const VIEWS = { image: ImageView, text: TextView };

const STYLE = `
  :host { display: inline-block; font: 14px/1.4 system-ui, sans-serif; color: #222; }
  :host([hidden]) { display: none; } /* else the :host rule above beats the UA's [hidden] rule */
  .box { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-start; }
  .controls { display: grid; gap: 6px; min-width: 260px; }
  .axis { display: grid; grid-template-columns: 9em 1fr 4em; gap: 8px; align-items: center; }
  .axis output { font-variant-numeric: tabular-nums; text-align: right; }
  .buttons { display: flex; gap: 8px; flex-wrap: wrap; }
  .status { margin: 0; color: #555; }
  .status.error { color: #b00020; }
  .interpolate { flex-basis: 100%; }
  .interpolate .ends { display: flex; gap: 8px; align-items: center; margin: 8px 0; }
  .interpolate select { max-width: 16em; }
  .interpolate td { padding: 2px 8px; vertical-align: middle; }
  .row-sentence { margin: 0; }
  [hidden] { display: none !important; }
`;

function gaussian() {
  const u = 1 - Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
}

/** What a pending `ready` or `decode()` rejects with when `src` changes under it. */
const srcChanged = () => new DOMException('src changed', 'AbortError');

/**
 * One attempt to load one `src`: its own `ready` and its own abort signal. A load settles only
 * its own `ready`, and builds UI only while it is its element's current load.
 */
class Load {
  constructor(src) {
    this.src = src;
    this.model = null;
    this.controller = new AbortController();
    this.ready = new Promise((resolve, reject) => { this.resolve = resolve; this.reject = reject; });
    this.ready.catch(() => {}); // the error is shown in the element; awaiting code still sees it
  }

  /** Superseded by a new src: reject `ready` if still pending, stop downloads, free the graphs. */
  cancel() {
    const reason = srcChanged();
    this.reject(reason);
    this.controller.abort(reason);
    this.model?.release();
  }
}

export class LatentExplorer extends HTMLElement {
  static observedAttributes = ['src'];

  constructor() {
    super();
    this.attachShadow({ mode: 'open' });
    this._load = null;
    this._reset();
  }

  _reset() {
    this.model = null;
    this.view = null;
    this._sliders = [];
    this._coords = [];
    this._dirty = false;
    this._drawing = null;
  }

  /**
   * Resolves with the element once the bundle at `src` is loaded, checked and first painted;
   * rejects with the load error (also shown in the element). A `ready` taken before `src`
   * changes rejects with an AbortError DOMException "src changed" if it has not settled by then:
   * it never resolves for a bundle it was not made for. Reading it starts loading even if the
   * element is not in a page.
   */
  get ready() { return this._ensureLoad().ready; }

  get src() { return this.getAttribute('src'); }
  set src(value) { this.setAttribute('src', value); }

  attributeChangedCallback(name, oldValue, value) {
    // Also from no src to a src; before the element is connected (or asked to load) it waits.
    if (oldValue !== value && (this.isConnected || this._load)) this._start();
  }

  connectedCallback() {
    loadOrt().catch(() => {}); // start compiling the runtime while the manifest downloads
    this._ensureLoad();
  }

  disconnectedCallback() {
    this._dirty = false;
  }

  _ensureLoad() {
    if (!this._load || this._load.src !== this.src) this._start();
    return this._load;
  }

  /** Drop whatever is shown or loading, and load the current src: exactly one UI, for it. */
  _start() {
    this._load?.cancel();
    const load = (this._load = new Load(this.src));
    this._reset();
    this.shadowRoot.replaceChildren(el('style', { textContent: STYLE }),
      this._status = el('p', { className: 'status', role: 'status', textContent: 'Loading model…' }));
    this._run(load);
    return load;
  }

  async _run(load) {
    try {
      if (!load.src) throw new Error('no src attribute: point it at a bundle\'s manifest.json');
      const model = await loadModel(load.src, { signal: load.controller.signal });
      if (load !== this._load) { model.release(); return; } // src changed while loading
      this.model = load.model = model;
      this._build(model);
      this._set(new Array(model.k).fill(0));
      const failure = await this._drawing;
      if (failure) throw failure;
      load.resolve(this);
    } catch (e) {
      if (load !== this._load) return; // superseded: cancel() has settled its ready
      this._fail(load.src ? `Could not load ${load.src}: ${e.message}` : e.message);
      load.reject(e);
    }
  }

  /** Show a problem in the element itself (textContent: messages quote manifest data). */
  _fail(message) {
    this._status.textContent = message;
    this._status.classList.add('error');
    this._status.setAttribute('role', 'alert');
    this._status.hidden = false;
  }

  _build(model) {
    const m = model.manifest;
    const View = VIEWS[m.kind];
    this.view = new View(model);
    this.shadowRoot.append(el('style', { textContent: View.style }));
    this._sliders = m.axes.map((axis) => {
      const ratio = m.pca.explained_variance_ratio[axis.index];
      const id = `axis-${axis.index}`;
      const input = el('input', { type: 'range', id, min: axis.min, max: axis.max,
        step: (axis.max - axis.min) / 1000, value: 0 });
      const out = el('output', { htmlFor: id });
      input.addEventListener('input', () => {
        const coords = this._coords.slice();
        coords[axis.index] = input.valueAsNumber;
        this._set(coords);
      });
      const label = el('label', { htmlFor: id, textContent: `${axis.name} (${(100 * ratio).toFixed(1)}% var.)` });
      return { axis, input, out, row: el('div', { className: 'axis' }, [label, input, out]) };
    });
    const picker = el('select', { ariaLabel: 'example' }, [el('option', { value: '', textContent: 'Jump to an example…' })]);
    m.anchors.forEach((a, i) => picker.append(el('option', { value: String(i), textContent: anchorLabel(m, a) })));
    picker.addEventListener('change', () => {
      if (picker.value !== '') this._set(m.anchors[Number(picker.value)].coords.slice());
    });
    const random = el('button', { type: 'button', textContent: 'Random' });
    random.addEventListener('click', () => this._set(model.std.map((s) => s * gaussian())));
    const reset = el('button', { type: 'button', textContent: 'Reset' });
    reset.addEventListener('click', () => this._set(new Array(model.k).fill(0)));
    this._status.hidden = true;
    this.shadowRoot.append(el('div', { className: 'box', part: 'box' }, [
      this.view.element,
      el('div', { className: 'controls' }, [
        ...this._sliders.map((s) => s.row),
        el('div', { className: 'buttons' }, [picker, random, reset]),
      ]),
      interpolation(this, model, this.view),
    ]));
  }

  /** Raw PCA coordinates (length k) of the point on show. */
  get coords() { return this._coords.slice(); }

  /** Set the point on show: k numbers (TypeError otherwise, numeric strings included; RangeError for NaN/±Infinity). */
  set coords(value) {
    if (!this.model) throw new Error('latent-explorer: not loaded yet (await el.ready)');
    this._set(checkRow(value, this.model.k, 'coords'));
  }

  _set(coords) {
    this._coords = coords;
    for (const { axis, input, out } of this._sliders) {
      const v = coords[axis.index];
      if (input.valueAsNumber !== v) input.value = v;
      out.value = `${(v / this.model.std[axis.index]).toFixed(2)}σ`;
    }
    this.dispatchEvent(new CustomEvent('latent-change', { detail: { coords: coords.slice() } }));
    this._dirty = true;
    this._drawing ??= this._draw(this._load);
  }

  /**
   * Decode and paint the latest coordinates; inputs that arrive mid-decode coalesce into one.
   * Stops when `load` is no longer current. Resolves to the error that stopped it, or null.
   */
  async _draw(load) {
    try {
      while (this._dirty && load === this._load) {
        this._dirty = false;
        const coords = this._coords;
        const [row] = await load.model.decode([coords]);
        if (load !== this._load) break;
        this.view.show(row);
        this.dispatchEvent(new CustomEvent('latent-render', { detail: { coords: coords.slice() } }));
      }
      return null;
    } catch (e) {
      if (load === this._load) this._fail(`Decoding failed: ${e.message}`);
      return e;
    } finally {
      if (load === this._load) this._drawing = null;
    }
  }

  /**
   * Decode a batch without changing what is on show. batch: array of k-length arrays of finite
   * numbers (checked as the `coords` setter checks: TypeError, RangeError). Resolves to one
   * result per row: for images a Float32Array of H*W values in [0, 1], for text {ids, tokens,
   * text} (cut before </s>; <s> and <pad> never appear). Loads the bundle if nothing has (an
   * element never added to a page). If `src` changes before it settles, it rejects with an
   * AbortError DOMException "src changed", like `ready`.
   */
  async decode(batch) {
    checkBatch(batch);
    const load = this._ensureLoad();
    await load.ready;
    if (load !== this._load) throw srcChanged();
    const rows = await load.model.decode(batch);
    if (load !== this._load) throw srcChanged();
    return rows;
  }
}

if (!customElements.get('latent-explorer')) customElements.define('latent-explorer', LatentExplorer);
