// Paints decoded images: a canvas with one canvas pixel per image pixel, scaled up by CSS
// with `image-rendering: pixelated`, so it stays crisp and getImageData reads exact pixels
// (tests compare them with Python's decode within 1/255). Grey images are white on black;
// RGB images (image.channels 3) come interleaved, [H, W, 3].
const byte = (v) => Math.round(Math.min(1, Math.max(0, v)) * 255);

export function paint(ctx, image, pixels, channels = 1) {
  const rgba = image.data;
  const n = pixels.length / channels;
  for (let i = 0; i < n; i++) {
    if (channels === 3) {
      rgba[4 * i] = byte(pixels[3 * i]);
      rgba[4 * i + 1] = byte(pixels[3 * i + 1]);
      rgba[4 * i + 2] = byte(pixels[3 * i + 2]);
    } else {
      rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = byte(pixels[i]);
    }
    rgba[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

function canvas(width, height, className) {
  const c = Object.assign(document.createElement('canvas'), { width, height, className });
  const ctx = c.getContext('2d');
  return { c, ctx, image: ctx.createImageData(width, height) };
}

export class ImageView {
  static style = `
    canvas.main { width: var(--latent-explorer-size, 256px); max-width: 100%; }
    canvas { image-rendering: pixelated; background: #000; border-radius: 4px; }
    canvas.thumb { width: 56px; }
  `;

  constructor(model) {
    this.width = model.manifest.image.width;
    this.height = model.manifest.image.height;
    this.channels = model.manifest.image.channels ?? 1;
    ({ c: this.element, ctx: this.ctx, image: this.image } = canvas(this.width, this.height, 'main'));
    this.element.part = 'canvas';
    this.element.setAttribute('role', 'img');
    this.element.setAttribute('aria-label', 'decoded image');
  }

  /** pixels: Float32Array of H*W (grey) or H*W*3 (RGB) values in [0, 1]. */
  show(pixels) {
    paint(this.ctx, this.image, pixels, this.channels);
  }

  /**
   * The bundle's poster (manifest.poster: its decode of the first point, 8-bit pixels as
   * base64, H × W or H × W × 3), painted as a decode is, so the live decode replaces it exactly.
   */
  poster({ pixels }) {
    const bytes = Uint8Array.from(atob(pixels), (c) => c.charCodeAt(0)); // its length is checked with the manifest
    paint(this.ctx, this.image, Float32Array.from(bytes, (b) => b / 255), this.channels);
  }

  /** A small canvas for a row of the interpolation table. */
  thumbnail(pixels) {
    const { c, ctx, image } = canvas(this.width, this.height, 'thumb');
    paint(ctx, image, pixels, this.channels);
    return c;
  }

  /** Paint decoded pixels into the 2-D context `g` at (x, y), one canvas pixel per image pixel (the live grid). */
  paintAt(g, pixels, x, y) {
    this.scratch ??= canvas(this.width, this.height, '');
    paint(this.scratch.ctx, this.scratch.image, pixels, this.channels);
    g.drawImage(this.scratch.c, x, y);
  }

  /**
   * A training image as it is: tile i of a sprite (an image of H × W tiles, `columns` to a row,
   * as manifest.map.sprite), drawn into `into` (a thumbnail canvas, made if not given).
   */
  tile(sprite, i, columns, into = canvas(this.width, this.height, 'thumb').c) {
    const [W, H] = [this.width, this.height];
    into.getContext('2d').drawImage(sprite, (i % columns) * W, Math.floor(i / columns) * H, W, H, 0, 0, W, H);
    return into;
  }
}
