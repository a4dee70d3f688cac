// Coordinates handed to the element by its page (el.coords = …, el.decode(batch)) are checked
// here before they reach a Float32Array, which would silently turn "1.5" into 1.5, null into 0,
// undefined into NaN and 1e39 into Infinity, and then paint NaN pixels or empty sentences.

const FLOAT32_MAX = 3.4028234663852886e38;

function describe(v) {
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? `${v.slice(0, 19)}…` : v);
  if (v === null || Array.isArray(v)) return v === null ? 'null' : 'an array';
  return typeof v;
}

/**
 * One point as a plain Array of numbers (k of them, when k is given).
 * TypeError: not an Array or typed array, wrong length, or an entry that is not a number;
 * numeric strings such as "1.5" are rejected too (no silent coercion: the caller converts).
 * RangeError: NaN, ±Infinity, or beyond what float32 can hold (the graphs take float32).
 */
export function checkRow(row, k, what = 'coords') {
  if (!Array.isArray(row) && !(ArrayBuffer.isView(row) && !(row instanceof DataView))) {
    throw new TypeError(`${what} must be an array of numbers, got ${describe(row)}`);
  }
  if (k !== undefined && row.length !== k) throw new TypeError(`${what} has ${row.length} values, the model takes ${k}`);
  const out = new Array(row.length);
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (typeof v !== 'number') throw new TypeError(`${what}[${i}] must be a number, got ${describe(v)}`);
    if (!(Math.abs(v) <= FLOAT32_MAX)) throw new RangeError(`${what}[${i}] must be a finite float32 number, got ${v}`);
    out[i] = v;
  }
  return out;
}

/** A batch: a non-empty Array of rows, each checked as by checkRow. */
export function checkBatch(batch, k) {
  if (!Array.isArray(batch) || batch.length === 0) {
    throw new TypeError(`decode(batch): batch must be a non-empty array of coordinate arrays, got ${describe(batch)}`);
  }
  return batch.map((row, i) => checkRow(row, k, `decode(batch): batch[${i}]`));
}
