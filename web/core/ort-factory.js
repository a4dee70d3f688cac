// onnxruntime-web's wasm loader (ort-wasm-simd-threaded.mjs), handed the wasm the page compiled.
// A worker's own WebAssembly compile gets no help from the browser's code cache here (measured:
// a warm reload compiled it again), while a page's streamed compile does; so with the default
// runtime files the page compiles the wasm (core/connection.js), posts the WebAssembly.Module to
// the decoding worker, and onnxruntime instantiates that through Emscripten's `instantiateWasm`
// hook. runtime.js points onnxruntime at this file instead of the loader itself.
// (The loader's URL is computed, not a static import: the notebook links every module of the
// element into a blob: module, and the runtime's files are not among them; it never uses this one.)
import { compiledWasm } from './runtime.js';

/** The loader's factory, as onnxruntime calls it; without a compiled module, the loader as it is. */
export default async function factory(config) {
  const { default: loader } = await import(new URL('../ort/ort-wasm-simd-threaded.mjs', import.meta.url).href);
  const compiled = await compiledWasm();
  if (!compiled) return loader(config); // the page could not compile it: the loader fetches its own
  let fail;
  const failed = new Promise((_, reject) => { fail = reject; });
  return Promise.race([failed, loader({
    ...config,
    instantiateWasm(imports, done) {
      WebAssembly.instantiate(compiled, imports).then((instance) => done(instance, compiled), fail);
      return {};
    },
  })]);
}
