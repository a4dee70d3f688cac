// Decoded pixels into a 2-D canvas context, one canvas pixel per image pixel. No DOM: the page
// paints with it (views/image.js), and so does the decoding worker (core/host.js), into the
// main picture's OffscreenCanvas. Grey images are white on black; RGB images (image.channels 3)
// come interleaved, [H, W, 3].
const byte = (v) => Math.round(Math.min(1, Math.max(0, v)) * 255);

/** Put `pixels` (Float32Array of H*W or H*W*3 values in [0, 1]) into `ctx` through `image` (an ImageData of W × H). */
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

/** A painter for one canvas (an HTMLCanvasElement's or an OffscreenCanvas's 2-D context). */
export function painter(canvas, channels = 1) {
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(canvas.width, canvas.height);
  return {
    paint: (pixels) => paint(ctx, image, pixels, channels),
    /** What the canvas holds now: an ImageData (RGBA). */
    read: () => ctx.getImageData(0, 0, canvas.width, canvas.height),
  };
}
