// onnxruntime-web, loaded once per page (or worker) from the `ort/` folder beside this module,
// so the element works from any page that can reach it: no CDN, no bundler, no global script
// tag. The rest of the code never sees an ort.Tensor: a Graph takes and gives typed arrays
// with explicit dims, which is also what a Web Worker can post.
// Computed when needed: under a blob: URL (a Jupyter widget) there is no folder to be beside.
const ortDir = () => new URL('../ort/', import.meta.url);

let ortPromise = null;
let source = null;

/**
 * Where onnxruntime-web comes from when it cannot be found beside this module: the notebook
 * widget (web/notebook.js) links these modules from blob: URLs, so it hands over the runtime's
 * module and loader as blob: URLs and the wasm as bytes. Call before anything loads.
 * source: { module: URL of ort.wasm.min.mjs, mjs: URL of ort-wasm-simd-threaded.mjs, wasmBinary: ArrayBuffer }
 */
export function configureRuntime(runtimeSource) {
  if (ortPromise) throw new Error('configureRuntime(): the runtime is already loading');
  source = runtimeSource;
}

/** Import and configure the wasm build of onnxruntime-web (memoized). */
export function loadOrt() {
  ortPromise ??= import(source ? source.module : new URL('ort.wasm.min.mjs', ortDir()).href).then((ort) => {
    if (source) {
      ort.env.wasm.wasmPaths = { mjs: source.mjs };
      ort.env.wasm.wasmBinary = source.wasmBinary;
    } else {
      ort.env.wasm.wasmPaths = ortDir().href;
    }
    // Threads need a cross-origin isolated page (COOP/COEP headers, as `latent-explorer serve`
    // sends). Elsewhere (a blog host without those headers) one thread is all that works.
    ort.env.wasm.numThreads = globalThis.crossOriginIsolated
      ? Math.min(2, globalThis.navigator?.hardwareConcurrency || 1) : 1;
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
 * checked against `outputs` (name -> shape, "batch" for the batch axis), so a graph whose sizes
 * disagree with its manifest fails loudly instead of painting a wrong picture.
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
      if (dims.length !== want.length || dims.some((d, i) => d !== want[i])) {
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
