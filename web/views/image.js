// Shows decoded images: a canvas with one canvas pixel per image pixel, scaled up by CSS with
// `image-rendering: pixelated`, so it stays crisp and holds exact pixels (tests compare them with
// Python's decode within 1/255).
//
// The main picture is two canvases, one over the other: under it the poster (the bundle's own
// decode of the first point, painted by the page before the graphs have loaded), and over it the
// live canvas, transparent until its first decode covers the poster pixel for pixel. Where the
// decoding runs in a worker, the page hands the live canvas over (an OffscreenCanvas) and the
// worker paints each decode itself: the picture reaches the screen without waiting for the
// page's thread, busy with the frame the input caused (benchmarks/offscreen_probe.py).
import { paint, painter } from '../core/paint.js';

function canvas(width, height, className) {
  const c = Object.assign(document.createElement('canvas'), { width, height, className });
  const ctx = c.getContext('2d');
  return { c, ctx, image: ctx.createImageData(width, height) };
}

export class ImageView {
  static style = `
    .picture { position: relative; width: fit-content; max-width: 100%; }
    canvas.main { position: relative; display: block; width: var(--latent-explorer-size, 256px); max-width: 100%; background: transparent; }
    canvas.under { position: absolute; inset: 0; width: 100%; height: 100%; } /* before .main, so under it */
    canvas { image-rendering: pixelated; background: #000; border-radius: 4px; }
    canvas.thumb { width: 56px; }
  `;

  constructor(model) {
    this.width = model.manifest.image.width;
    this.height = model.manifest.image.height;
    this.channels = model.manifest.image.channels ?? 1;
    this.live = Object.assign(document.createElement('canvas'), { width: this.width, height: this.height, className: 'main' });
    this.live.part = 'canvas';
    this.live.setAttribute('role', 'img');
    this.live.setAttribute('aria-label', 'decoded image');
    this.under = Object.assign(document.createElement('canvas'), { width: this.width, height: this.height, className: 'under' });
    this.under.setAttribute('aria-hidden', 'true');
    this.element = Object.assign(document.createElement('div'), { className: 'picture' });
    this.element.append(this.under, this.live);
    this.inHost = undefined; // whether the decoding worker paints the live canvas: decided at the first live paint
    this.painted = false;    // whether the live canvas holds a decode (until then the poster shows)
  }

  /**
   * The bundle's poster (manifest.poster: its decode of the first point, 8-bit pixels as
   * base64, H × W or H × W × 3), painted under the live canvas as a decode is, so the live
   * decode covers it exactly.
   */
  poster({ pixels }) {
    const bytes = Uint8Array.from(atob(pixels), (c) => c.charCodeAt(0)); // its length is checked with the manifest
    painter(this.under, this.channels).paint(Float32Array.from(bytes, (b) => b / 255));
  }

  /**
   * Show the decode of `point` (`ready`: that decode, if it came with the point, as the drawing
   * pad's encode brings it: {row, seq?, at?}). Resolves to when the pixels were put, on the
   * page's clock.
   */
  async render(model, point, ready) {
    this.inHost ??= model.showIn(this.live, this.channels);
    let at;
    if (!this.inHost) {
      const row = ready?.row ?? (await model.decode([point]))[0];
      this.pagePainter ??= painter(this.live, this.channels);
      this.pagePainter.paint(row);
      at = performance.now();
    } else {
      // the worker painted `ready` already, unless it has painted anything since
      const painted = !ready ? await model.paintPoint(point) : ready.seq === model.seq ? ready : await model.paint(ready.row);
      at = painted.at - performance.timeOrigin;
    }
    this.painted = true;
    return at;
  }

  /** What the picture shows now: an ImageData (RGBA), read from the canvas that holds it. */
  async snapshot(model) {
    if (this.painted && this.inHost) return model.snapshot();
    return painter(this.painted ? this.live : this.under).read();
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
