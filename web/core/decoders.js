// Decoders: full points in, model output out. Typed arrays in (a Float32Array of n rows of Z
// coordinates), plain results out, no DOM, so a Web Worker can run them unchanged.

/** decoder.onnx as a function of points. */
export class ImageDecoder {
  constructor(graphs, manifest) {
    this.graph = graphs.decoder;
    this.Z = manifest.latent.size;
    this.height = manifest.image.height;
    this.width = manifest.image.width;
    this.channels = manifest.image.channels ?? 1;
  }

  /** coords: Float32Array [n * Z] -> n Float32Arrays of H*W (grey) or H*W*3 (RGB, interleaved) values in [0, 1]. */
  async decode(coords, n) {
    // decoder.onnx: coords float32 [n, Z] (full PCA coordinates)
    //            -> pixels float32 [n, H, W] (grey) or [n, H, W, 3] (RGB) in [0, 1]
    const { pixels } = await this.graph.run({ coords: { data: coords, dims: [n, this.Z] } });
    const size = this.height * this.width * this.channels;
    return Array.from({ length: n }, (_, i) => pixels.data.slice(i * size, (i + 1) * size));
  }
}

/**
 * Greedy decoding of a sentence VAE. manifest.text.variant says how: "step" runs one GRU step
 * per session.run, looped here; "unrolled" runs the whole greedy loop inside one graph. Either
 * way a row is cut before its first </s>, so <s>, </s> and <pad> never reach the page.
 */
export class SentenceDecoder {
  constructor(graphs, manifest) {
    this.graphs = graphs;
    this.Z = manifest.latent.size;
    this.specials = manifest.text.specials; // {pad, unk, bos, eos} -> ids
    this.maxLen = manifest.text.max_len;
    this.variant = manifest.text.variant;
  }

  /** Ids of one row (no <s>), cut before the first </s>, no <pad>. */
  row(ids) {
    const end = ids.indexOf(this.specials.eos);
    return (end < 0 ? ids : ids.slice(0, end)).filter((i) => i !== this.specials.pad && i !== this.specials.bos);
  }

  /** coords: Float32Array [n * Z] -> one array of token ids per row (the page turns them into text: sentenceOf). */
  decode(coords, n) {
    return this.variant === 'unrolled' ? this.unrolled(coords, n) : this.steps(coords, n);
  }

  async unrolled(coords, n) {
    // greedy.onnx: coords float32 [n, Z] -> tokens int64 [n, max_len], logits float32 [n, max_len, V]
    const { tokens } = await this.graphs.greedy.run({ coords: { data: coords, dims: [n, this.Z] } });
    const T = tokens.dims[1];
    return Array.from({ length: n }, (_, b) => this.row(Array.from(tokens.data.subarray(b * T, (b + 1) * T), Number)));
  }

  async steps(coords, n) {
    const { init, step } = this.graphs;
    // init.onnx: coords float32 [n, Z] -> z float32 [n, Z], hidden float32 [n, H]
    const { z, hidden } = await init.run({ coords: { data: coords, dims: [n, this.Z] } });
    const ids = Array.from({ length: n }, () => []);
    const token = new BigInt64Array(n).fill(BigInt(this.specials.bos));
    let h = hidden;
    let open = n;
    for (let t = 0; t < this.maxLen && open > 0; t++) {
      // step.onnx: token int64 [n], hidden float32 [n, H], z float32 [n, Z]
      //         -> logits float32 [n, V], hidden_out float32 [n, H]
      const out = await step.run({ token: { data: token, dims: [n] }, hidden: h, z });
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

/** The decoder a (checked) manifest's graphs make. */
export function makeDecoder(graphs, manifest) {
  return manifest.kind === 'image' ? new ImageDecoder(graphs, manifest) : new SentenceDecoder(graphs, manifest);
}

/** A decoded row of ids -> {ids, tokens, text}, through the bundle's tokenizer (core/tokenizer.js). */
export const sentenceOf = (ids, tokenizer) => ({ ids, tokens: ids.map((i) => tokenizer.token(i)), text: tokenizer.decode(ids) });
