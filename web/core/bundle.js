// A bundle's manifest.json (format 2, the one contract with Python: exporter/bundle/schema.py)
// is checked here before the element trusts any of it, so a bundle that cannot decode fails
// `ready` with one readable line naming the file and the key ("manifest.json: pca.std[2] must
// be a positive finite number, got "abc"") instead of painting NaN pixels or throwing a
// TypeError deep in the UI. The rules are tables (key -> check), read in order, so later checks
// may rely on earlier ones (latent.size before every list of length Z); a future format
// version adds or swaps entries rather than branches. No DOM here: URLs come in absolute.

/** Bundle names, as the exporter writes them and the demo page accepts them in models/index.json. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const FORMAT_VERSION = 2;
/** Sizes beyond these are rejected before anything of that size is allocated. */
export const LIMITS = { latent: 4096, side: 4096, maxLen: 1024, vocab: 1_000_000, list: 100_000, axes: 1024 };
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/; // a file beside manifest.json: no folders, no URLs

/** Thrown by a check; validate() turns it into `file: path must be what, got value` (or `file: sentence`). */
class Invalid extends Error {
  constructor(path, what, value, got, sentence) { super(what); Object.assign(this, { path, what, value, got, sentence }); }
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
const unit = rule('a number from 0 to 1', (v) => isFinite(v) && v >= 0 && v <= 1);
const string = rule('a string', (v) => typeof v === 'string');
const fileName = rule('a file name in the bundle\'s folder', (v) => typeof v === 'string' && FILE_NAME.test(v));
const int = (lo, hi, why = '') => rule((m) => `an integer from ${at(lo, m)} to ${at(hi, m)}${why}`,
  (v, m) => Number.isInteger(v) && v >= at(lo, m) && v <= at(hi, m));
const oneOf = (...options) => rule(`one of ${options.map((o) => JSON.stringify(o)).join(', ')}`, (v) => options.includes(v));
const optional = (check) => (v, ...rest) => { if (v !== undefined) check(v, ...rest); };
const nullable = (check) => (v, ...rest) => { if (v !== null) check(v, ...rest); };

/** An object whose keys are checked in table order (other keys are ignored), then `whole` on it. */
const object = (fields, whole) => (v, path, m) => {
  if (!isObject(v)) throw new Invalid(path, 'an object', v);
  for (const [key, check] of Object.entries(fields)) check(v[key], join(path, key), m, v);
  whole?.(v, path, m);
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
const Z = (m) => m.latent.size;
const pixelCount = (m) => m.image.height * m.image.width * (m.image.channels ?? 1);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const posterPixels = rule((m) => `base64 of ${pixelCount(m)} bytes (image height × width × channels)`,
  (v, m) => typeof v === 'string' && BASE64.test(v) && v.length % 4 === 0
    && v.length / 4 * 3 - (v.endsWith('==') ? 2 : v.endsWith('=') ? 1 : 0) === pixelCount(m));
const zList = (item) => list(item, { length: Z, why: ' (latent.size)' });

// --- the graphs each layout needs, with shapes in terms of the manifest's own sizes ----------

const f32 = (...shape) => ({ dtype: 'float32', shape });
const i64 = (...shape) => ({ dtype: 'int64', shape });
/**
 * Per layout: graph role -> {inputs, outputs, optional} -> name -> {dtype, shape}. In shapes,
 * "batch" and "steps" (a loop's output length) are dynamic axes; other names are sizes: those
 * in SIZES come from the manifest, the rest (vocab, hidden) are bound by their first use and
 * must agree everywhere (vocab also with the tokenizer's file). Every coordinate is
 * `coords [batch, Z]`: the full point.
 */
const TEXT_ENCODER = { optional: true,
  inputs: { tokens: i64('batch', 'max_len'), lengths: i64('batch') }, outputs: { coords: f32('batch', 'Z') } };
export const LAYOUTS = {
  image: {
    decoder: { inputs: { coords: f32('batch', 'Z') }, outputs: { pixels: f32('batch', 'height', 'width') } },
    encoder: { optional: true, inputs: { pixels: f32('batch', 'height', 'width') }, outputs: { coords: f32('batch', 'Z') } },
  },
  'image/rgb': { // image.channels 3: pixels are [batch, H, W, 3], RGB last
    decoder: { inputs: { coords: f32('batch', 'Z') }, outputs: { pixels: f32('batch', 'height', 'width', 'channels') } },
    encoder: { optional: true, inputs: { pixels: f32('batch', 'height', 'width', 'channels') },
      outputs: { coords: f32('batch', 'Z') } },
  },
  'text/unrolled': {
    greedy: { inputs: { coords: f32('batch', 'Z') },
      outputs: { tokens: i64('batch', 'max_len'), logits: f32('batch', 'max_len', 'vocab') } },
    encoder: TEXT_ENCODER,
  },
  'text/loop': { // the greedy loop as an ONNX Loop: it stops once every row has emitted </s>
    loop: { inputs: { coords: f32('batch', 'Z') }, outputs: { tokens: i64('batch', 'steps') } },
    encoder: TEXT_ENCODER,
  },
};
const DYNAMIC = new Set(['batch', 'steps']);
const SIZES = { Z: ['latent.size', Z], height: ['image.height', (m) => m.image.height],
  width: ['image.width', (m) => m.image.width], channels: ['image.channels', (m) => m.image.channels ?? 1],
  max_len: ['text.max_len', (m) => m.text.max_len] };

const layoutOf = (m) => LAYOUTS[m.kind === 'text' ? `text/${m.text.variant}` : m.image.channels === 3 ? 'image/rgb' : 'image'];

/** The layout's graphs this (checked) manifest has: every required one, and the optional ones it declares. */
export const graphsOf = (m) => Object.fromEntries(Object.entries(layoutOf(m)).filter(([g, s]) => !s.optional || m.graphs[g] !== undefined));

function manifestSizes(m) {
  const sizes = {};
  for (const [name, [, get]] of Object.entries(SIZES)) {
    try { sizes[name] = get(m); } catch { /* a size of the other kind */ }
  }
  return sizes;
}

/** Size name -> number for a checked manifest, including those its graph shapes bind (vocab, hidden). */
export function sizesOf(m) {
  const sizes = manifestSizes(m);
  for (const [g, spec] of Object.entries(graphsOf(m))) {
    for (const side of ['inputs', 'outputs']) {
      for (const [name, { shape }] of Object.entries(spec[side])) mismatch(m.graphs[g][side][name].shape, shape, sizes, { strict: true });
    }
  }
  return sizes;
}

/** Graph role -> {output name -> shape with sizes filled in}: what Graph checks every run against. */
export function outputShapes(m) {
  const sizes = sizesOf(m);
  return Object.fromEntries(Object.entries(graphsOf(m)).map(([g, spec]) => [g, Object.fromEntries(
    Object.entries(spec.outputs).map(([name, { shape }]) => [name, shape.map((d) => (DYNAMIC.has(d) ? d : sizes[d]))]))]));
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
    if (DYNAMIC.has(d)) return strict ? got === d : symbolic;
    if (!strict && symbolic) return true;
    if (!Number.isInteger(got) || got < 1) return false;
    sizes[d] ??= got;
    return got === sizes[d];
  });
  return ok ? null : template.map((d) => (DYNAMIC.has(d) ? d : sizes[d] ?? d));
}

