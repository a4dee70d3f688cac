// The maths of points, with no DOM (a Web Worker imports it too). A point is all Z PCA
// coordinates of a latent vector: the PCA is a rotation, so nothing is thrown away and every
// point the element shows, encodes or shares is exactly a point the graphs take.
//
// Values handed in by a page are checked here before they reach a Float32Array, which would
// silently turn "1.5" into 1.5, null into 0, undefined into NaN and 1e39 into Infinity, and
// then paint NaN pixels or empty sentences.

export const FLOAT32_MAX = 3.4028234663852886e38;

function describe(v) {
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? `${v.slice(0, 19)}…` : v);
  if (v === null || Array.isArray(v)) return v === null ? 'null' : 'an array';
  return typeof v;
}

const isArrayLike = (v) => Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));

/**
 * One row as a plain Array of numbers (n of them, when n is given).
 * TypeError: not an Array or typed array, wrong length, or an entry that is not a number;
 * numeric strings such as "1.5" are rejected too (no silent coercion: the caller converts).
 * RangeError: NaN, ±Infinity, beyond what float32 can hold (the graphs take float32), or
 * outside [lo, hi] when given (image pixels).
 */
export function checkRow(row, n, what = 'point', { lo = -FLOAT32_MAX, hi = FLOAT32_MAX, unit = 'the model takes' } = {}) {
  if (!isArrayLike(row)) throw new TypeError(`${what} must be an array of numbers, got ${describe(row)}`);
  if (n !== undefined && row.length !== n) throw new TypeError(`${what} has ${row.length} values, ${unit} ${n}`);
  const out = new Array(row.length);
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (typeof v !== 'number') throw new TypeError(`${what}[${i}] must be a number, got ${describe(v)}`);
    if (!(v >= lo && v <= hi)) {
      const range = lo === -FLOAT32_MAX ? 'a finite float32 number' : `a number from ${lo} to ${hi}`;
      throw new RangeError(`${what}[${i}] must be ${range}, got ${v}`);
    }
    out[i] = v;
  }
  return out;
}

/** A batch: a non-empty Array of rows, each checked as by checkRow. */
export function checkBatch(batch, n, what = 'decode(batch): batch', options) {
  if (!Array.isArray(batch) || batch.length === 0) {
    throw new TypeError(`${what} must be a non-empty array of arrays, got ${describe(batch)}`);
  }
  return batch.map((row, i) => checkRow(row, n, `${what}[${i}]`, options));
}

/** Checked rows of n numbers -> one row-major Float32Array [rows.length * n], as the graphs take it. */
export function flatten(rows, n) {
  const flat = new Float32Array(rows.length * n);
  rows.forEach((row, i) => flat.set(row, i * n));
  return flat;
}

/** A standard normal draw (Box–Muller); `random` gives uniforms in [0, 1). */
export function gaussian(random = Math.random) {
  const u = 1 - random(); // (0, 1]: log(0) never happens
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/**
 * A draw from the Gaussian fitted to the training codes, every coordinate at once:
 * std[i] · N(0, 1) · temperature. Temperature 0 is the mean, 1 the fitted spread, above 1 the
 * tails the model rarely saw (as in MusicVAE and the World Models "dream" demo).
 */
export function randomPoint(std, temperature = 1, random = Math.random) {
  if (!(temperature >= 0 && temperature <= 100)) throw new RangeError(`temperature must be from 0 to 100, got ${temperature}`);
  return std.map((s) => s * temperature * gaussian(random) + 0); // + 0: temperature 0 gives 0, not -0
}

/** The point a fraction t of the way from a to b, coordinate by coordinate (t = 0: a, t = 1: b). */
export const lerp = (a, b, t) => a.map((v, i) => (t === 1 ? b[i] : (1 - t) * v + t * b[i]));

/**
 * Spherical interpolation about the coordinates' origin (the training codes' mean), as White
 * (2016, "Sampling generative networks") does for latent vectors: Shoemake's formula
 * sin((1-t)ω)/sin ω · a + sin(tω)/sin ω · b, ω the angle between a and b, applied to a and b as
 * they are. The ends are exactly a and b; when a and b are (anti)parallel or one is the origin,
 * it is lerp.
 */
export function slerp(a, b, t) {
  if (t === 0) return a.slice();
  if (t === 1) return b.slice();
  const dot = a.reduce((s, v, i) => s + v * b[i], 0);
  const na = Math.hypot(...a);
  const nb = Math.hypot(...b);
  const cos = na > 0 && nb > 0 ? Math.min(1, Math.max(-1, dot / (na * nb))) : 1;
  const omega = Math.acos(cos);
  const sin = Math.sin(omega);
  if (sin < 1e-6) return lerp(a, b, t);
  const [p, q] = [Math.sin((1 - t) * omega) / sin, Math.sin(t * omega) / sin];
  return a.map((v, i) => p * v + q * b[i]);
}

// --- sharing a point in a URL hash: #le-KEY=<base64url of Z float32 little-endian> ----------

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64_INDEX = Object.fromEntries([...B64].map((c, i) => [c, i]));

/** Unpadded base64url (RFC 4648 §5) of bytes. */
export function toBase64url(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let j = 0; j < chars; j++) out += B64[(n >> (18 - 6 * j)) & 63];
  }
  return out;
}

