// The drawing pad (image bundles with graphs.encoder): draw with mouse, touch or pen, or drop,
// paste or open a picture, and the point moves to what the encoder makes of it while you draw.
//
// The pad is a canvas of s·W × s·H pixels for an integer s, painted in the manifest's
// `image.preprocess` colours (light ink 1.0 on a dark ground 0.0 by default). What the encoder
// reads is its area average: the mean of each s × s block of grey levels / 255, exactly the
// H × W picture the training images were made as. That picture is also handed out in the
// `latent-change` event (detail.input), so anyone can check it. For a colour model
// (image.channels 3) the ink has a colour the user picks, and each of R, G, B is averaged alike.
//
// Encoding follows the pen the way the slider path does: at most one encode (and its decode)
// in flight, and the latest strokes win, so a slow model drops frames instead of lagging.
import { el } from '../dom.js';
import { areaAverage, borderIsInk, invert, preprocessOf, toGrey } from '../core/encoders.js';

export const style = `
  .pad { display: grid; grid-template-columns: minmax(0, auto); gap: 6px; justify-items: start; max-width: 100%; }
  .pad canvas { width: var(--latent-explorer-size, 256px); max-width: 100%; touch-action: none; cursor: crosshair;
                border-radius: 4px; outline: 1px dashed #888; outline-offset: 2px; }
  .pad canvas:focus-visible { outline: 2px solid #1a73e8; }
  .pad canvas.over { outline: 2px solid #1a73e8; }
  .pad .tools { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
  .pad .tools input[type=range] { width: 6em; }
  .pad input[type=file] { display: none; }
  .pad .note, .pad .caption { max-width: var(--latent-explorer-size, 256px); }
`;

/** The pad's side in canvas pixels is about this; s = round(PAD_PX / max(W, H)). */
const PAD_PX = 256;
const grey = (v) => `rgb(${Math.round(v * 255)}, ${Math.round(v * 255)}, ${Math.round(v * 255)})`;

