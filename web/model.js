// A bundle in the browser: fetch the manifest (the one contract with Python), load its graphs,
// and decode batches of PCA coordinates. One class per bundle kind; `text` comes next.
import { Graph } from './runtime.js';

export const FORMAT = 'latent-explorer-bundle';
export const FORMAT_VERSION = 1;

async function fetchManifest(url) {
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Error(`could not fetch ${url} (${e.message})`);
  }
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
  let manifest;
  try {
    manifest = await response.json();
  } catch {
    throw new Error(`${url}: not valid JSON`);
  }
  if (manifest.format !== FORMAT) throw new Error(`${url}: not a latent-explorer manifest`);
  if (manifest.format_version !== FORMAT_VERSION) {
    throw new Error(`${url}: format version ${manifest.format_version}, this element reads ${FORMAT_VERSION}`);
  }
  return manifest;
}

/** Shared by every kind: the PCA axes, their spread, the real examples. */
class BaseModel {
  constructor(manifest, url) {
    this.manifest = manifest;
    this.url = url;
    this.k = manifest.latent.k;
    this.std = manifest.pca.std;
  }

  checkBatch(batch) {
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
  static async load(manifest, url) {
    const spec = manifest.graphs.decoder;
    const graph = await Graph.load(new URL(spec.file, url).href, spec);
    return new ImageModel(manifest, url, graph);
  }

  constructor(manifest, url, graph) {
    super(manifest, url);
    this.graph = graph;
    this.height = manifest.image.height;
    this.width = manifest.image.width;
  }

  /** batch: array of k-length coordinate arrays -> one Float32Array of H*W intensities per row. */
  async decode(batch) {
    const flat = this.checkBatch(batch);
    // decoder.onnx: coords float32 [batch, k] (PCA coordinates) -> pixels float32 [batch, H, W] in [0, 1]
    const out = await this.graph.run({ coords: this.graph.tensor(flat, [batch.length, this.k]) });
    const pixels = out.pixels.data;
    const n = this.height * this.width;
    return batch.map((_, i) => pixels.slice(i * n, (i + 1) * n));
  }
}

const KINDS = { image: ImageModel };

/** Load the bundle whose manifest is at `src` (resolved against the page). */
export async function loadModel(src) {
  const url = new URL(src, document.baseURI).href;
  const manifest = await fetchManifest(url);
  const Kind = KINDS[manifest.kind];
  if (!Kind) throw new Error(`${url}: bundle kind "${manifest.kind}" is not supported by this element`);
  return Kind.load(manifest, url);
}
