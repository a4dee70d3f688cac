// Encoders: model input in, full points out (typed arrays, no DOM). Also the preprocessing the
// manifest's `image.preprocess` names, as pure functions of pixel arrays, so a drawing or a
// dropped picture reaches the encoder the way the training images were made.

/** encoder.onnx for images. */
export class ImageEncoder {
  constructor(graphs, manifest) {
    this.graph = graphs.encoder;
    this.Z = manifest.latent.size;
    this.height = manifest.image.height;
    this.width = manifest.image.width;
    this.channels = manifest.image.channels ?? 1;
  }

  /** pixels: Float32Array [n * H * W] (grey) or [n * H * W * 3] (RGB) in [0, 1] -> coords Float32Array [n * Z]. */
  async encode(pixels, n) {
    const dims = this.channels === 3 ? [n, this.height, this.width, 3] : [n, this.height, this.width];
    // encoder.onnx: pixels float32 [n, H, W] or [n, H, W, 3] in [0, 1] -> coords float32 [n, Z] (full PCA coordinates)
    const { coords } = await this.graph.run({ pixels: { data: pixels, dims } });
    return coords.data;
  }
}

/**
 * encoder.onnx for sentences. It reads w1..wn </s> then <pad> up to max_len, with the length
 * n + 1; a sentence longer than max_len - 1 tokens is cut so its </s> still fits.
 */
export class SentenceEncoder {
  constructor(graphs, manifest) {
    this.graph = graphs.encoder;
    this.Z = manifest.latent.size;
    this.maxLen = manifest.text.max_len;
    this.specials = manifest.text.specials;
  }

  /** Token id lists -> {tokens BigInt64Array [n * max_len], lengths BigInt64Array [n], kept: ids read per row}. */
  inputs(idLists) {
    const n = idLists.length;
    const T = this.maxLen;
    const tokens = new BigInt64Array(n * T).fill(BigInt(this.specials.pad));
    const lengths = new BigInt64Array(n);
    const kept = idLists.map((ids, b) => {
      const row = ids.slice(0, T - 1);
      [...row, this.specials.eos].forEach((id, t) => { tokens[b * T + t] = BigInt(id); });
      lengths[b] = BigInt(row.length + 1);
      return row;
    });
    return { tokens, lengths, kept };
  }

  /** idLists: n arrays of token ids (no specials) -> {coords Float32Array [n * Z], kept: the ids read per row}. */
  async encode(idLists) {
    const { tokens, lengths, kept } = this.inputs(idLists);
    const n = idLists.length;
    // encoder.onnx: tokens int64 [n, max_len] (w1..wn </s> <pad>…), lengths int64 [n] (n + 1)
    //            -> coords float32 [n, Z] (full PCA coordinates)
    const { coords } = await this.graph.run({ tokens: { data: tokens, dims: [n, this.maxLen] }, lengths: { data: lengths, dims: [n] } });
    return { coords: coords.data, kept };
  }
}

/** The encoder a (checked) manifest's graphs make, or null when the bundle has none. */
export function makeEncoder(graphs, manifest) {
  if (!graphs.encoder) return null;
  return manifest.kind === 'image' ? new ImageEncoder(graphs, manifest) : new SentenceEncoder(graphs, manifest);
}

// --- image preprocessing ------------------------------------------------------------------------

/** `image.preprocess` with the exporter's defaults: light ink (1) on a dark ground (0), area-averaged. */
export function preprocessOf(manifest) {
  return { background: 0, ink: 1, resize: 'area', ...manifest.image.preprocess };
}

/**
 * Area averaging, exactly: `rgba` is a (s·W) × (s·H) picture (4 bytes a pixel) and each output
 * value is the mean of its s × s block / 255. With `channels` 1 the picture is grey (the red
 * byte is the luminance) and the result Float32Array [H * W]; with 3 it is [H * W * 3], RGB
 * interleaved, as the model's [H, W, 3] takes it.
 */
export function areaAverage(rgba, width, height, s, channels = 1) {
  const out = new Float32Array(width * height * channels);
  const stride = width * s * 4;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let dy = 0; dy < s; dy++) {
          let i = (y * s + dy) * stride + x * s * 4 + c;
          for (let dx = 0; dx < s; dx++, i += 4) sum += rgba[i];
        }
        out[(y * width + x) * channels + c] = sum / (255 * s * s);
      }
    }
  }
  return out;
}

/** Grey levels in [0, 1] of an RGBA picture (alpha already composited), ITU-R BT.601 luma, written back as grey RGBA. */
export function toGrey(rgba) {
  for (let i = 0; i < rgba.length; i += 4) {
    const g = Math.round(0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2]);
    rgba[i] = rgba[i + 1] = rgba[i + 2] = g;
    rgba[i + 3] = 255;
  }
  return rgba;
}

/**
 * Whether a picture's border (its outermost ring of pixels) is on average nearer the ink than
 * the background: a scan of dark ink on white paper, say, where the model learnt light ink on a
 * dark ground. Such a picture is inverted (`invert`) before it is encoded.
 */
export function borderIsInk(pixels, width, height, { background, ink }) {
  let sum = 0;
  let count = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (y === 0 || x === 0 || y === height - 1 || x === width - 1) { sum += pixels[y * width + x]; count++; }
    }
  }
  const border = sum / count;
  return Math.abs(border - ink) < Math.abs(border - background);
}

/** Swap ink and background: v -> background + ink - v. */
export const invert = (pixels, { background, ink }) => pixels.map((v) => background + ink - v);