export function drawingPad(ctx) {
  const { width: W, height: H } = ctx.model.manifest.image;
  const channels = ctx.model.manifest.image.channels ?? 1;
  const prep = preprocessOf(ctx.model.manifest);
  const s = Math.max(1, Math.round(PAD_PX / Math.max(W, H)));
  const canvas = el('canvas', { width: s * W, height: s * H, tabIndex: 0, className: 'pad-canvas' });
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', 'drawing pad: draw here, or drop or paste an image');
  const g = canvas.getContext('2d', { willReadFrequently: true });
  g.lineCap = g.lineJoin = 'round';

  // Brush width in image pixels (the training images' strokes are about a tenth of their side).
  const side = Math.max(W, H);
  const brush = el('input', { type: 'range', id: 'brush', min: 0.5, max: Math.max(3, Math.round(side / 4)), step: 0.5,
    value: Math.max(1.5, Math.round(side / 5) / 2) });
  const clear = el('button', { type: 'button', textContent: 'Clear' });
  // Colour models: the ink's colour (a grey model's ink is the preprocess grey, light on dark).
  const colour = channels === 3 ? el('input', { type: 'color', id: 'ink', value: '#ff3333' }) : null;
  const file = el('input', { type: 'file', accept: 'image/*' });
  const open = el('button', { type: 'button', textContent: 'Open image…' });
  const note = el('p', { className: 'note', role: 'status', hidden: true });
  const say = (text) => { note.textContent = text; note.hidden = !text; };

  // The area average is kept, and a stroke re-reads only the s × s blocks it touched: reading the
  // whole pad on every pen move allocated its 0.25 MB again each time, and the page's garbage
  // collector paid for it while the user drew (a 10 ms pause in a traced pen drag).
  const average = new Float32Array(H * W * channels);
  let touched = null; // [x0, y0, x1, y1]: the blocks, in block units, drawn on since the last read
  const touchAll = () => { touched = [0, 0, W, H]; };
  const touch = (x0, y0, x1, y1) => {
    const box = [Math.max(0, Math.floor(x0 / s)), Math.max(0, Math.floor(y0 / s)),
      Math.min(W, Math.ceil(x1 / s)), Math.min(H, Math.ceil(y1 / s))];
    touched = touched ? [Math.min(touched[0], box[0]), Math.min(touched[1], box[1]),
      Math.max(touched[2], box[2]), Math.max(touched[3], box[3])] : box;
  };
  const blank = () => { g.fillStyle = grey(prep.background); g.fillRect(0, 0, canvas.width, canvas.height); touchAll(); };
  blank();
  /** The pad as the encoder reads it: Float32Array [H * W] (grey) or [H * W * 3] (RGB), a fresh copy. */
  const pixels = () => {
    if (touched) {
      const [x0, y0, x1, y1] = touched;
      touched = null;
      if (x1 > x0 && y1 > y0) {
        const part = areaAverage(g.getImageData(x0 * s, y0 * s, (x1 - x0) * s, (y1 - y0) * s).data, x1 - x0, y1 - y0, s, channels);
        const row = (x1 - x0) * channels;
        for (let y = y0; y < y1; y++) average.set(part.subarray((y - y0) * row, (y - y0 + 1) * row), (y * W + x0) * channels);
      }
    }
    return average.slice();
  };

  // --- encode while drawing: one encode + decode in flight, the latest input wins ---------------
  let dirty = false;
  let running = false;
  let source = 'drawing';
  async function follow() {
    running = true;
    try {
      while (dirty && !ctx.signal.aborted) {
        dirty = false;
        const input = pixels();
        // pixels Float32Array [1 * H * W (* 3)] -> coords Float32Array [1 * Z] and their decode, in one
        // job (which the worker paints at once where it holds the picture: seq and at say when)
        const { coords, rows: [row], seq, at } = await ctx.model.encoder.encodeAndDecode(input, 1);
        if (ctx.signal.aborted) break;
        await ctx.move(Array.from(coords), source, input, { row, seq, at });
      }
    } catch (e) {
      if (!ctx.signal.aborted) say(`Could not encode the drawing: ${e.message}`);
    } finally {
      running = false;
    }
  }
  const changed = (from) => {
    source = from;
    dirty = true;
    if (!running) follow();
  };

  // --- strokes -------------------------------------------------------------------------------
  let last = null;
  let rect = null; // taken once per stroke: reading layout on every move would force a layout per move
  const at = (e) => [(e.clientX - rect.left) * (canvas.width / rect.width), (e.clientY - rect.top) * (canvas.height / rect.height)];
  const stroke = (points) => {
    g.strokeStyle = g.fillStyle = colour ? colour.value : grey(prep.ink);
    g.lineWidth = brush.valueAsNumber * s;
    const reach = g.lineWidth / 2 + 2; // the brush's radius and its anti-aliased edge
    for (const p of points) {
      const from = last ?? p;
      touch(Math.min(from[0], p[0]) - reach, Math.min(from[1], p[1]) - reach,
        Math.max(from[0], p[0]) + reach, Math.max(from[1], p[1]) + reach);
      g.beginPath();
      if (last) {
        g.moveTo(...last);
        g.lineTo(...p);
        g.stroke();
      } else {
        g.arc(p[0], p[1], g.lineWidth / 2, 0, 2 * Math.PI);
        g.fill();
      }
      last = p;
    }
  };
  canvas.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    e.preventDefault(); // no text selection or scrolling; so focus (for paste) is taken by hand
    canvas.focus({ preventScroll: true });
    try { canvas.setPointerCapture(e.pointerId); } catch { /* a synthetic event has no pointer to capture */ }
    last = null;
    rect = canvas.getBoundingClientRect();
    stroke([at(e)]);
    changed('drawing');
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!last) return;
    const events = e.getCoalescedEvents?.() ?? [];
    stroke((events.length ? events : [e]).map(at));
    changed('drawing');
  });
  for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) canvas.addEventListener(type, () => { last = null; });

  clear.addEventListener('click', () => { blank(); say(''); });

  /** An H × W picture onto the pad as s × s blocks: its area average is then the picture (to 1/255), and one can draw on. */
  function put(small) {
    const image = new ImageData(W, H);
    small.forEach((v, i) => { image.data.fill(Math.round(Math.min(1, Math.max(0, v)) * 255), 4 * i, 4 * i + 3); image.data[4 * i + 3] = 255; });
    const tiny = el('canvas', { width: W, height: H });
    tiny.getContext('2d').putImageData(image, 0, 0);
    g.imageSmoothingEnabled = false;
    g.drawImage(tiny, 0, 0, s * W, s * H);
    touchAll();
  }
  // What other panels use (panels/edit.js: draw over the decode, then make a direction of the edit).
  ctx.pad = { pixels, put, element: canvas };

  // --- pictures: drop, paste, open --------------------------------------------------------------
  /** A picture drawn over white, contained and centred in a w × h canvas filled with `fill`; its grey RGBA. */
  function fit(bitmap, w, h, fill) {
    const work = el('canvas', { width: w, height: h }).getContext('2d', { willReadFrequently: true });
    work.fillStyle = fill;
    work.fillRect(0, 0, w, h);
    const k = Math.min(w / bitmap.width, h / bitmap.height);
    const [dw, dh] = [k * bitmap.width, k * bitmap.height];
    work.fillStyle = '#fff'; // transparent parts of the picture read as white paper
    work.fillRect((w - dw) / 2, (h - dh) / 2, dw, dh);
    work.imageSmoothingQuality = 'high';
    work.drawImage(bitmap, (w - dw) / 2, (h - dh) / 2, dw, dh);
    return toGrey(work.getImageData(0, 0, w, h).data);
  }

  /** A colour model takes a picture as it is: resized (contained, dark margins) and area-averaged. */
  function loadColour(bitmap) {
    const work = el('canvas', { width: s * W, height: s * H }).getContext('2d', { willReadFrequently: true });
    work.fillStyle = grey(prep.background);
    work.fillRect(0, 0, s * W, s * H);
    const k = Math.min(s * W / bitmap.width, s * H / bitmap.height);
    const [dw, dh] = [k * bitmap.width, k * bitmap.height];
    work.imageSmoothingQuality = 'high';
    work.drawImage(bitmap, (s * W - dw) / 2, (s * H - dh) / 2, dw, dh);
    const small = areaAverage(work.getImageData(0, 0, s * W, s * H).data, W, H, s, 3);
    const image = new ImageData(W, H);
    for (let i = 0; i < W * H; i++) {
      for (let c = 0; c < 3; c++) image.data[4 * i + c] = Math.round(Math.min(1, Math.max(0, small[3 * i + c])) * 255);
      image.data[4 * i + 3] = 255;
    }
    return image;
  }

  async function load(blob) {
    try {
      if (!blob?.type?.startsWith('image/')) throw new Error('not an image file');
      const bitmap = await createImageBitmap(blob);
      if (channels === 3) {
        const tiny = el('canvas', { width: W, height: H });
        tiny.getContext('2d').putImageData(loadColour(bitmap), 0, 0);
        bitmap.close();
        g.imageSmoothingEnabled = false;
        g.drawImage(tiny, 0, 0, s * W, s * H);
        touchAll();
        say(`Your image was resized to ${W} × ${H} and used in colour, as it is.`);
        changed('file');
        return;
      }
      // Which way round is it? Judge the picture's own border (a small copy, no margins).
      const k = Math.min(1, 64 / Math.max(bitmap.width, bitmap.height));
      const [pw, ph] = [Math.max(1, Math.round(k * bitmap.width)), Math.max(1, Math.round(k * bitmap.height))];
      const rgba = fit(bitmap, pw, ph, '#fff');
      const inverted = borderIsInk(Float32Array.from({ length: pw * ph }, (_, i) => rgba[4 * i] / 255), pw, ph, prep);
      // Grey, contained at s·W × s·H, margins of what will be the background, area-averaged to H × W.
      const margin = grey(inverted ? prep.ink : prep.background);
      let small = areaAverage(fit(bitmap, s * W, s * H, margin), W, H, s);
      bitmap.close();
      if (inverted) small = invert(small, prep);
      put(small);
      say(inverted ? 'Your image had a light background, so it was inverted: the model was trained on light ink on a dark ground.'
        : `Your image was made grey and resized to ${W} × ${H}.`);
      changed('file');
    } catch (e) {
      say(`Could not use that file: ${e.message}.`);
    }
  }
  canvas.addEventListener('dragover', (e) => { e.preventDefault(); canvas.classList.add('over'); });
  canvas.addEventListener('dragleave', () => canvas.classList.remove('over'));
  canvas.addEventListener('drop', (e) => {
    e.preventDefault();
    canvas.classList.remove('over');
    load(e.dataTransfer?.files?.[0]);
  });
  canvas.addEventListener('paste', (e) => {
    const item = [...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
    if (item) { e.preventDefault(); load(item); }
  });
  open.addEventListener('click', () => file.click());
  file.addEventListener('change', () => { load(file.files[0]); file.value = ''; });

  return el('div', { className: 'pad', part: 'pad' }, [
    canvas,
    el('p', { className: 'caption', textContent: 'Draw here with a mouse, finger or pen, or drop, paste or open an image.' }),
    el('div', { className: 'tools' }, [
      el('label', { htmlFor: 'brush', textContent: 'brush' }), brush,
      ...(colour ? [el('label', { htmlFor: 'ink', textContent: 'ink' }), colour] : []), clear, open, file,
    ]),
    note,
  ]);
}