/** The length of unpadded base64url for n bytes. */
const b64Length = (n) => Math.floor(n / 3) * 4 + [0, 2, 3][n % 3];

/** Bytes of unpadded base64url text; null unless it is exactly that (no padding, spaces or %XX). */
export function fromBase64url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const bytes = new Uint8Array(Math.floor((text.length * 6) / 8));
  let acc = 0;
  let bits = 0;
  let k = 0;
  for (const c of text) {
    acc = (acc << 6) | B64_INDEX[c];
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[k++] = (acc >> bits) & 255;
    }
    acc &= (1 << bits) - 1;
  }
  return acc === 0 ? bytes : null; // leftover bits must be zero: one text per point
}

/** A point as base64url of its float32 values, little-endian on every platform. */
export function encodePoint(point) {
  const view = new DataView(new ArrayBuffer(4 * point.length));
  point.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return toBase64url(new Uint8Array(view.buffer));
}

/** The point in `text` (Z float32 values, as encodePoint writes them), or throws Error saying why not. */
export function decodePoint(text, Z) {
  if (text.length !== b64Length(4 * Z)) {
    throw new Error(`it has ${text.length.toLocaleString('en')} characters, a point of ${Z} numbers has ${b64Length(4 * Z)}`);
  }
  const bytes = fromBase64url(text);
  if (!bytes) throw new Error('it is not base64url text');
  const view = new DataView(bytes.buffer);
  const point = Array.from({ length: Z }, (_, i) => view.getFloat32(4 * i, true));
  const bad = point.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new Error(`number ${bad + 1} is ${point[bad]}`);
  return point;
}

/** The hash's entries ("a=1&le-x=…&b") as [key, value|null] pairs; '#' optional. */
function entries(hash) {
  const text = hash.startsWith('#') ? hash.slice(1) : hash;
  if (text === '') return [];
  return text.split('&').map((part) => {
    const eq = part.indexOf('=');
    return eq < 0 ? [part, null] : [part.slice(0, eq), part.slice(eq + 1)];
  });
}

/** The hash key of a bundle (or of the name a page chose with sync-url="NAME"). */
export const hashKey = (name) => `le-${name}`;

/**
 * The point that `hash` holds for `key`: null if it holds none, {point} if it holds a good one,
 * {error} (a sentence) if it holds one that cannot be used. Never throws: a hash is anyone's text.
 */
export function readHash(hash, key, Z) {
  const found = entries(String(hash)).find(([k]) => k === key);
  if (!found) return null;
  try {
    if (found[1] === null) throw new Error('it has no value');
    return { point: decodePoint(found[1], Z) };
  } catch (e) {
    return { error: e.message };
  }
}

/** `hash` (without '#') with the entry for `key` set to `point`; other entries are kept in order. */
export function writeHash(hash, key, point) {
  const value = encodePoint(point);
  const list = entries(String(hash));
  const at = list.findIndex(([k]) => k === key);
  if (at < 0) list.push([key, value]);
  else list[at] = [key, value];
  const keep = at < 0 ? list.length - 1 : at; // one entry per key, where it first was
  return list.filter(([k], i) => k !== key || i === keep).map(([k, v]) => (v === null ? k : `${k}=${v}`)).join('&');
}
