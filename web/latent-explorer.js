// <latent-explorer src=".../manifest.json" [sync-url]>: shows any point of a VAE's latent
// space, decoded live in the browser with onnxruntime-web. A point is all Z PCA coordinates
// (nothing is projected away), so what is shown is exactly what the model does at that point.
//
// This file is the element only: attributes, properties, events, lifecycle. The work is done
// by core/ (no DOM: loading, checking, decoding, encoding, the maths of points), and what the
// user sees by a view (views/), an input (inputs/: drawing pad, sentence box) and panels
// (panels/: sliders, effects, examples, map, grid, nearest examples, typicality, interpolation,
// edits, sharing). Each input or panel is a function of a small context (below) that moves the
// point and listens to the element's own events.
import { axesOf, checkDirections, directionAxis } from './core/axes.js';
import { openBundle } from './core/client.js';
import { startRuntime } from './core/connection.js';
import { checkBatch, checkRow } from './core/space.js';
import { el } from './dom.js';
import * as pad from './inputs/drawing-pad.js';
import * as box from './inputs/sentence-box.js';
import * as edit from './panels/edit.js';
import * as effects from './panels/effects.js';
import * as examples from './panels/examples.js';
import * as grid from './panels/grid.js';
import * as interpolate from './panels/interpolate.js';
import * as map from './panels/map.js';
import * as meter from './panels/meter.js';
import * as nearest from './panels/nearest.js';
import * as share from './panels/share.js';
import * as sliders from './panels/sliders.js';
import { ImageView } from './views/image.js';
import { TextView } from './views/text.js';

const KINDS = { image: { View: ImageView, input: pad.drawingPad }, text: { View: TextView, input: box.sentenceBox } };
/** What the `panels` attribute may name (space-separated); without it, all of them. */
export const PANELS = ['input', 'sliders', 'effects', 'examples', 'meter', 'nearest', 'map', 'grid', 'interpolate'];

const STYLE = `
  :host { display: inline-block; max-width: 100%; font: 14px/1.4 system-ui, sans-serif; color: #222; }
  :host([hidden]) { display: none; } /* else the :host rule above beats the UA's [hidden] rule */
  .box { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-start; }
  .figures { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-start; max-width: 100%; }
  .controls { display: grid; grid-template-columns: minmax(0, 1fr); gap: 8px; min-width: min(260px, 100%); max-width: 32em; flex: 1 1 260px; }
  .status { margin: 0; color: #555; }
  .note, .caption { margin: 0; color: #555; font-size: 13px; }
  .view { display: grid; grid-template-columns: minmax(0, 1fr); gap: 6px; max-width: 100%; }
  .status.error, .note.error { color: #b00020; }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
  [hidden] { display: none !important; }
  section { flex-basis: 100%; min-width: 0; }
  section > summary, section > h3 { font-weight: 600; margin: 0 0 6px; font-size: 14px; }
  details > summary { cursor: pointer; }
`;
const PARTS = [ImageView, TextView, pad, box, sliders, effects, examples, meter, nearest, map, grid, interpolate, edit, share]
  .map((p) => p.style).join('');

