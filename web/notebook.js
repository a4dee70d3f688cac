// The anywidget front end of `exporter.Explorer` (exporter/notebook.py). anywidget imports this
// file from a blob: URL, where nothing can be found relative to it, so the Python side sends
// everything over the widget's comm and this module puts it together:
// - the element's modules arrive as text; each becomes a blob: module whose relative imports
//   are rewritten to the blob: URLs of the modules they name (dependencies first);
// - onnxruntime-web's module and loader become blob: modules, the wasm comes as bytes, and the
//   decoding worker starts from the blob: URL of core/worker.js (core/runtime.js
//   `configureRuntime`); so does @huggingface/tokenizers for sentence bundles
//   (core/tokenizer.js `configureTokenizers`);
// - the bundle's files come as bytes and are served from memory (core/bundle.js `holdFiles`)
//   under a URL that names nothing real.
// Then `point` is kept in step both ways: the element's latent-change sets it in Python, and a
// change from Python moves the element.

const SPECIFIER = /(\bfrom\s*|\bimport\s*\(?\s*)(['"])(\.{1,2}\/[^'"]+)\2/g;
const BUNDLE_URL = 'https://latent-explorer.invalid/bundle/manifest.json';

const bytesOf = (view) => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
const blobUrl = (text) => URL.createObjectURL(new Blob([text], { type: 'text/javascript' }));

/** path -> blob: URL for every module, each linked to its dependencies' blob: URLs. */
function link(sources) {
  const urls = {};
  const resolve = (from, spec) => new URL(spec, `https://x/${from}`).pathname.slice(1);
  const visit = (path, trail = []) => {
    if (urls[path]) return urls[path];
    if (!(path in sources)) throw new Error(`notebook: the element's module ${path} was not sent`);
    if (trail.includes(path)) throw new Error(`notebook: import cycle through ${path}`);
    const text = sources[path].replace(SPECIFIER, (all, lead, quote, spec) =>
      `${lead}${quote}${visit(resolve(path, spec), [...trail, path])}${quote}`);
    urls[path] = blobUrl(text);
    return urls[path];
  };
  Object.keys(sources).forEach((p) => visit(p));
  return urls;
}

// One runtime and one element definition per page, however many widgets. anywidget may import
// this module once per widget (each from its own blob: URL), so the state lives on the page.
const LOADED = Symbol.for('latent-explorer.notebook');

async function load(model) {
  const urls = link(model.get('modules'));
  const runtime = model.get('runtime');
  const { configureRuntime } = await import(urls['core/runtime.js']);
  try {
    configureRuntime({ module: blobUrl(runtime.entry), mjs: blobUrl(runtime.glue),
      wasmBinary: bytesOf(runtime.wasm).slice().buffer, worker: urls['core/worker.js'] });
  } catch { /* another widget configured it first: the same runtime */ }
  const { configureTokenizers } = await import(urls['core/tokenizer.js']);
  try {
    configureTokenizers(blobUrl(runtime.tokenizers));
  } catch { /* likewise */ }
  const bundle = await import(urls['core/bundle.js']);
  await import(urls['latent-explorer.js']);
  return bundle;
}

const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

export default {
  async render({ model, el }) {
    globalThis[LOADED] ??= load(model);
    const { holdFiles } = await globalThis[LOADED];
    // One URL per widget, so two bundles on a page keep their files apart.
    const url = BUNDLE_URL.replace('bundle', `bundle-${model.model_id ?? Math.random().toString(36).slice(2)}`);
    const files = Object.fromEntries(Object.entries(model.get('files')).map(([k, v]) => [k, bytesOf(v)]));
    holdFiles(url, files);
    const explorer = document.createElement('latent-explorer');
    explorer.setAttribute('src', url);
    el.append(explorer);
    await explorer.ready;
    explorer.point = model.get('point');
    const toPython = (e) => {
      if (e.detail.source === 'python' || same(e.detail.point, model.get('point'))) return;
      model.set('point', e.detail.point);
      model.save_changes();
    };
    const fromPython = () => {
      const p = model.get('point');
      if (!same(p, explorer.point)) explorer.point = p;
    };
    explorer.addEventListener('latent-change', toPython);
    model.on('change:point', fromPython);
    return () => {
      explorer.removeEventListener('latent-change', toPython);
      model.off('change:point', fromPython);
    };
  },
};
