// Where decoding runs, and the messages to it: the Web Worker (core/worker.js, the graphs in
// core/host.js), started once per page and shared by every element on it, or, where no worker
// can start (configureRuntime({..., worker: null}), or a page's Content-Security-Policy
// forbids it), the same host on the page's thread. latent-explorer.js starts it as soon as it
// is imported, so onnxruntime loads while the manifest and the graphs download.
import { errorFrom } from './errors.js';
import { compileOrtWasm, pageCompiles, runtimeSource } from './runtime.js';

export const opening = new Map(); // model id -> RemoteModel (core/client.js), until 'opened' or 'failed'
let endpoint = null;          // {post(message, transfer), kind}: to the host, wherever it runs
const requests = new Map();   // request id -> {resolve, reject}

/** A message from the host. */
function receive(msg) {
  if (msg.op === 'opened' || msg.op === 'failed') {
    opening.get(msg.model)?.settle(msg.op === 'opened' ? null : errorFrom(msg.error));
    opening.delete(msg.model);
    return;
  }
  const waiting = requests.get(msg.id);
  requests.delete(msg.id);
  if (msg.op === 'done') waiting?.resolve(msg.result);
  else waiting?.reject(errorFrom(msg.error));
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
 * and if it fails to start they are replayed to a host on this thread. Its name tells it whether
 * the page configured the runtime: if not, it starts onnxruntime without waiting for a message
 * (the browser hands a new worker the page's first messages from the page's thread, which may
 * by then be busy building the element for a tenth of a second).
 */
function workerEndpoint(workerUrl, configured, compiles) {
  let worker;
  let script;
  try {
    script = workerScript(workerUrl);
    worker = new Worker(script.url, { type: 'module', name: configured ? 'latent-explorer configured' : 'latent-explorer' });
  } catch (e) {
    console.warn(`latent-explorer: no decoding worker (${e.message}); decoding on the page's thread`);
    return localEndpoint();
  }
  // The wasm, compiled here where the code cache helps; the worker waits for it (core/worker.js).
  // It starts with the first bundle's opening, in the next task: the page's thread feeds the
  // streamed compile the 14 MB as they arrive, and the element paints its poster (in the task
  // that opens the bundle) first. Nothing in the worker needs the wasm before a bundle opens.
  let compile = compiles ? () => {
    compile = null;
    setTimeout(() => compileOrtWasm().then((module) => worker.postMessage({ op: 'wasm', module })));
  } : null;
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
    if (local) return local.post(msg); // the page's own host loads its own wasm
    if (msg.op === 'open') compile?.();
    if (self.kind === 'worker') return worker.postMessage(msg, transfer);
    kept.push(msg);
    return worker.postMessage(msg);
  };
  return self;
}

/**
 * Start the runtime, once per page: the decoding worker, which starts loading onnxruntime at
 * once (its wasm compiles once a bundle opens). Returns where decoding runs: {kind: 'worker' |
 * 'starting' | 'page'}.
 */
export function startRuntime() {
  if (!endpoint) {
    const source = runtimeSource();
    const workerUrl = source?.worker !== undefined ? source.worker : new URL('./worker.js', import.meta.url).href;
    const configured = Object.keys(source ?? {}).some((key) => key !== 'worker');
    const compiles = !!workerUrl && pageCompiles(source);
    endpoint = workerUrl ? workerEndpoint(workerUrl, configured, compiles) : localEndpoint();
    endpoint.post({ op: 'init', source: source && { ...source, worker: null, compiles } }); // the worker's own runtime.js
  }
  return endpoint;
}

/** Send `msg` (with `transfer`) to the host; resolves with its reply. */
export function request(msg, transfer) {
  return new Promise((resolve, reject) => {
    requests.set(msg.id, { resolve, reject });
    startRuntime().post(msg, transfer);
  });
}
