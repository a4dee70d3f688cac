// A bundle in the browser: fetch the manifest (the one contract with Python), load its graphs,
// and decode batches of PCA coordinates. One class per bundle kind.
import { checkBatch } from './coords.js';
import { checkSession, fileOf, layoutOf, sizesOf, validateManifest, validateVocab } from './manifest.js';
import { Graph } from './runtime.js';
import { detokenize } from './text/tokenizer.js';

/** GET `url`; failures name the file ("decoder.onnx: HTTP 404 …"). Aborts pass through as AbortError. */
async function fetchFile(url, signal) {
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

async function fetchJSON(url, signal) {
  const response = await fetchFile(url, signal);
  try {
    return await response.json();
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    throw new Error(`${fileOf(url)}: not valid JSON`);
  }
}

async function fetchBytes(url, signal) {
  return new Uint8Array(await (await fetchFile(url, signal)).arrayBuffer());
}

/** Shared by every kind: the PCA axes, their spread, the real examples. */
class BaseModel {
  constructor(manifest, graphs) {
    this.manifest = manifest;
    this.graphs = graphs;
    this.k = manifest.latent.k;
    this.std = manifest.pca.std;
  }

  /** batch (array of k-length arrays of finite numbers, see coords.js) -> one Float32Array, row-major [batch, k]. */
  flatten(batch) {
    const rows = checkBatch(batch, this.k);
    const flat = new Float32Array(rows.length * this.k);
    rows.forEach((row, i) => flat.set(row, i * this.k));
    return flat;
  }

  /** Free the graphs' wasm sessions (after their queued runs): the element no longer shows this bundle. */
  release() {
    Object.values(this.graphs).forEach((g) => g.release());
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
  /** vocab.json, checked against the manifest: id -> token. */
  static async prepare(manifest, url, signal) {
    const vocabUrl = new URL(manifest.text.vocab, url).href;
    return { itos: validateVocab(await fetchJSON(vocabUrl, signal), manifest, vocabUrl, url) };
  }

  constructor(manifest, graphs, { itos }) {
    super(manifest, graphs);
    this.itos = itos;
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

/**
 * Load the bundle whose manifest is at `src` (resolved against the page): check the manifest,
 * download every graph (and the vocabulary) at once while the runtime compiles, check each
 * graph against the manifest, and only then hand back a model. `signal` aborts the downloads.
 */
export async function loadModel(src, { signal } = {}) {
  const url = new URL(src, document.baseURI).href;
  const manifest = validateManifest(await fetchJSON(url, signal), url);
  const names = Object.keys(layoutOf(manifest));
  const files = names.map((g) => manifest.graphs[g].file);
  const downloads = files.map((f) => fetchBytes(new URL(f, url).href, signal));
  downloads.forEach((d) => d.catch(() => {})); // awaited below, unless an earlier step fails first
  const Kind = KINDS[manifest.kind];
  const extra = await Kind.prepare?.(manifest, url, signal);
  const sizes = sizesOf(manifest);
  const created = await Promise.allSettled(names.map(async (g, i) => {
    const outputs = Object.fromEntries(Object.entries(layoutOf(manifest)[g].outputs)
      .map(([name, { shape }]) => [name, shape.map((d) => (d === 'batch' ? d : sizes[d]))]));
    return Graph.create(await downloads[i], files[i], outputs);
  }));
  const graphs = Object.fromEntries(names.map((g, i) => [g, created[i].value]).filter(([, graph]) => graph));
  try {
    const failed = created.find((c) => c.status === 'rejected');
    if (failed) throw failed.reason;
    signal?.throwIfAborted();
    names.forEach((g, i) => checkSession(graphs[g].session, g, manifest, sizes, files[i]));
  } catch (e) {
    Object.values(graphs).forEach((g) => g.release());
    throw e;
  }
  return new Kind(manifest, graphs, extra);
}
