// A loaded bundle: the one object the element (and next, a Web Worker) holds. It fetches and
// checks the manifest, downloads every graph (and the tokenizer's file) at once while the
// runtime compiles, checks each graph against the manifest, and only then hands back a model
// that decodes and encodes full points. No DOM: `url` comes in absolute.
import { checkManifest, checkSession, checkVocabSize, fetchBytes, fetchJSON, graphsOf, outputShapes, sizesOf } from './bundle.js';
import { makeDecoder } from './decoders.js';
import { makeEncoder } from './encoders.js';
import { loadMap, loadSprite } from './points.js';
import { Graph } from './runtime.js';
import { checkBatch, flatten } from './space.js';
import { createTokenizer } from './tokenizer.js';

export class Model {
  constructor(manifest, graphs, tokenizer, url) {
    this.manifest = manifest;
    this.url = url;                 // of manifest.json: the bundle's other files are beside it
    this.graphs = graphs;           // role -> Graph
    this.tokenizer = tokenizer;     // text bundles: the tokenizer seam (core/tokenizer.js)
    this.Z = manifest.latent.size;
    this.std = manifest.pca.std;
    this.kind = manifest.kind;
    this.decoder = makeDecoder(graphs, manifest, tokenizer);
    this.encoder = makeEncoder(graphs, manifest); // null without graphs.encoder
  }

  /** rows: array of Z-length arrays of finite numbers (TypeError/RangeError otherwise) -> one result per row. */
  decode(rows) {
    const checked = checkBatch(rows, this.Z);
    return this.decoder.decode(flatten(checked, this.Z), checked.length);
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

  /** Free the graphs' wasm sessions (after their queued runs): nothing shows this bundle any more. */
  release() {
    Object.values(this.graphs).forEach((g) => g.release());
    this._sprite?.then((bitmap) => bitmap?.close(), () => {});
  }
}

/**
 * Load the bundle whose manifest is at the absolute `url`. `signal` aborts the downloads; an
 * abort rejects with the signal's reason. Any failure names the file and the key.
 */
export async function loadModel(url, { signal } = {}) {
  const manifest = checkManifest(await fetchJSON(url, signal), url);
  const roles = Object.keys(graphsOf(manifest));
  const files = roles.map((g) => manifest.graphs[g].file);
  const downloads = files.map((f) => fetchBytes(new URL(f, url).href, signal));
  downloads.forEach((d) => d.catch(() => {})); // awaited below, unless an earlier step fails first
  let tokenizer = null;
  if (manifest.kind === 'text') {
    const tokUrl = new URL(manifest.text.tokenizer, url).href;
    tokenizer = await createTokenizer(await fetchJSON(tokUrl, signal), manifest, tokUrl, url);
    checkVocabSize(manifest, tokenizer.size, manifest.text.tokenizer);
  }
  const sizes = sizesOf(manifest);
  const shapes = outputShapes(manifest);
  const created = await Promise.allSettled(roles.map(async (g, i) => Graph.create(await downloads[i], files[i], shapes[g])));
  const graphs = Object.fromEntries(roles.map((g, i) => [g, created[i].value]).filter(([, graph]) => graph));
  try {
    const failed = created.find((c) => c.status === 'rejected');
    if (failed) throw failed.reason;
    signal?.throwIfAborted();
    roles.forEach((g, i) => checkSession(graphs[g].session, g, manifest, sizes, files[i]));
  } catch (e) {
    Object.values(graphs).forEach((g) => g.release());
    throw e;
  }
  return new Model(manifest, graphs, tokenizer, url);
}