/** The manifest's `graphs`: the layout's graphs (optional ones if present) with their names, dtypes and shapes. */
function graphs(v, path, m) {
  if (!isObject(v)) throw new Invalid(path, 'an object', v);
  const sizes = manifestSizes(m);
  for (const [g, spec] of Object.entries(layoutOf(m))) {
    const gp = join(path, g);
    if (v[g] === undefined) {
      if (spec.optional) continue;
      throw new Invalid(gp, `an object: ${m.kind} bundles need a ${g} graph`, undefined);
    }
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

/** An axis (a slider) moves one coordinate (`component`) or the point along a Z-vector (`direction`). */
function oneMotion(axis, path) {
  if ((axis.component === undefined) === (axis.direction === undefined)) {
    throw new Invalid(path, 'an axis with either a component or a direction', undefined, undefined,
      `${path} needs either a component or a direction (not both)`);
  }
}

// --- the tables ------------------------------------------------------------------------------

const version = (v, path) => {
  if (v === FORMAT_VERSION) return;
  const sentence = Number.isInteger(v) && v < FORMAT_VERSION
    ? `bundle format version ${v}; this element reads version ${FORMAT_VERSION} (re-export the bundle with latent-explorer >= 0.2)`
    : `format_version must be ${FORMAT_VERSION}, the version this element reads, got ${show(v)}`;
  throw new Invalid(path, '', v, undefined, sentence);
};

const COMMON = {
  format: rule('"latent-explorer-bundle" (this is not a latent-explorer manifest)', (v) => v === 'latent-explorer-bundle'),
  format_version: version,
  name: rule(`a bundle name matching ${NAME_PATTERN.source}`, (v) => typeof v === 'string' && NAME_PATTERN.test(v)),
  title: optional(string),
  kind: oneOf(...new Set(Object.keys(LAYOUTS).map((l) => l.split('/')[0]))),
  latent: object({ size: int(1, LIMITS.latent) }),
};
const BY_KIND = {
  image: {
    image: object({
      height: int(1, LIMITS.side), width: int(1, LIMITS.side),
      channels: optional(rule('1 (grey) or 3 (RGB)', (v) => v === 1 || v === 3)),
      preprocess: optional(object({ background: optional(unit), ink: optional(unit), resize: optional(oneOf('area')) })),
    }),
  },
  text: {
    text: object({
      tokenizer: fileName,
      specials: object(Object.fromEntries(['pad', 'unk', 'bos', 'eos'].map((s) => [s, int(0, LIMITS.vocab)]))),
      max_len: int(2, LIMITS.maxLen),
      variant: oneOf(...Object.keys(LAYOUTS).filter((l) => l.startsWith('text/')).map((l) => l.slice(5)).sort()),
    }),
  },
};
const AFTER_KIND = {
  graphs,
  pca: object({ mean: zList(finite), components: zList(zList(finite)), std: zList(positive), explained_variance_ratio: zList(unit) }),
  axes: list(object({
    name: string,
    min: finite,
    max: rule('a finite number greater than min', (v, m, axis) => isFinite(v) && v > axis.min),
    component: optional(int(0, (m) => Z(m) - 1, ' (below latent.size)')),
    direction: optional(zList(finite)),
  }, oneMotion), { min: 0, max: LIMITS.axes }),
  dataset: optional(object({ label_names: optional(list(string)) })),
  anchors: list(object({ coords: zList(finite), label: optional(nullable(int(0, LIMITS.list))), text: optional(nullable(string)) }),
    { min: 1, max: LIMITS.list }),
  // the decode of `point`, painted before the graphs have loaded: images 8-bit pixels (base64), text the sentence
  poster: optional(object({
    point: zList(finite),
    pixels: (v, path, m) => (m.kind === 'image' ? posterPixels(v, path, m) : undefined),
    text: (v, path, m) => (m.kind === 'text' ? string(v, path, m) : undefined),
  })),
};

// --- what `directions` writes: direction records, the latent map, typicality (all optional) ---

const A = (m) => m.directions.attributes.length;
const perAttribute = (item) => list(item, { length: A, why: ' (directions.attributes)' });
const directionName = rule('the name of a direction in axes', (v, m) => m.axes.some((a) => a.name === v && a.direction));
const count = (m) => m.map.count;
const ascending = (v, path) => {
  if (v.quantiles.some((q, i) => i > 0 && q < v.quantiles[i - 1])) throw new Invalid(join(path, 'quantiles'), 'ascending numbers', v.quantiles);
};
const EXTRAS = {
  directions: optional(object({
    attributes: list(string, { max: 256 }),
    attribute_std: perAttribute(positive),
    sigma: positive,
    n_examples: optional(int(1, Number.MAX_SAFE_INTEGER)),
    items: list(object({
      name: directionName, spread: positive, orthogonal_to: list(string, { max: LIMITS.axes }),
      effect: perAttribute(finite), effect_raw: perAttribute(finite),
      effect_se: optional(perAttribute(finite)), effect_raw_se: optional(perAttribute(finite)),
    }), { max: LIMITS.axes }),
  })),
  map: optional(object({
    file: fileName,
    count: int(1, LIMITS.list),
    indices: list(int(0, Number.MAX_SAFE_INTEGER), { length: count, why: ' (map.count)' }),
    labels: (v, path, m) => (Array.isArray(v) && v.length === 0 ? undefined
      : list(int(0, LIMITS.list), { length: count, why: ' (map.count), or none' })(v, path, m)),
    sprite: optional(nullable(fileName)),
    columns: int(1, count, ' (map.count)'),
    dtype: optional(oneOf('float16')),
  })),
  typicality: optional(object({ statistic: oneOf('mahalanobis2'), quantiles: list(finite, { min: 2, max: 10_001 }) }, ascending)),
};

/** "http://host/m/x/manifest.json?v=2" -> "manifest.json": how messages name a file. */
export const fileOf = (url) => new URL(url).pathname.split('/').pop() || url;

/** `value` checked against `table`; else Error("file: path must be …, got …"). */
export function validate(value, table, file) {
  try {
    object(table)(value, '', value);
  } catch (e) {
    if (!(e instanceof Invalid)) throw e;
    const where = e.path ? `${file}: ${e.path}` : file;
    if (e.sentence) throw new Error(`${file}: ${e.sentence}`);
    if (e.value === undefined) throw new Error(`${where} is missing (must be ${e.what})`);
    throw new Error(`${where} must be ${e.what}, got ${e.got ?? show(e.value)}`);
  }
  return value;
}
export const checks = { list, string, int };

/** The manifest at (absolute) `url`, if it is one this element can decode; else throws Error("manifest.json: key …"). */
export function checkManifest(manifest, url) {
  const file = fileOf(url);
  validate(manifest, COMMON, file);
  return validate(manifest, { ...BY_KIND[manifest.kind], ...AFTER_KIND, ...EXTRAS }, file);
}

/** The tokenizer's vocabulary size against every logits output (a checked manifest). */
export function checkVocabSize(manifest, size, file) {
  for (const [g, spec] of Object.entries(graphsOf(manifest))) {
    for (const [name, { shape }] of Object.entries(spec.outputs)) {
      const classes = manifest.graphs[g].outputs[name].shape.at(-1);
      if (shape.at(-1) === 'vocab' && classes !== size) {
        throw new Error(`${file} has ${size} entries, but graphs.${g}.outputs.${name} has ${classes} classes`);
      }
    }
  }
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

// --- fetching: every failure names the file ---------------------------------------------------

/** Files held in memory (absolute URL -> bytes), answered instead of the network. */
const held = new Map();
const heldBundles = new Map(); // manifest URL -> its files, as given (the page hands them on to the worker)

/**
 * Serve a bundle from memory: `files` maps names beside `manifestUrl` (manifest.json, the
 * graphs, ...) to bytes. The notebook widget gets its bundle over the kernel's comm this way;
 * `manifestUrl` is then any absolute https: URL that names nothing real.
 */
export function holdFiles(manifestUrl, files) {
  for (const [name, bytes] of Object.entries(files)) held.set(new URL(name, manifestUrl).href, bytes);
  heldBundles.set(manifestUrl, files);
}

/** The files holdFiles() was given for `manifestUrl`, or null for a bundle on a server. */
export const heldFiles = (manifestUrl) => heldBundles.get(manifestUrl) ?? null;

/** GET `url`; failures name the file ("decoder.onnx: HTTP 404 …"). Aborts pass through as the signal's reason. */
async function fetchFile(url, signal) {
  if (held.has(url)) return new Response(held.get(url));
  let response;
  try {
    response = await fetch(url, { signal });
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    throw new Error(`${fileOf(url)}: could not fetch ${url} (${e.message})`);
  }
  if (!response.ok) throw new Error(`${fileOf(url)}: HTTP ${response.status} ${response.statusText}`.trimEnd());
  return response;
}

export async function fetchJSON(url, signal) {
  const response = await fetchFile(url, signal);
  try {
    return await response.json();
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    throw new Error(`${fileOf(url)}: not valid JSON`);
  }
}

export async function fetchBytes(url, signal) {
  const response = await fetchFile(url, signal);
  try {
    return new Uint8Array(await response.arrayBuffer());
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    throw new Error(`${fileOf(url)}: download failed (${e.message})`);
  }
}
