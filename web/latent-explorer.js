// <latent-explorer src=".../manifest.json">: decodes any point of a VAE's latent space live,
// in the browser, with onnxruntime-web. One slider per PCA component; every slider `input`
// decodes the new coordinates at once (no precomputed grid anywhere).
import { anchorLabel, el } from './dom.js';
import { ImageView } from './image-view.js';
import { interpolation } from './interpolate.js';
import { loadModel } from './model.js';
import { loadOrt } from './runtime.js';
import { TextView } from './text-view.js';

const VIEWS = { image: ImageView, text: TextView };

const STYLE = `
  :host { display: inline-block; font: 14px/1.4 system-ui, sans-serif; color: #222; }
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

export class LatentExplorer extends HTMLElement {
  static observedAttributes = ['src'];

  constructor() {
    super();
    this.attachShadow({ mode: 'open' });
    this._coords = [];
    this._dirty = false;
    this._drawing = null;
    this._newReady();
  }

  /** `ready` resolves with the element once its bundle is loaded, and rejects if it cannot be. */
  _newReady() {
    this.ready = new Promise((resolve, reject) => { this._resolve = resolve; this._reject = reject; });
    this.ready.catch(() => {}); // the error is shown in the element; awaiting code still sees it
  }

  get src() { return this.getAttribute('src'); }
  set src(value) { this.setAttribute('src', value); }

  attributeChangedCallback(name, oldValue, value) {
    if (oldValue !== null && oldValue !== value && this.isConnected) {
      this._newReady();
      this._load();
    }
  }

  connectedCallback() {
    loadOrt().catch(() => {}); // start compiling the runtime while the manifest downloads
    if (!this.model) this._load();
  }

  disconnectedCallback() {
    this._dirty = false;
  }

  async _load() {
    const src = this.src;
    this.model = null;
    this.shadowRoot.replaceChildren(el('style', { textContent: STYLE }),
      this._status = el('p', { className: 'status', role: 'status', textContent: 'Loading model…' }));
    try {
      if (!src) throw new Error('no src attribute: point it at a bundle\'s manifest.json');
      const model = await loadModel(src);
      if (src !== this.src) return; // src changed while loading; the newer load wins
      this.model = model;
      this._build(model);
      this.coords = new Array(model.k).fill(0);
      await this._drawing;
      this._resolve(this);
    } catch (e) {
      this._status.textContent = `Could not load ${src}: ${e.message}`;
      this._status.classList.add('error');
      this._status.setAttribute('role', 'alert');
      this._reject(e);
    }
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

  set coords(value) {
    if (!this.model) throw new Error('latent-explorer: not loaded yet (await el.ready)');
    if (value.length !== this.model.k) throw new RangeError(`coords must have ${this.model.k} values`);
    this._set(Array.from(value, Number));
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
    this._drawing ??= this._draw();
  }

  /** Decode and paint the latest coordinates; inputs that arrive mid-decode coalesce into one. */
  async _draw() {
    try {
      while (this._dirty) {
        this._dirty = false;
        const coords = this._coords;
        const [row] = await this.model.decode([coords]);
        this.view.show(row);
        this.dispatchEvent(new CustomEvent('latent-render', { detail: { coords: coords.slice() } }));
      }
    } catch (e) {
      this._status.textContent = `Decoding failed: ${e.message}`;
      this._status.classList.add('error');
      this._status.hidden = false;
    } finally {
      this._drawing = null;
    }
  }

  /**
   * Decode a batch without changing what is on show. batch: array of k-length coordinate arrays.
   * Resolves to one result per row: for images a Float32Array of H*W values in [0, 1], for text
   * {ids, tokens, text} (cut before </s>; <s> and <pad> never appear).
   */
  async decode(batch) {
    await this.ready;
    return this.model.decode(batch);
  }
}

if (!customElements.get('latent-explorer')) customElements.define('latent-explorer', LatentExplorer);
