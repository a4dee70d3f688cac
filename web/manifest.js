// Checks a bundle's manifest.json (and vocab.json) before the element trusts any of it, so a
// bundle that cannot decode fails `ready` with one readable line naming the file and the key
// ("manifest.json: pca.std[2] must be a positive finite number, got "abc"") instead of painting
// NaN pixels or throwing a TypeError deep in the UI. The rules are tables (key -> check), read
// in order, so later checks may rely on earlier ones (latent.k before every list of length k);
// a future format version adds or swaps entries rather than branches.

/** Bundle names, as the exporter writes them and the demo page accepts them in models/index.json. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Sizes beyond these are rejected before anything of that size is allocated. */
export const LIMITS = { k: 1024, latent: 65536, side: 4096, maxLen: 1024, vocab: 1_000_000, list: 100_000 };
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/; // a file beside manifest.json: no folders, no URLs

/** Thrown by a check; validate() turns it into `file: path must be what, got value`. */
class Invalid extends Error {
  constructor(path, what, value, got) { super(what); Object.assign(this, { path, what, value, got }); }
}

function show(v) {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v); // NaN, Infinity as such
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 59)}…` : s;
}

const join = (path, key) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFinite = (v) => typeof v === 'number' && Number.isFinite(v);
const at = (x, m) => (typeof x === 'function' ? x(m) : x);

// --- checks: (value, path, manifest, parent) -> undefined, or throw Invalid ------------------

/** A check from a predicate; `what` (text, or a function of the manifest) completes "must be …". */
const rule = (what, ok) => (v, path, m, parent) => {
  if (!ok(v, m, parent)) throw new Invalid(path, at(what, m), v);
};
const finite = rule('a finite number', isFinite);
const positive = rule('a positive finite number', (v) => isFinite(v) && v > 0);
const string = rule('a string', (v) => typeof v === 'string');
const fileName = rule('a file name in the bundle\'s folder', (v) => typeof v === 'string' && FILE_NAME.test(v));
const int = (lo, hi, why = '') => rule((m) => `an integer from ${at(lo, m)} to ${at(hi, m)}${why}`,
  (v, m) => Number.isInteger(v) && v >= at(lo, m) && v <= at(hi, m));
const oneOf = (...options) => rule(`one of ${options.map((o) => JSON.stringify(o)).join(', ')}`, (v) => options.includes(v));
const optional = (check) => (v, ...rest) => { if (v !== undefined) check(v, ...rest); };
const nullable = (check) => (v, ...rest) => { if (v !== null) check(v, ...rest); };

/** An object whose keys are checked in table order; other keys are ignored. */
const object = (fields) => (v, path, m) => {
  if (!isObject(v)) throw new Invalid(path, 'an object', v);
  for (const [key, check] of Object.entries(fields)) check(v[key], join(path, key), m, v);
};

/** A list of `item`s; `length` is a number, a function of the manifest, and `why` names it. */
const list = (item, { length, why = '', min = 0, max = LIMITS.list } = {}) => (v, path, m) => {
  const n = at(length, m);
  const what = n === undefined ? `a list of ${min} to ${max} entries` : `a list of ${n} entries${why}`;
  if (!Array.isArray(v)) throw new Invalid(path, what, v);
  if (n === undefined ? v.length < min || v.length > max : v.length !== n) {
    throw new Invalid(path, what, v, `a list of ${v.length}`);
  }
  v.forEach((x, i) => item(x, join(path, i), m, v));
};
const K = (m) => m.latent.k;
const kList = (item) => list(item, { length: K, why: ' (latent.k)' });

// --- the graphs each layout needs, with shapes in terms of the manifest's own sizes ----------

const f32 = (...shape) => ({ dtype: 'float32', shape });
const i64 = (...shape) => ({ dtype: 'int64', shape });
/**
 * Per layout: graph -> {inputs, outputs} -> name -> {dtype, shape}. In shapes, "batch" is the
 * dynamic axis; other names are sizes: those in SIZES come from the manifest, the rest (vocab,
 * z, hidden) are bound by their first use and must agree everywhere (vocab also with vocab.json).
 */
export const LAYOUTS = {
  image: { decoder: { inputs: { coords: f32('batch', 'k') }, outputs: { pixels: f32('batch', 'height', 'width') } } },
  'text/unrolled': {
    greedy: { inputs: { coords: f32('batch', 'k') },
      outputs: { tokens: i64('batch', 'max_len'), logits: f32('batch', 'max_len', 'vocab') } },
  },
  'text/step': {
    init: { inputs: { coords: f32('batch', 'k') }, outputs: { z: f32('batch', 'z'), hidden: f32('batch', 'hidden') } },
    step: { inputs: { token: i64('batch'), hidden: f32('batch', 'hidden'), z: f32('batch', 'z') },
      outputs: { logits: f32('batch', 'vocab'), hidden_out: f32('batch', 'hidden') } },
  },
};
const SIZES = { k: ['latent.k', K], height: ['image.height', (m) => m.image.height],
  width: ['image.width', (m) => m.image.width], max_len: ['text.max_len', (m) => m.text.max_len] };

export const layoutOf = (m) => LAYOUTS[m.kind === 'text' ? `text/${m.text.variant}` : m.kind];

function manifestSizes(m) {
  const sizes = {};
  for (const [name, [, get]] of Object.entries(SIZES)) {
    try { sizes[name] = get(m); } catch { /* a size of the other kind */ }
  }
  return sizes;
}

/** Size name -> number for a validated manifest, including those its graph shapes bind (vocab, z, hidden). */
export function sizesOf(m) {
  const sizes = manifestSizes(m);
  for (const [g, spec] of Object.entries(layoutOf(m))) {
    for (const side of ['inputs', 'outputs']) {
      for (const [name, { shape }] of Object.entries(spec[side])) mismatch(m.graphs[g][side][name].shape, shape, sizes, { strict: true });
    }
  }
  return sizes;
}

/**
 * Compare a shape, declared in the manifest (strict: the batch axis is "batch", sizes are
 * numbers) or reported by onnxruntime (symbolic axes match anything; Graph.run checks the real
 * dims), with a layout's template, binding unbound sizes in `sizes`. Mismatch: the expected
 * shape; match: null.
 */
export function mismatch(shape, template, sizes, { strict }) {
  const ok = Array.isArray(shape) && shape.length === template.length && template.every((d, i) => {
    const got = shape[i];
    const symbolic = typeof got !== 'number' || got < 0;
    if (d === 'batch') return strict ? got === 'batch' : symbolic;
    if (!strict && symbolic) return true;
    if (!Number.isInteger(got) || got < 1) return false;
    sizes[d] ??= got;
    return got === sizes[d];
  });
  return ok ? null : template.map((d) => (d === 'batch' ? 'batch' : sizes[d] ?? d));
}

/** The manifest's `graphs`: exactly the layout's graphs, names, dtypes and shapes. */
function graphs(v, path, m) {
  if (!isObject(v)) throw new Invalid(path, 'an object', v);
  const sizes = manifestSizes(m);
  for (const [g, spec] of Object.entries(layoutOf(m))) {
    const gp = join(path, g);
    if (v[g] === undefined) throw new Invalid(gp, `an object: ${m.kind} bundles need a ${g} graph`, undefined);
    object({ file: fileName, inputs: object({}), outputs: object({}) })(v[g], gp, m);
    for (const side of ['inputs', 'outputs']) {
      const names = Object.keys(spec[side]);
      const declared = v[g][side];
      if (Object.keys(declared).sort().join() !== [...names].sort().join()) {
        throw new Invalid(join(gp, side), `exactly: ${names.join(', ')}`, Object.keys(declared).join(', '),
          Object.keys(declared).join(', ') || 'none');
      }
      for (const [name, { dtype, shape }] of Object.entries(spec[side])) {
        const p = join(join(gp, side), name);
        object({ dtype: oneOf(dtype) })(declared[name], p, m);
        const want = mismatch(declared[name].shape, shape, sizes, { strict: true });
        if (want) {
          const why = shape.filter((d) => SIZES[d]).map((d) => SIZES[d][0]).join(', ');
          throw new Invalid(join(p, 'shape'), `${JSON.stringify(want)}${why ? ` (${why})` : ''}`, declared[name].shape);
        }
      }
    }
  }
}

// --- the tables ------------------------------------------------------------------------------

const COMMON = {
  format: rule('"latent-explorer-bundle" (this is not a latent-explorer manifest)', (v) => v === 'latent-explorer-bundle'),
  format_version: rule('1, the version this element reads', (v) => v === 1),
  name: rule(`a bundle name matching ${NAME_PATTERN.source}`, (v) => typeof v === 'string' && NAME_PATTERN.test(v)),
  title: optional(string),
  kind: oneOf(...new Set(Object.keys(LAYOUTS).map((l) => l.split('/')[0]))),
  latent: object({ size: int(1, LIMITS.latent), k: int(1, (m) => Math.min(m.latent.size, LIMITS.k), ' (at most latent.size)') }),
};
const BY_KIND = {
  image: { image: object({ height: int(1, LIMITS.side), width: int(1, LIMITS.side) }) },
  text: {
    text: object({
      vocab: fileName,
      specials: object(Object.fromEntries(['pad', 'unk', 'bos', 'eos'].map((s) => [s, int(0, LIMITS.vocab)]))),
      max_len: int(1, LIMITS.maxLen),
      variant: oneOf(...Object.keys(LAYOUTS).filter((l) => l.startsWith('text/')).map((l) => l.slice(5)).sort()),
    }),
  },
};
const AFTER_KIND = {
  graphs,
  pca: object({ std: kList(positive), explained_variance_ratio: kList(rule('a number from 0 to 1', (v) => isFinite(v) && v >= 0 && v <= 1)) }),
  axes: list(object({
    name: string,
    index: int(0, (m) => m.latent.k - 1, ' (below latent.k)'),
    min: finite,
    max: rule('a finite number greater than min', (v, m, axis) => isFinite(v) && v > axis.min),
  }), { min: 0, max: LIMITS.k }),
  dataset: optional(object({ label_names: optional(list(string)) })),
  anchors: list(object({ coords: kList(finite), label: optional(nullable(int(0, LIMITS.list))), text: optional(string) }),
    { min: 1, max: LIMITS.list }),
};

/** "http://host/m/x/manifest.json?v=2" -> "manifest.json": how messages name a file. */
export const fileOf = (url) => new URL(url).pathname.split('/').pop() || url;

function validate(value, table, file) {
  try {
    object(table)(value, '', value);
  } catch (e) {
    if (!(e instanceof Invalid)) throw e;
    const where = e.path ? `${file}: ${e.path}` : file;
    if (e.value === undefined) throw new Error(`${where} is missing (must be ${e.what})`);
    throw new Error(`${where} must be ${e.what}, got ${e.got ?? show(e.value)}`);
  }
  return value;
}

/** The manifest, if it is one this element can decode; else throws Error("manifest.json: key …"). */
export function validateManifest(manifest, url) {
  const file = fileOf(url);
  validate(manifest, COMMON, file);
  return validate(manifest, { ...BY_KIND[manifest.kind], ...AFTER_KIND }, file);
}

/**
 * vocab.json against its (validated) manifest: strings only, as many entries as the graphs'
 * logits have classes, every special id inside it. Returns the id -> token list.
 */
export function validateVocab(vocab, manifest, url, manifestUrl) {
  const file = fileOf(url);
  validate(vocab, { specials: list(string, { min: 1, max: LIMITS.vocab }), tokens: list(string, { max: LIMITS.vocab }) }, file);
  const itos = vocab.specials.concat(vocab.tokens);
  for (const [g, spec] of Object.entries(layoutOf(manifest))) {
    for (const [name, { shape }] of Object.entries(spec.outputs)) {
      const classes = manifest.graphs[g].outputs[name].shape.at(-1);
      if (shape.at(-1) === 'vocab' && classes !== itos.length) {
        throw new Error(`${file} has ${itos.length} entries, but graphs.${g}.outputs.${name} has ${classes} classes`);
      }
    }
  }
  for (const [key, id] of Object.entries(manifest.text.specials)) {
    if (id >= itos.length) throw new Error(`${fileOf(manifestUrl)}: text.specials.${key} is ${id}, but ${file} has ${itos.length} entries`);
  }
  return itos;
}

/**
 * A loaded graph (onnxruntime-web's InferenceSession: inputNames/outputNames, and in 1.30
 * inputMetadata/outputMetadata with dtype and shape) against the layout: same names, dtypes,
 * and the sizes the manifest needs. Throws "decoder.onnx: input coords has shape …".
 */
export function checkSession(session, g, manifest, sizes, file) {
  const spec = layoutOf(manifest)[g];
  for (const [side, names, metadata] of [['input', session.inputNames, session.inputMetadata],
    ['output', session.outputNames, session.outputMetadata]]) {
    const want = Object.keys(spec[`${side}s`]);
    if ([...names].sort().join() !== [...want].sort().join()) {
      throw new Error(`${file}: graph has ${side}s ${names.join(', ') || 'none'}, the manifest needs ${want.join(', ')}`);
    }
    for (const meta of metadata ?? []) { // absent before onnxruntime-web 1.22: names were checked
      const { dtype, shape } = spec[`${side}s`][meta.name];
      if (meta.isTensor === false || (meta.type !== undefined && meta.type !== dtype)) {
        throw new Error(`${file}: ${side} ${meta.name} is ${meta.type ?? 'not a tensor'}, the manifest needs ${dtype}`);
      }
      const need = meta.shape?.length ? mismatch(meta.shape, shape, sizes, { strict: false }) : null;
      if (need) throw new Error(`${file}: ${side} ${meta.name} has shape ${JSON.stringify(meta.shape)}, the manifest needs ${JSON.stringify(need)}`);
    }
  }
}
