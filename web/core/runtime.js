// onnxruntime-web, loaded once per page (or worker) from the `ort/` folder beside this module,
// so the element works from any page that can reach it: no CDN, no bundler, no global script
// tag. The rest of the code never sees an ort.Tensor: a Graph takes and gives typed arrays
// with explicit dims, which is also what a Web Worker can post.
// Computed when needed: under a blob: URL (a Jupyter widget) there is no folder to be beside.
const ortDir = () => new URL('../ort/', import.meta.url);
const ortFile = (name) => new URL(name, ortDir()).href;

let ortPromise = null;
let source = null;

/**
 * Where onnxruntime-web comes from and where it runs; call before anything loads. Every key is
 * optional:
 *   module: URL of ort.wasm.min.mjs, mjs: URL of ort-wasm-simd-threaded.mjs, wasmBinary: the
 *     wasm as an ArrayBuffer (default: the files in `ort/` beside this module);
 *   worker: URL of core/worker.js, the decoding worker (default: beside this module; null:
 *     decode on the page's thread);
 *   proxy: true runs onnxruntime's own proxy worker instead (with worker: null; measured in
 *     benchmarks/runtime.py, not the default);
 *   threads: wasm threads on a cross-origin isolated page (default: the cores less two, 1 or 2;
 *     without cross-origin isolation always 1).
 * The notebook widget (web/notebook.js) links these modules from blob: URLs, where nothing is
 * beside anything, so it hands over blob: URLs and the wasm's bytes. core/connection.js passes
 * the same settings on to the worker, and with the default files (none of module, mjs,
 * wasmBinary) the page compiles the wasm for it (`compileOrtWasm`, core/ort-factory.js).
 */
export function configureRuntime(runtimeSource) {
  if (ortPromise || started) throw new Error('configureRuntime(): the runtime is already loading');
  source = { ...runtimeSource };
}

let started = false;

/** Whether this realm's settings are final (the page's once it has started the runtime). */
export const runtimeStarted = () => started || ortPromise !== null;

/** The configured source (null: the defaults); from now on configureRuntime() throws. */
export function runtimeSource() {
  started = true;
  return source;
}

// The smallest graph there is (y = Identity(x), float [1]): creating a session from it makes
// onnxruntime fetch, compile and instantiate its wasm now, while the bundle downloads, instead
// of after the first real graph has arrived.
const WARM_UP = 'CAg6PQoQCgF4EgF5IghJZGVudGl0eRIHd2FybS11cFoPCgF4EgoKCAgBEgQKAggBYg8KAXkSCgoICAESBAoCCAFCBAoAEA0=';

/** Whether a page running the decoding worker with `settings` compiles the wasm for it: with the default files. */
export const pageCompiles = (settings) => !settings?.module && !settings?.mjs && !settings?.wasmBinary;

/**
 * On the page: compile onnxruntime's default wasm, streamed, so the browser's code cache serves
 * a later visit (it does not serve a worker's compile). Resolves to the WebAssembly.Module, or
 * null where the page cannot (a Content-Security-Policy, a host serving the wrong MIME type):
 * the worker then fetches and compiles the wasm itself.
 */
export function compileOrtWasm() {
  const url = ortFile('ort-wasm-simd-threaded.wasm');
  return Promise.resolve().then(() => WebAssembly.compileStreaming(fetch(url))).catch(() => null);
}

/** In the worker: the page's compiled wasm (a Promise of a WebAssembly.Module or null), or null if it compiles none. */
export const compiledWasm = () => source?.compiled ?? null;