/** What a pending `ready`, `decode()` or `encode()` rejects with when `src` changes under it. */
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

  /** Superseded by a new src: reject `ready` if still pending, stop downloads and listeners, free the graphs. */
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
    this._point = [];
    this._source = null;
    this._dirty = false;
    this._drawing = null;
    this._decoded = null;  // {point, row}: a decode that came with the point (the drawing pad's)
    this._directions = []; // the user's own named directions (edits) and those a page set
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

  /**
   * Load: the manifest first, and with it the whole UI and the poster (the bundle's own decode
   * of its first point), while the worker loads the graphs; then the first live decode, which
   * replaces the poster pixel for pixel. `ready` resolves after that live decode.
   */
  async _run(load) {
    try {
      if (!load.src) throw new Error('no src attribute: point it at a bundle\'s manifest.json');
      // Resolved here, against the page: core/ never reads the DOM (a worker runs it).
      const url = new URL(load.src, document.baseURI).href;
      const model = await openBundle(url, { signal: load.controller.signal });
      if (load !== this._load) { model.release(); return; } // src changed while loading
      this.model = load.model = model;
      const ctx = this._build(model, load);
      // The first point: the page URL's (with sync-url), else the mean. Sharing starts after
      // it, so merely opening a page never rewrites its URL.
      const shared = this.hasAttribute('sync-url') ? share.sharedPoint(this, model) : null;
      const first = shared?.point ?? new Array(model.Z).fill(0);
      const poster = model.manifest.poster;
      if (poster && poster.point.every((v, i) => v === first[i])) {
        this.view.poster(poster);
        this.dispatchEvent(new CustomEvent('latent-poster', { bubbles: true, composed: true, detail: { point: first.slice() } }));
      }
      this._move(first, shared?.point ? 'url' : 'reset');
      if (this.hasAttribute('sync-url')) ctx.slots.share.replaceWith(share.share(ctx, shared));
      await model.loaded;
      const failure = await this._drawing;
      if (failure) throw failure;
      load.resolve(this);
    } catch (e) {
      if (load !== this._load) return; // superseded: cancel() has settled its ready
      if (this.model) { // the graphs failed after the UI was built: take it down, stop its panels
        load.controller.abort(e);
        this.shadowRoot.replaceChildren(this.shadowRoot.firstChild, this._status);
      }
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

  /** The panels to show: those the `panels` attribute names (all without it); `named`: whether it names `p`. */
  _panels() {
    const named = this.getAttribute('panels')?.split(/\s+/).filter((p) => PANELS.includes(p));
    return { shows: (p) => !named || named.includes(p), named: (p) => !!named?.includes(p) };
  }

  /**
   * Compose the view, the input (only with graphs.encoder) and the panels. Each gets `ctx`:
   * the model and view, `point` (a copy of the point on show), `axes` (the manifest's sliders
   * and the user's directions), `move(point, source, input)` (resolves once that point, or a
   * later one, is painted), `addDirection`, `on(type, listener)` for the element's events and
   * `signal`, both ending when this bundle stops being shown, and `open(panel)`: whether the
   * page asked for that panel by name (it then starts open).
   */
  _build(model, load) {
    const { View, input } = KINDS[model.kind];
    const view = (this.view = new View(model));
    const { signal } = load.controller;
    const { shows, named } = this._panels();
    const ctx = {
      explorer: this, model, view, signal, slots: { share: el('div') }, open: named,
      get point() { return ctx.explorer._point.slice(); },
      get axes() { return axesOf(model.manifest, ctx.explorer._userAxes()); },
      move: (point, source, detail, decoded) => (load === this._load ? this._move(point, source, detail, decoded) : Promise.resolve(null)),
      addDirection: (d) => this._setDirections([d], this._directions),
      on: (type, listener) => this.addEventListener(type, listener, { signal }),
    };
    const part = (name, make) => (shows(name) ? make(ctx) : null);
    const mine = model.encoder ? part('input', input) : null;
    // Beside the user's own input, say which picture or sentence is the model's.
    const caption = mine ? el('p', { className: 'caption', textContent: 'Decoded by the model' }) : null;
    const shown = el('div', { className: 'view' }, [view.element, caption, part('meter', meter.meter)].filter(Boolean));
    const yours = mine && ctx.pad ? el('div', { className: 'view' }, [mine, edit.edit(ctx)]) : mine;
    this._status.hidden = true;
    this.shadowRoot.append(el('style', { textContent: PARTS }), el('div', { className: 'box', part: 'box' }, [
      el('div', { className: 'figures' }, [yours, shown].filter(Boolean)), // your input, then the model's decode
      el('div', { className: 'controls' }, [part('sliders', sliders.sliders),
        part('examples', examples.examples), ctx.slots.share].filter(Boolean)),
      // the effects table is as wide as its attributes: a row of its own, under the sliders
      ...['effects', 'nearest', 'map', 'grid', 'interpolate'].map((p) => part(p, { effects: effects.effects,
        nearest: nearest.nearest, map: map.latentMap, grid: grid.grid, interpolate: interpolate.interpolation }[p]))
        .filter(Boolean),
    ]));
    return ctx;
  }

  /** The user's directions as axes (unit vectors, slider bounds ±3σ). */
  _userAxes() {
    return this._directions.map((d) => directionAxis(d.name, d.direction, this.model.std, { source: d.source, user: true }));
  }

  /**
   * The named directions made in this element (from an edit on the drawing pad) or set by the
   * page: an Array of {name, direction (unit, Z numbers), source}. Each is a slider and an axis
   * of the map and the grid at once. Set: an Array of {name, direction, source?}; a direction
   * of any non-zero length is stored unit-length; a name must be new (not a manifest axis, not
   * given twice). Fires `latent-directions`.
   */
  get directions() {
    return this._directions.map((d) => ({ name: d.name, direction: d.direction.slice(), source: structuredClone(d.source) }));
  }

  set directions(list) { this._setDirections(list); }

  /** Check `list` (names new, vectors Z finite numbers, not zero) and make it the directions after `kept`. */
  _setDirections(list, kept = []) {
    if (!this.model) throw new Error('latent-explorer: not loaded yet (await el.ready)');
    const taken = [...this.model.manifest.axes, ...kept].map((a) => a.name);
    this._directions = [...kept, ...checkDirections(list, taken, this.model.Z)];
    this.dispatchEvent(new CustomEvent('latent-directions', { bubbles: true, composed: true, detail: { directions: this.directions } }));
  }

  /** The point on show: all Z coordinates, as an Array of numbers (empty before loading). */
  get point() { return this._point.slice(); }

  /**
   * Show another point: Z numbers (Array or typed array). TypeError for a wrong length or a
   * non-number (numeric strings too), RangeError for NaN/±Infinity/beyond float32.
   */
  set point(value) { this._setFromPage(value, 'point'); }

  /** The same as `point` (its name before points were full coordinates). */
  get coords() { return this.point; }
  set coords(value) { this._setFromPage(value, 'coords'); }

  _setFromPage(value, what) {
    if (!this.model) throw new Error('latent-explorer: not loaded yet (await el.ready)');
    this._move(checkRow(value, this.model.Z, what), 'api');
  }

  /**
   * Fire latent-change with `source` (and the user's `input` if any); paint soon, coalesced.
   * `decoded`: the host's decode of `point`, when it came with it (the drawing pad's encode):
   * {row, seq?, at?}, as the view's render() takes it.
   */
  _move(point, source, input, decoded) {
    this._point = point;
    this._source = source;
    this._decoded = decoded ? { point, decoded } : null;
    // The decode is asked for first (a loaded model's is posted before _draw returns), and the
    // panels follow the point (latent-change) while the host decodes.
    this._dirty = true;
    this._drawing ??= this._draw(this._load);
    const view = point.slice();
    const detail = { point: view, coords: view, source };
    if (input?.axis !== undefined) detail.axis = input.axis; // 'slider': the axis moved
    else if (input !== undefined) detail.input = input;
    this.dispatchEvent(new CustomEvent('latent-change', { bubbles: true, composed: true, detail }));
    return this._drawing;
  }

  /**
   * Decode and paint the latest point; points that arrive mid-decode coalesce into one.
   * Stops when `load` is no longer current. Resolves to the error that stopped it, or null.
   */
  async _draw(load) {
    try {
      try {
        if (!load.model.isLoaded) await load.model.loaded;
      } catch (e) {
        return e; // the graphs did not load: _run says so
      }
      // _move has just set _dirty, so the loop runs and awaits at least once: `finally` never
      // clears _drawing before _move has stored it.
      while (this._dirty && load === this._load) {
        this._dirty = false;
        const point = this._point;
        const source = this._source;
        const ready = this._decoded?.point === point ? this._decoded.decoded : null;
        const painted = await this.view.render(load.model, point, ready);
        if (load !== this._load) break;
        const shown = point.slice();
        this.dispatchEvent(new CustomEvent('latent-render', { bubbles: true, composed: true,
          detail: { point: shown, coords: shown, source, painted } }));
      }
      return null;
    } catch (e) {
      if (load === this._load) this._fail(`Decoding failed: ${e.message}`);
      return e;
    } finally {
      if (load === this._load) this._drawing = null;
    }
  }

  /** Resolve `work(model)` for the current load; AbortError "src changed" if src changes first. */
  async _withModel(work) {
    const load = this._ensureLoad();
    await load.ready;
    if (load !== this._load) throw srcChanged();
    let result;
    try {
      result = await work(load.model);
    } catch (e) {
      throw load === this._load ? e : srcChanged(); // a src change also ends the runs of the old bundle
    }
    if (load !== this._load) throw srcChanged();
    return result;
  }

  /**
   * Decode a batch without changing what is on show. batch: array of Z-length arrays of finite
   * numbers (checked as the `point` setter checks: TypeError, RangeError). Resolves to one
   * result per row: for images a Float32Array of H*W values in [0, 1], for text {ids, tokens,
   * text} (cut before </s>; <s> and <pad> never appear). Loads the bundle if nothing has (an
   * element never added to a page). If `src` changes before it settles, it rejects with an
   * AbortError DOMException "src changed", like `ready`.
   */
  async decode(batch) {
    checkBatch(batch);
    return this._withModel((model) => model.decode(batch));
  }

  /**
   * What the element shows now: for images an ImageData (RGBA, W × H: the pixels of the canvas
   * on show, the poster's until the first live decode), for sentences the text. Rejects before
   * the manifest has loaded (nothing is shown).
   */
  async snapshot() {
    if (!this.view) throw new Error('latent-explorer: nothing is shown yet (await el.ready)');
    return this.view.snapshot(this.model);
  }

  /**
   * Encode inputs to points without changing what is on show (bundles with graphs.encoder).
   * Images: arrays (or typed arrays) of H*W grey levels in [0, 1], light ink on a dark ground as
   * in training. Sentences: strings (tokenized as the sentence box does; cut after max_len - 1
   * tokens). Resolves to one Array of Z numbers per input. Rejects with an Error for a bundle
   * without an encoder, TypeError for a wrong length or type, RangeError for values that are
   * not finite or outside [0, 1], and AbortError if `src` changes before it settles.
   */
  async encode(inputs) {
    if (!Array.isArray(inputs) || inputs.length === 0) {
      throw new TypeError('encode(inputs): inputs must be a non-empty array of images or strings');
    }
    return this._withModel((model) => model.encodeInputs(inputs));
  }
}

if (!customElements.get('latent-explorer')) customElements.define('latent-explorer', LatentExplorer);
// The decoding worker starts now, not when an element connects: onnxruntime loads while the
// page, the manifest and the graphs download (its wasm compiles once a bundle opens: core/connection.js).
startRuntime();
