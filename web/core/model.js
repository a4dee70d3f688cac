// A bundle's graphs, loaded: what the decoding worker (core/host.js) holds for each bundle. It
// downloads every graph at once while the runtime compiles, checks each against the (already
// checked) manifest, and only then hands back a model that decodes and encodes full points in
// typed arrays. No DOM, no tokenizer: the page turns ids into text (core/client.js).
import { checkManifest, checkSession, fetchBytes, fetchJSON, graphsOf, outputShapes, sizesOf } from './bundle.js';
import { makeDecoder } from './decoders.js';
import { makeEncoder } from './encoders.js';
import { Graph } from './runtime.js';
import { checkBatch, flatten } from './space.js';

export class Model {
  constructor(manifest, graphs) {
    this.manifest = manifest;
    this.graphs = graphs;           // role -> Graph
    this.Z = manifest.latent.size;
    this.kind = manifest.kind;
    this.decoder = makeDecoder(graphs, manifest);
    this.encoder = makeEncoder(graphs, manifest); // null without graphs.encoder
  }

  /**
   * rows: array of Z-length arrays of finite numbers (TypeError/RangeError otherwise) -> one
   * result per row: a Float32Array of pixels, or a sentence's token ids.
   */
  decode(rows) {
    const checked = checkBatch(rows, this.Z);
    return this.decoder.decode(flatten(checked, this.Z), checked.length);
  }

  /** Free the graphs' wasm sessions (after their queued runs). */
  release() {
    Object.values(this.graphs).forEach((g) => g.release());
  }
}

/**
 * Load the graphs of the bundle whose manifest is at the absolute `url`; `manifest`: that
 * manifest, already checked (it is read and checked here without it). `signal` aborts the
 * downloads; an abort rejects with the signal's reason. Any failure names the file and the key.
 */
export async function loadModel(url, { signal, manifest } = {}) {
  manifest ??= checkManifest(await fetchJSON(url, signal), url);
  const roles = Object.keys(graphsOf(manifest));
  const files = roles.map((g) => manifest.graphs[g].file);
  const downloads = files.map((f) => fetchBytes(new URL(f, url).href, signal));
  downloads.forEach((d) => d.catch(() => {})); // awaited below, unless an earlier step fails first
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
  return new Model(manifest, graphs);
}
