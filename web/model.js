// A bundle in the browser: fetch the manifest (the one contract with Python), load its graphs,
// and decode batches of PCA coordinates. One class per bundle kind.
import { Graph } from './runtime.js';
import { detokenize } from './text/tokenizer.js';

export const FORMAT = 'latent-explorer-bundle';
export const FORMAT_VERSION = 1;

async function fetchJSON(url) {
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Error(`could not fetch ${url} (${e.message})`);
  }
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
  try {
    return await response.json();
  } catch {
    throw new Error(`${url}: not valid JSON`);
  }
}

function loadGraphs(manifest, url) {
  const names = Object.keys(manifest.graphs);
  return Promise.all(names.map((n) => Graph.load(new URL(manifest.graphs[n].file, url).href, manifest.graphs[n])))
    .then((graphs) => Object.fromEntries(names.map((n, i) => [n, graphs[i]])));
}

/** Shared by every kind: the PCA axes, their spread, the real examples. */
class BaseModel {
  constructor(manifest, graphs) {
    this.manifest = manifest;
    this.graphs = graphs;
    this.k = manifest.latent.k;
    this.std = manifest.pca.std;
  }

  /** batch (array of k-length arrays) -> one Float32Array, row-major [batch, k]. */
  flatten(batch) {
    if (!Array.isArray(batch) || batch.length === 0) throw new TypeError('decode(batch): batch must be a non-empty array of coordinate arrays');
    const flat = new Float32Array(batch.length * this.k);
    batch.forEach((row, i) => {
      if (row.length !== this.k) throw new TypeError(`decode(batch): row ${i} has ${row.length} coordinates, the model takes ${this.k}`);
      flat.set(row, i * this.k);
    });
    return flat;
  }
}

export class ImageModel extends BaseModel {
  constructor(manifest, graphs) {
    super(manifest, graphs);
    this.height = manifest.image.height;
    this.width = manifest.image.width;
  }

  /** batch: array of k-length coordinate arrays -> one Float32Array of H*W intensities per row. */
  async decode(batch) {
    const { decoder } = this.graphs;
    // decoder.onnx: coords float32 [batch, k] (PCA coordinates) -> pixels float32 [batch, H, W] in [0, 1]
    const out = await decoder.run({ coords: decoder.tensor(this.flatten(batch), [batch.length, this.k]) });
    const n = this.height * this.width;
    return batch.map((_, i) => out.pixels.data.slice(i * n, (i + 1) * n));
  }
}

/**
 * Greedy decoding of a sentence VAE. manifest.text.variant says how: "step" runs one GRU step
 * per session.run, looped here; "unrolled" runs the whole greedy loop inside one graph.
 */
export class TextModel extends BaseModel {
  static async prepare(manifest, url) {
    return { vocab: await fetchJSON(new URL(manifest.text.vocab, url).href) };
  }

  constructor(manifest, graphs, { vocab }) {
    super(manifest, graphs);
    this.itos = vocab.specials.concat(vocab.tokens);
    this.specials = manifest.text.specials; // {pad, unk, bos, eos} -> ids
    this.maxLen = manifest.text.max_len;
    this.variant = manifest.text.variant;
  }

  /** Ids of one row (no <s>) -> {ids, tokens, text}, cut before the first </s>, no <pad>. */
  row(ids) {
    const end = ids.indexOf(this.specials.eos);
    const kept = (end < 0 ? ids : ids.slice(0, end)).filter((i) => i !== this.specials.pad && i !== this.specials.bos);
    const tokens = kept.map((i) => this.itos[i]);
    return { ids: kept, tokens, text: detokenize(tokens) };
  }

  /** batch: array of k-length coordinate arrays -> one {ids, tokens, text} per row. */
  async decode(batch) {
    const flat = this.flatten(batch);
    return this.variant === 'unrolled' ? this.decodeUnrolled(flat, batch.length) : this.decodeSteps(flat, batch.length);
  }

  async decodeUnrolled(flat, n) {
    const { greedy } = this.graphs;
    // greedy.onnx: coords float32 [batch, k] -> tokens int64 [batch, max_len], logits float32 [batch, max_len, V]
    const { tokens } = await greedy.run({ coords: greedy.tensor(flat, [n, this.k]) });
    const T = tokens.dims[1];
    return Array.from({ length: n }, (_, b) => this.row(Array.from(tokens.data.subarray(b * T, (b + 1) * T), Number)));
  }

  async decodeSteps(flat, n) {
    const { init, step } = this.graphs;
    // init.onnx: coords float32 [batch, k] -> z float32 [batch, Z], hidden float32 [batch, H]
    const { z, hidden } = await init.run({ coords: init.tensor(flat, [n, this.k]) });
    const ids = Array.from({ length: n }, () => []);
    const token = new BigInt64Array(n).fill(BigInt(this.specials.bos));
    let h = hidden;
    let open = n;
    for (let t = 0; t < this.maxLen && open > 0; t++) {
      // step.onnx: token int64 [batch], hidden float32 [batch, H], z float32 [batch, Z]
      //         -> logits float32 [batch, V], hidden_out float32 [batch, H]
      const out = await step.run({ token: new step.ort.Tensor('int64', token, [n]), hidden: h, z });
      const logits = out.logits.data;
      const V = out.logits.dims[1];
      for (let b = 0; b < n; b++) {
        let best = 0;
        for (let v = 1; v < V; v++) if (logits[b * V + v] > logits[b * V + best]) best = v;
        if (ids[b].at(-1) !== this.specials.eos) {
          ids[b].push(best);
          if (best === this.specials.eos) open--;
        }
        token[b] = BigInt(best);
      }
      h = out.hidden_out;
    }
    return ids.map((row) => this.row(row));
  }
}

const KINDS = { image: ImageModel, text: TextModel };

/** Load the bundle whose manifest is at `src` (resolved against the page). */
export async function loadModel(src) {
  const url = new URL(src, document.baseURI).href;
  const manifest = await fetchJSON(url);
  if (manifest.format !== FORMAT) throw new Error(`${url}: not a latent-explorer manifest`);
  if (manifest.format_version !== FORMAT_VERSION) {
    throw new Error(`${url}: format version ${manifest.format_version}, this element reads ${FORMAT_VERSION}`);
  }
  const Kind = KINDS[manifest.kind];
  if (!Kind) throw new Error(`${url}: bundle kind "${manifest.kind}" is not supported by this element`);
  const [graphs, extra] = await Promise.all([loadGraphs(manifest, url), Kind.prepare?.(manifest, url)]);
  return new Kind(manifest, graphs, extra);
}
