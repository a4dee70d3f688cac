// The page's side of decoding: a bundle as the element sees it. The graphs run in the host
// (core/connection.js: the decoding worker, or the page's thread where none can start). The page
// reads and checks the manifest itself (the element builds its UI from it and paints the poster
// at once), keeps the tokenizer (sentences are typed and shown here), and gets back a model:
// decode(rows), encoder.encode(...), map(), sprite(), release(), and `loaded`, which settles
// once the host has loaded and checked every graph.
import { checkManifest, checkVocabSize, fetchJSON, heldFiles } from './bundle.js';
import { sentenceOf } from './decoders.js';
import { opening, request, startRuntime } from './connection.js';
import { loadMap, loadSprite } from './points.js';
import { checkBatch, flatten } from './space.js';
import { createTokenizer } from './tokenizer.js';

let ids = 0;

/** A bundle as the element sees it: its manifest at once, its graphs loading (then loaded) in the host. */
class RemoteModel {
  constructor(manifest, url) {
    this.id = ++ids;
    this.manifest = manifest;
    this.url = url;               // of manifest.json: the bundle's other files are beside it
    this.tokenizer = null;        // text bundles: the tokenizer seam (core/tokenizer.js)
    this.Z = manifest.latent.size;
    this.std = manifest.pca.std;
    this.kind = manifest.kind;
    this.seq = 0;                 // the latest of the host's paints the page has heard of (showIn)
    this.isLoaded = false;        // whether `loaded` has resolved (so a move can post its decode at once)
    this.loaded = new Promise((resolve, reject) => {
      this.settle = (error) => {
        if (error) return reject(error);
        this.isLoaded = true;
        return resolve(this);
      };
    });
    this.loaded.catch(() => {});
    // images: encode(pixels Float32Array [n * H * W], n) -> coords Float32Array [n * Z];
    // text: encode(token id lists) -> {coords Float32Array [n * Z], kept: the ids read per row}
    // images also: encodeAndDecode(pixels, n) -> {coords, rows}: the decode of those coords as decode() gives it,
    // and {seq, at} once the host paints the main picture (showIn): it painted the last row
    this.encoder = manifest.graphs.encoder ? {
      encode: (data, n) => this.run('encode', data, n ?? data.length),
      encodeAndDecode: (data, n) => this.run('encode-decode', data, n, [], this.inHost),
    } : null;
    this.inHost = false;          // whether the host paints the main picture (showIn)
  }

  /** Ask the host; a reply that says the host painted ({seq, at}) moves `seq` on. */
  async ask(msg, transfer = []) {
    const result = await request({ ...msg, id: ++ids, model: this.id }, transfer);
    if (result?.seq > this.seq) this.seq = result.seq;
    return result;
  }

  run(op, data, n, transfer = [], paint = false) {
    return this.ask({ op, data, n, paint }, transfer);
  }

  /**
   * Hand `canvas` (the main picture, no context yet) to the host to paint, if the host is a
   * worker and the browser can: true if the host now paints it (paintPoint, paint, snapshot,
   * and encodeAndDecode paints what it decodes), false if the page keeps it.
   */
  showIn(canvas, channels) {
    const endpoint = startRuntime();
    if (endpoint.kind !== 'worker' || typeof canvas.transferControlToOffscreen !== 'function') return false;
    const offscreen = canvas.transferControlToOffscreen();
    endpoint.post({ op: 'canvas', model: this.id, canvas: offscreen, channels }, [offscreen]);
    this.inHost = true;
    return true;
  }

  /** Decode one point and have the host paint it: {seq, at} (at: performance.timeOrigin + performance.now() of the paint). */
  paintPoint(point) {
    const coords = flatten(checkBatch([point], this.Z), this.Z);
    return this.run('decode', coords, 1, [coords.buffer], true);
  }

  /** Have the host paint decoded pixels: {seq, at}. */
  paint(pixels) {
    return this.ask({ op: 'paint', data: pixels });
  }