/** Import and configure the wasm build of onnxruntime-web, and start its wasm (memoized). */
export function loadOrt() {
  // The wasm loader: onnxruntime's own, or core/ort-factory.js around it, which instantiates the
  // module the page compiled.
  const glue = source?.mjs ?? ortFile('ort-wasm-simd-threaded.mjs');
  const mjs = source?.compiled ? new URL('ort-factory.js', import.meta.url).href : glue;
  if (!ortPromise) {
    // onnxruntime imports its wasm loader only once it has run itself: fetch the loader beside it,
    // not after it (the second import finds it in the module map), and the wasm download starts sooner.
    for (const url of new Set([mjs, glue])) import(url).catch(() => {});
  }
  ortPromise ??= import(source?.module ?? ortFile('ort.wasm.min.mjs')).then((ort) => {
    ort.env.wasm.wasmPaths = source?.mjs ? { mjs } : source?.compiled
      ? { mjs, wasm: ortFile('ort-wasm-simd-threaded.wasm') } : ortDir().href;
    if (source?.wasmBinary) ort.env.wasm.wasmBinary = source.wasmBinary;
    if (source?.proxy) ort.env.wasm.proxy = true;
    // Threads need a cross-origin isolated page (COOP/COEP headers, as `latent-explorer serve`
    // sends). Elsewhere (a blog host without those headers) one thread is all that works.
    // Of the cores, one is the page's and one this worker's: a 2-core machine gets 1 wasm thread
    // (measured: 2 threads there fight the page for a core; README, Benchmarks), 4 cores get 2.
    const cores = globalThis.navigator?.hardwareConcurrency || 1;
    ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? source?.threads ?? Math.min(2, Math.max(1, cores - 2)) : 1;
    const tiny = Uint8Array.from(atob(WARM_UP), (c) => c.charCodeAt(0));
    ort.InferenceSession.create(tiny).then((s) => s.release(), () => {}); // a real session reports any failure
    return ort;
  });
  return ortPromise;
}

/** The onnx dtype a typed array holds. */
function dtypeOf(data) {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof BigInt64Array) return 'int64';
  throw new TypeError(`a graph input must be a Float32Array or BigInt64Array, got ${data?.constructor?.name}`);
}

/**
 * One ONNX graph. `run` calls are serialized: the wasm backend runs one inference per
 * session at a time, and a queue keeps updates in order. Every result's output dims are
 * checked against `outputs` (name -> shape, "batch" for the batch axis, "steps" for a loop's
 * length, any positive one), so a graph whose sizes disagree with its manifest fails loudly
 * instead of painting a wrong picture.
 */
export class Graph {
  /**
   * bytes: the .onnx file, fetched by the caller (so a 404 reads "decoder.onnx: HTTP 404", not
   * onnxruntime's "failed to load external data"); file: its name, for messages.
   */
  static async create(bytes, file, outputs) {
    const ort = await loadOrt();
    let session;
    try {
      session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    } catch (e) {
      throw new Error(`${file}: not a graph onnxruntime can load (${e.message})`);
    }
    return new Graph(ort, session, file, outputs);
  }

  constructor(ort, session, file, outputs) {
    this.ort = ort;
    this.session = session;
    this.file = file;
    this.outputs = outputs;
    this.queue = Promise.resolve();
  }

  /**
   * feeds: { inputName: {data: Float32Array | BigInt64Array, dims} }, keyed by the graph's
   * input names, all sharing the batch axis 0. Resolves to { outputName: {data, dims} }.
   * Each graph's names, dtypes and shapes are stated where it is run: core/decoders.js and
   * core/encoders.js.
   */
  run(feeds) {
    const batch = Object.values(feeds)[0].dims[0];
    const tensors = Object.fromEntries(Object.entries(feeds).map(
      ([name, { data, dims }]) => [name, new this.ort.Tensor(dtypeOf(data), data, dims)]));
    const result = this.queue.then(() => this.session.run(tensors)).then((out) => this.check(out, batch));
    this.queue = result.catch(() => {});
    return result;
  }

  check(out, batch) {
    const plain = {};
    for (const [name, shape] of Object.entries(this.outputs)) {
      const want = shape.map((d) => (d === 'batch' ? batch : d));
      const dims = out[name]?.dims ?? [];
      if (dims.length !== want.length || dims.some((d, i) => (want[i] === 'steps' ? !(d >= 1) : d !== want[i]))) {
        throw new Error(`${this.file}: output ${name} has shape [${dims}], expected [${want}]`);
      }
      plain[name] = { data: out[name].data, dims: Array.from(dims) };
    }
    return plain;
  }

  /** Free the wasm session once the runs already queued have finished. */
  release() {
    this.queue = this.queue.then(() => this.session.release()).catch(() => {});
  }
}
