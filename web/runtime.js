// onnxruntime-web, loaded once per page from the `ort/` folder beside this module, so the
// element works from any page that can reach it (no CDN, no bundler, no global script tag).
const ORT_DIR = new URL('./ort/', import.meta.url);

let ortPromise = null;

/** Import and configure the wasm build of onnxruntime-web (memoized). */
export function loadOrt() {
  ortPromise ??= import(new URL('ort.wasm.min.mjs', ORT_DIR).href).then((ort) => {
    ort.env.wasm.wasmPaths = ORT_DIR.href;
    // Threads need a cross-origin isolated page (COOP/COEP headers, as `latent-explorer serve`
    // sends). Elsewhere (a blog host without those headers) one thread is all that works.
    ort.env.wasm.numThreads = globalThis.crossOriginIsolated
      ? Math.min(2, navigator.hardwareConcurrency || 1) : 1;
    return ort;
  });
  return ortPromise;
}

/**
 * One ONNX graph. `run` calls are serialized: the wasm backend runs one inference per
 * session at a time, and a queue keeps slider updates in order.
 */
export class Graph {
  static async load(url, spec) {
    const ort = await loadOrt();
    const session = await ort.InferenceSession.create(url, { executionProviders: ['wasm'] });
    return new Graph(ort, session, spec);
  }

  constructor(ort, session, spec) {
    this.ort = ort;
    this.session = session;
    this.spec = spec; // the manifest's graph entry: file, inputs, outputs, atol
    this.queue = Promise.resolve();
    const declared = Object.keys(spec.inputs).concat(Object.keys(spec.outputs)).join(',');
    const actual = session.inputNames.concat(session.outputNames).join(',');
    if (declared !== actual) throw new Error(`${spec.file}: graph has ${actual}, manifest declares ${declared}`);
  }

  /** Build a float32 tensor with explicit dims. */
  tensor(data, dims) {
    return new this.ort.Tensor('float32', data, dims);
  }

  /** feeds: { inputName: ort.Tensor } keyed by the graph's input names. */
  run(feeds) {
    const result = this.queue.then(() => this.session.run(feeds));
    this.queue = result.catch(() => {});
    return result;
  }
}
