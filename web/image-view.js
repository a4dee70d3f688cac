// Paints one decoded image: a canvas with one canvas pixel per image pixel, scaled up by CSS
// with `image-rendering: pixelated`, so it stays crisp and getImageData reads exact pixels.
export class ImageView {
  constructor(model) {
    this.canvas = document.createElement('canvas');
    this.canvas.width = model.width;
    this.canvas.height = model.height;
    this.canvas.part = 'canvas';
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', 'decoded image');
    this.ctx = this.canvas.getContext('2d');
    this.image = this.ctx.createImageData(model.width, model.height);
    this.element = this.canvas;
  }

  /** pixels: Float32Array of H*W intensities in [0, 1], shown white on black. */
  show(pixels) {
    const rgba = this.image.data;
    for (let i = 0; i < pixels.length; i++) {
      const g = Math.round(Math.min(1, Math.max(0, pixels[i])) * 255);
      rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = g;
      rgba[4 * i + 3] = 255;
    }
    this.ctx.putImageData(this.image, 0, 0);
  }
}
