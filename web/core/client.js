// The page's side of decoding. The runtime runs in one Web Worker per page (core/worker.js, the
// graphs in core/host.js), started when the element's module is imported, so onnxruntime
// compiles while the page and the manifest load; every element on the page shares it. The page
// reads and checks the manifest itself (the element builds its UI from it and paints the poster
// at once), keeps the tokenizer (sentences are typed and shown here), and gets back a model:
// decode(rows), encoder.encode(...), map(), sprite(), release(), and `loaded`, which settles
// once the worker has loaded and checked every graph.
//
// Without a worker (configureRuntime({..., worker: null}), or one that cannot start: a page's
// Content-Security-Policy may forbid it) the same host runs on the page's thread.
import { checkManifest, checkVocabSize, fetchJSON, heldFiles } from './bundle.js';
import { sentenceOf } from './decoders.js';
import { errorFrom } from './errors.js';
import { loadMap, loadSprite } from './points.js';
import { runtimeSource } from './runtime.js';
import { checkBatch, flatten } from './space.js';
import { createTokenizer } from './tokenizer.js';

let endpoint = null;          // {post(message, transfer), kind}: to the host, wherever it runs
const requests = new Map();   // request id -> {resolve, reject}
const opening = new Map();    // model id -> RemoteModel, until 'opened' or 'failed'
let ids = 0;

/** A message from the host. */
function receive(msg) {
  if (msg.op === 'opened' || msg.op === 'failed') {
    opening.get(msg.model)?.settle(msg.op === 'opened' ? null : errorFrom(msg.error));
    opening.delete(msg.model);
    return;
  }
  const request = requests.get(msg.id);
  requests.delete(msg.id);
  if (msg.op === 'done') request?.resolve(msg.result);
  else request?.reject(errorFrom(msg.error));
}

/** Everything waiting on the host fails with `error` (the worker stopped). */
function failAll(error) {
  for (const r of requests.values()) r.reject(error);
  requests.clear();
  for (const m of opening.values()) m.settle(error);
  opening.clear();
}

/** The host on this thread: the same messages, no copies. */
function localEndpoint() {
  const host = import('./host.js').then(({ Host }) => new Host((msg) => receive(msg)));
  return { kind: 'page', post: (msg) => { host.then((h) => h.handle(msg)); } };
}

/** A module worker's script must be same-origin: for another origin's, a blob: module imports it. */
function workerScript(url) {
  if (new URL(url).origin === globalThis.location?.origin || url.startsWith('blob:')) return { url, revoke: () => {} };
  const blobUrl = URL.createObjectURL(new Blob([`import ${JSON.stringify(url)};\n`], { type: 'text/javascript' }));
  return { url: blobUrl, revoke: () => URL.revokeObjectURL(blobUrl) };
}

/**
 * The worker, and a fallback: until it says hello, messages are kept (copied, not transferred),
 * and if it fails to start they are replayed to a host on this thread.
 */
function workerEndpoint(workerUrl) {
  let worker;
  let script;
  try {
    script = workerScript(workerUrl);
    worker = new Worker(script.url, { type: 'module', name: 'latent-explorer' });
  } catch (e) {
    console.warn(`latent-explorer: no decoding worker (${e.message}); decoding on the page's thread`);
    return localEndpoint();
  }
  const self = { kind: 'starting' };
  let local = null;
  const kept = [];
  worker.onmessage = ({ data }) => {
    if (data.op !== 'hello') return receive(data);
    self.kind = 'worker';
    kept.length = 0;
    return script.revoke();
  };
  worker.onerror = (event) => {
    if (self.kind === 'worker') {
      failAll(new Error(`the decoding worker stopped${event.message ? `: ${event.message}` : ''}`));
      return;
    }
    event.preventDefault();
    console.warn(`latent-explorer: the decoding worker did not start (${event.message || workerUrl}); decoding on the page's thread`);
    worker.terminate();
    script.revoke();
    local = localEndpoint();
    self.kind = 'page';
    kept.forEach((m) => local.post(m));
  };
  self.post = (msg, transfer = []) => {
    if (local) return local.post(msg);
    if (self.kind === 'worker') return worker.postMessage(msg, transfer);
    kept.push(msg);
    return worker.postMessage(msg);
  };
  return self;
}

/**
 * Start the runtime, once per page: the decoding worker, which starts compiling onnxruntime at
 * once. Returns where decoding runs: {kind: 'worker' | 'starting' | 'page'}.
 */
export function startRuntime() {
  if (!endpoint) {
    const source = runtimeSource();
    const workerUrl = source?.worker !== undefined ? source.worker : new URL('./worker.js', import.meta.url).href;
    endpoint = workerUrl ? workerEndpoint(workerUrl) : localEndpoint();
    endpoint.post({ op: 'init', source: source && { ...source, worker: null } }); // the worker's own runtime.js
  }
  return endpoint;
}

function request(msg, transfer) {
  return new Promise((resolve, reject) => {
    requests.set(msg.id, { resolve, reject });
    startRuntime().post(msg, transfer);
  });
}

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
    this.loaded = new Promise((resolve, reject) => {
      this.settle = (error) => (error ? reject(error) : resolve(this));
    });
    this.loaded.catch(() => {});
    // images: encode(pixels Float32Array [n * H * W], n) -> coords Float32Array [n * Z];
    // text: encode(token id lists) -> {coords Float32Array [n * Z], kept: the ids read per row}
    this.encoder = manifest.graphs.encoder
      ? { encode: (data, n) => this.run('encode', data, n ?? data.length) } : null;
  }

  run(op, data, n, transfer = []) {
    return request({ op, id: ++ids, model: this.id, data, n }, transfer);
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
