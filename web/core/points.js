// The latent map's data and what is measured against it, with no DOM: the map's training points
// (manifest.map: N × Z float16 coordinates in map.f16, their sprite of training images), the k
// nearest of them to a point, and how typical a point is (manifest.typicality). Each function is
// the twin of a Python reference in exporter/space/points.py (nearest, mahalanobis2, percentile)
// and is tested against it.
import { fetchBytes, fileOf } from './bundle.js';

/** An IEEE 754 half-precision number (its 16 bits) as a double, exactly. */
export function halfToFloat(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 31;
  const fraction = h & 1023;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Little-endian float16 bytes -> Float32Array (float16 values are exact in float32). */
export function float16s(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.byteLength >> 1 }, (_, i) => halfToFloat(view.getUint16(2 * i, true)));
}

/**
 * The map's points of a (checked) manifest whose `map` is at `url`'s folder: {coords (N*Z
 * Float32Array, row-major), count, Z, labels, indices, columns}. Throws, naming the file, if it
 * is not N × Z finite float16 values.
 */
export async function loadMap(manifest, url, signal) {
  const { file, count, labels, indices, columns } = manifest.map;
  const Z = manifest.latent.size;
  const href = new URL(file, url).href;
  const bytes = await fetchBytes(href, signal);
  if (bytes.byteLength !== 2 * count * Z) {
    throw new Error(`${fileOf(href)}: ${bytes.byteLength} bytes, map.count × latent.size float16 values are ${2 * count * Z}`);
  }
  const coords = float16s(bytes);
  const bad = coords.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new Error(`${fileOf(href)}: row ${Math.floor(bad / Z)} holds ${coords[bad]}`);
  return { coords, count, Z, labels, indices, columns };
}

/** The map's sprite (a PNG of its points' training images) as an ImageBitmap, or null without one. */
export async function loadSprite(manifest, url, signal) {
  if (!manifest.map?.sprite) return null;
  const href = new URL(manifest.map.sprite, url).href;
  const bytes = await fetchBytes(href, signal);
  try {
    return await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
  } catch (e) {
    throw new Error(`${fileOf(href)}: not a picture the browser can read (${e.message})`);
  }
}

/**
 * Rows of the map nearest `query` (Z numbers), nearest first: k of them, Euclidean in coords,
 * ties by row (as numpy's stable argsort in points.nearest). Returns [{row, d2}].
 */
export function nearest(map, query, k) {
  const { coords, count, Z } = map;
  const best = []; // sorted by (d2, row), at most k long
  for (let r = 0; r < count; r++) {
    let d2 = 0;
    for (let i = 0; i < Z; i++) {
      const d = coords[r * Z + i] - query[i];
      d2 += d * d;
    }
    if (best.length === k && d2 >= best[k - 1].d2) continue; // ties keep the earlier row
    let at = best.length;
    while (at > 0 && best[at - 1].d2 > d2) at--;
    best.splice(at, 0, { row: r, d2 });
    if (best.length > k) best.pop();
  }
  return best;
}

/** d² = Σ (coords_i / std_i)²: the squared Mahalanobis distance under the codes' Gaussian. */
export const mahalanobis2 = (point, std) => point.reduce((s, v, i) => s + (v / std[i]) ** 2, 0);

/**
 * The share (0-100) of training codes closer to the centre than d², interpolated in the
 * quantiles at probabilities 0, 1/(Q-1), …, 1: numpy's interp, as points.percentile uses it.
 */
export function percentile(d2, quantiles) {
  const q = quantiles;
  const n = q.length;
  const at = (i) => (i === n - 1 ? 100 : i * (100 / (n - 1))); // np.linspace(0, 100, n)
  if (!(d2 >= q[0])) return Number.isNaN(d2) ? NaN : 0;
  if (d2 >= q[n - 1]) return 100;
  let lo = 0;
  let hi = n - 1; // q[lo] <= d2 < q[hi]: find the last j with q[j] <= d2
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (q[mid] <= d2) lo = mid; else hi = mid;
  }
  const slope = (at(lo + 1) - at(lo)) / (q[lo + 1] - q[lo]);
  return slope * (d2 - q[lo]) + at(lo);
}
