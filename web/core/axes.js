// Axes: the ways a point can be moved by name. An axis is a PCA component (`component`: one
// coordinate of the point) or a named direction (`direction`: a unit Z-vector in coords, moved
// along as coords + a·direction through the same decoder graph). The sliders, the latent map and
// the live grid all read and move points through these functions, so they agree exactly. No DOM.
import { checkRow } from './space.js';

const dot = (a, b) => a.reduce((s, v, i) => s + v * b[i], 0);

/** σ of an axis: the component's std, the direction's manifest `spread`, or else the training
 * codes' std along it, √Σ (v_i·std_i)² (exact: PCA coordinates are uncorrelated). */
export function sigmaOf(axis, std) {
  if (axis.component !== undefined) return std[axis.component];
  if (axis.spread > 0) return axis.spread;
  return Math.sqrt(axis.direction.reduce((s, v, i) => s + (v * std[i]) ** 2, 0)) || 1;
}

/** The position of `point` along `axis`: its coordinate, or its projection on the direction. */
export function valueOf(axis, point) {
  if (axis.component !== undefined) return point[axis.component];
  const d = axis.direction;
  return dot(point, d) / (dot(d, d) || 1);
}

/** `point` moved by `delta` along `axis` (a new Array): p[c] + delta, or p + delta·v. */
export function shift(axis, point, delta) {
  if (axis.component !== undefined) {
    const q = point.slice();
    q[axis.component] = point[axis.component] + delta;
    return q;
  }
  return point.map((x, i) => x + delta * axis.direction[i]);
}

/** `point` moved along `axis` until its position is `value`; nothing orthogonal to it changes. */
export function setValue(axis, point, value) {
  if (axis.component !== undefined) {
    const q = point.slice();
    q[axis.component] = value;
    return q;
  }
  const t = value - valueOf(axis, point);
  return point.map((x, i) => x + t * axis.direction[i]);
}

/**
 * `point` moved so that its positions along axes a and b are x and y, changing nothing
 * orthogonal to both (what a click on the latent map means). Two components: those two
 * coordinates are set, the rest stay exactly. Directions: the 2 × 2 system of their Gram matrix
 * is solved; two parallel directions move along a only.
 */
export function setValues(a, b, point, x, y) {
  if (a.component !== undefined && b.component !== undefined && a.component !== b.component) {
    const q = point.slice();
    q[a.component] = x;
    q[b.component] = y;
    return q;
  }
  const va = vectorOf(a, point.length);
  const vb = vectorOf(b, point.length);
  const [aa, ab, bb] = [dot(va, va), dot(va, vb), dot(vb, vb)];
  const ra = (x - valueOf(a, point)) * aa;
  const rb = (y - valueOf(b, point)) * bb;
  const det = aa * bb - ab * ab;
  if (Math.abs(det) < 1e-9 * aa * bb) return setValue(a, point, x);
  // Solve [aa ab; ab bb] [s; t] = [ra; rb], then move by s·va + t·vb.
  const s = (ra * bb - ab * rb) / det;
  const t = (aa * rb - ab * ra) / det;
  return point.map((v, i) => v + s * va[i] + t * vb[i]);
}

/** The Z-vector an axis moves along (a unit basis vector for a component). */
export function vectorOf(axis, Z) {
  if (axis.direction) return axis.direction;
  const e = new Array(Z).fill(0);
  e[axis.component] = 1;
  return e;
}

/** `vector` at unit length; RangeError for a zero or non-finite vector. */
export function unitVector(vector, what = 'direction') {
  const norm = Math.sqrt(dot(vector, vector));
  if (!(norm > 0) || !Number.isFinite(norm)) throw new RangeError(`${what} must be a non-zero vector of finite numbers`);
  return vector.map((v) => v / norm);
}

/**
 * Named directions as a page or an edit gives them (an Array of {name, direction, source?}),
 * checked: names of 1 to 64 characters, none of `taken` nor given twice (TypeError), each
 * direction Z finite numbers (TypeError, RangeError), not zero (RangeError). Returns them as
 * {name, direction (unit length), source (a copy; default {kind: 'vector'})}.
 */
export function checkDirections(list, taken, Z) {
  if (!Array.isArray(list)) throw new TypeError('directions must be an array of {name, direction}');
  const names = new Set(taken);
  return list.map((d, i) => {
    const name = d?.name;
    if (typeof name !== 'string' || !name.trim() || name.length > 64) throw new TypeError(`directions[${i}].name must be a name of 1 to 64 characters`);
    if (names.has(name)) throw new TypeError(`directions[${i}].name: ${JSON.stringify(name)} is taken (names must be unique)`);
    names.add(name);
    const direction = unitVector(checkRow(d.direction, Z, `directions[${i}].direction`), `directions[${i}].direction`);
    return { name, direction, source: structuredClone(d.source ?? { kind: 'vector' }) };
  });
}

/** A (unit) direction as an axis, with slider bounds ±3σ. */
export function directionAxis(name, direction, std, extra = {}) {
  const axis = { name, direction, ...extra };
  const sigma = sigmaOf(axis, std);
  return { ...axis, min: -3 * sigma, max: 3 * sigma };
}

/** The element's axes: the manifest's sliders (directions carry their record's `spread`) and `extra` ones. */
export function axesOf(manifest, extra = []) {
  const items = Object.fromEntries((manifest.directions?.items ?? []).map((item) => [item.name, item]));
  return [...manifest.axes.map((a) => (a.direction ? { ...a, spread: items[a.name]?.spread } : a)), ...extra];
}

/** Every PCA component as an axis (PC1 … PCZ): the map and the grid may use any of them. */
export function componentAxes(manifest) {
  return manifest.pca.std.map((s, c) => ({ name: `PC${c + 1}`, component: c, min: -3 * s, max: 3 * s }));
}