  /** What the host's canvas holds: an ImageData. */
  snapshot() {
    return this.ask({ op: 'snapshot' });
  }

  /**
   * rows: array of Z-length arrays of finite numbers (TypeError/RangeError otherwise) -> one
   * result per row: images a Float32Array of pixels, text {ids, tokens, text}.
   */
  async decode(rows) {
    const checked = checkBatch(rows, this.Z);
    const coords = flatten(checked, this.Z);
    const out = await this.run('decode', coords, checked.length, [coords.buffer]);
    return this.kind === 'text' ? out.map((ids) => sentenceOf(ids, this.tokenizer)) : out;
  }

  /**
   * encode() as the element offers it: images, arrays of H*W (*3) values in [0, 1] (TypeError for
   * a wrong length or type, RangeError outside [0, 1]); sentences, strings (tokenized here) ->
   * one Array of Z numbers per input. An Error for a bundle without an encoder graph.
   */
  async encodeInputs(inputs) {
    const { manifest, encoder, Z } = this;
    if (!encoder) throw new Error(`encode(): the bundle ${manifest.name} has no encoder graph (graphs.encoder)`);
    let coords;
    if (this.kind === 'image') {
      const { height: H, width: W, channels: C = 1 } = manifest.image;
      const what = C === 3 ? `an RGB image of ${H} × ${W} × 3 values has` : `an image of ${H} × ${W} pixels has`;
      const rows = checkBatch(inputs, H * W * C, 'encode(inputs): inputs', { lo: 0, hi: 1, unit: what });
      coords = await encoder.encode(flatten(rows, H * W * C), rows.length);
    } else {
      inputs.forEach((s, i) => {
        if (typeof s !== 'string') throw new TypeError(`encode(inputs): inputs[${i}] must be a string, got ${s === null ? 'null' : typeof s}`);
      });
      ({ coords } = await encoder.encode(inputs.map((s) => this.tokenizer.encode(s))));
    }
    return inputs.map((_, i) => Array.from(coords.subarray(i * Z, (i + 1) * Z)));
  }

  /**
   * The latent map's points ({coords, count, Z, labels, indices, columns}; core/points.js) and
   * its sprite (an ImageBitmap), each fetched once, on first use; null when the bundle has none.
   */
  map(signal) {
    this._map ??= this.manifest.map ? loadMap(this.manifest, this.url, signal) : Promise.resolve(null);
    return this._map;
  }

  sprite(signal) {
    this._sprite ??= loadSprite(this.manifest, this.url, signal);
    return this._sprite;
  }

  /** Free the graphs (after the runs under way): nothing shows this bundle any more. */
  release() {
    if (opening.delete(this.id)) this.settle(new DOMException('released', 'AbortError')); // no longer awaited
    startRuntime().post({ op: 'release', model: this.id });
    this._sprite?.then((bitmap) => bitmap?.close(), () => {});
  }
}

/**
 * Read and check the manifest at the absolute `url` (and a sentence bundle's tokenizer) here,
 * and have the host load its graphs, starting now. Resolves to a RemoteModel as soon as the
 * manifest (and tokenizer) are checked; its `loaded` settles later. `signal` aborts.
 */
export async function openBundle(url, { signal } = {}) {
  startRuntime();
  const manifest = checkManifest(await fetchJSON(url, signal), url);
  const model = new RemoteModel(manifest, url);
  opening.set(model.id, model);
  startRuntime().post({ op: 'open', model: model.id, url, manifest, files: heldFiles(url) });
  try {
    if (manifest.kind === 'text') {
      const tokUrl = new URL(manifest.text.tokenizer, url).href;
      model.tokenizer = await createTokenizer(await fetchJSON(tokUrl, signal), manifest, tokUrl, url);
      checkVocabSize(manifest, model.tokenizer.size, manifest.text.tokenizer);
    }
    signal?.throwIfAborted();
  } catch (e) {
    model.release();
    throw e;
  }
  return model;
}
