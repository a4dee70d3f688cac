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
 * Greedy decoding of a sentence VAE in one session.run: manifest.text.variant "loop" (loop.onnx,
 * an ONNX Loop that stops once every row has emitted </s>) or "unrolled" (greedy.onnx, all
 * max_len steps). Either way a row is cut before its first </s>, so <s>, </s> and <pad> never
 * reach the page.
 */
export class SentenceDecoder {
  constructor(graphs, manifest) {
    this.graph = graphs.loop ?? graphs.greedy;
    this.Z = manifest.latent.size;
    this.specials = manifest.text.specials; // {pad, unk, bos, eos} -> ids
  }

  /** Ids of one row (no <s>), cut before the first </s>, no <pad>. */
  row(ids) {
    const end = ids.indexOf(this.specials.eos);
    return (end < 0 ? ids : ids.slice(0, end)).filter((i) => i !== this.specials.pad && i !== this.specials.bos);
  }

  /** coords: Float32Array [n * Z] -> one array of token ids per row (the page turns them into text: sentenceOf). */
  async decode(coords, n) {
    // loop.onnx:   coords float32 [n, Z] -> tokens int64 [n, steps], steps <= max_len
    // greedy.onnx: coords float32 [n, Z] -> tokens int64 [n, max_len], logits float32 [n, max_len, V]
    const { tokens } = await this.graph.run({ coords: { data: coords, dims: [n, this.Z] } });
    const T = tokens.dims[1];
    return Array.from({ length: n }, (_, b) => this.row(Array.from(tokens.data.subarray(b * T, (b + 1) * T), Number)));
  }
}

/** The decoder a (checked) manifest's graphs make. */
export function makeDecoder(graphs, manifest) {
  return manifest.kind === 'image' ? new ImageDecoder(graphs, manifest) : new SentenceDecoder(graphs, manifest);
}

/** A decoded row of ids -> {ids, tokens, text}, through the bundle's tokenizer (core/tokenizer.js). */
// A loop graph has no logits whose size the manifest checks against the tokenizer: its ids are checked here.
export function sentenceOf(ids, tokenizer) {
  const outside = ids.find((i) => !(i >= 0 && i < tokenizer.size));
  if (outside !== undefined) throw new Error(`the decoder gave token id ${outside}, outside the tokenizer's ${tokenizer.size} entries`);
  return { ids, tokens: ids.map((i) => tokenizer.token(i)), text: tokenizer.decode(ids) };
}
