// The decoding worker: core/host.js behind postMessage, so the page's thread does not decode (and,
// where the element hands it its canvas, does not paint the main picture either). Started
// by core/connection.js (directly, or from a same-origin blob: module that imports this file when
// it lives on another origin, since a module worker's script must be same-origin).
//
// Only runtime.js is imported up front, and onnxruntime's download and compile start at once,
// while the host's own modules download beside it: now, with the runtime's defaults (the name
// core/connection.js gave this worker says so), or on the page's first message ('init') with the
// page's settings. Messages wait here until the host is up; then the page hears 'hello' (a worker
// that never says it falls back to the page's thread).
//
// With the default runtime files the page compiles onnxruntime's wasm, where the browser's code
// cache serves a later visit, once a bundle opens, and posts it here ({op: 'wasm', module}: a
// WebAssembly.Module, or null if it could not); onnxruntime instantiates it (core/ort-factory.js).
import { configureRuntime, loadOrt } from './runtime.js';

let received;
const compiled = new Promise((resolve) => { received = resolve; });
const defaults = globalThis.name === 'latent-explorer';
if (defaults) {
  configureRuntime({ compiled });
  loadOrt().catch(() => {}); // loading a bundle reports any failure
}

const waiting = [];
let host = null;

onmessage = ({ data }) => {
  if (data.op === 'wasm') return received(data.module);
  if (host) return host.handle(data);
  if (data.op === 'init' && waiting.length === 0) {
    if (data.source && !defaults) configureRuntime(data.source.compiles ? { ...data.source, compiled } : data.source);
    loadOrt().catch(() => {}); // loading a bundle reports any failure
  }
  return waiting.push(data);
};

import('./host.js').then(({ Host }) => {
  host = new Host((message, transfer) => postMessage(message, transfer));
  waiting.splice(0).forEach((message) => host.handle(message));
  postMessage({ op: 'hello' });
}, (e) => {
  setTimeout(() => { throw e; }); // an error event on the page's Worker: it decodes on its own thread
});
