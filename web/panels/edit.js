// A direction from an edit, the seed's own method: put the decoded image on the drawing pad,
// draw or paste a change over it, and press "Direction from this edit". The direction is
// encode(after) − encode(before), both read off the pad exactly as the encoder reads any drawing;
// it is named, becomes a slider (and an axis of the map and the grid) at once, and is exported by
// el.directions and as JSON, with both pictures, so Python can check or reuse it
// (`latent-explorer directions BUNDLE --edit NAME=BEFORE.npy:AFTER.npy`).
import { el } from '../dom.js';

export const style = `
  .edit { max-width: var(--latent-explorer-size, 256px); font-size: 13px; }
  .edit .row { display: flex; gap: 6px; flex-wrap: wrap; align-items: center; margin-top: 6px; }
  .edit input[type=text] { width: 8em; font: inherit; }
`;

export function edit(ctx) {
  const { model } = ctx;
  let before = null; // the pad's pixels when the edit started
  let made = 0;
  const start = el('button', { type: 'button', textContent: 'Draw over this image' });
  const name = el('input', { type: 'text', value: 'edit 1', ariaLabel: 'name of the direction', maxLength: 64 });
  const make = el('button', { type: 'button', textContent: 'Direction from this edit', disabled: true });
  const download = el('button', { type: 'button', textContent: 'Download directions (JSON)', disabled: true });
  const note = el('p', { className: 'note', role: 'status' });
  const say = (text, error = false) => { note.textContent = text; note.classList.toggle('error', error); };

  start.addEventListener('click', async () => {
    try {
      const [pixels] = await model.decode([ctx.point]); // the decode on show, exactly
      ctx.pad.put(pixels);
      before = ctx.pad.pixels();
      make.disabled = false;
      say('The decoded image is on the pad: draw or paste your change over it, then press "Direction from this edit".');
    } catch (e) {
      if (!ctx.signal.aborted) say(`Could not decode: ${e.message}`, true);
    }
  });

  make.addEventListener('click', async () => {
    const after = ctx.pad.pixels();
    try {
      // ImageEncoder.encode: pixels Float32Array [2 * H * W] (before, after) -> coords Float32Array [2 * Z]
      const pixels = new Float32Array(2 * before.length);
      pixels.set(before, 0);
      pixels.set(after, before.length);
      const coords = await model.encoder.encode(pixels, 2);
      const Z = model.Z;
      const difference = Array.from({ length: Z }, (_, i) => coords[Z + i] - coords[i]);
      const norm = Math.hypot(...difference);
      if (!(norm > 0)) throw new Error('the edit changed nothing the encoder sees; draw a change first');
      const label = name.value.trim();
      ctx.addDirection({ name: label, direction: difference,
        source: { kind: 'edit', norm, difference, before: Array.from(before), after: Array.from(after) } });
      made++;
      name.value = `edit ${made + 1}`;
      say(`"${label}" is a slider now (length of the edit: ${norm.toFixed(3)}).`);
    } catch (e) {
      if (!ctx.signal.aborted) say(`No direction made: ${e.message}`, true);
    }
  });

  download.addEventListener('click', () => {
    const json = JSON.stringify({ format: 'latent-explorer-directions', bundle: model.manifest.name,
      latent_size: model.Z, directions: ctx.explorer.directions }, null, 1);
    const a = el('a', { href: URL.createObjectURL(new Blob([json], { type: 'application/json' })),
      download: `${model.manifest.name}-directions.json` });
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  });
  ctx.on('latent-directions', (e) => { download.disabled = e.detail.directions.length === 0; });

  return el('details', { className: 'edit', open: ctx.open('input') }, [
    el('summary', { textContent: 'Make a direction from an edit' }),
    el('div', { className: 'row' }, [start]),
    el('div', { className: 'row' }, [name, make]),
    el('div', { className: 'row' }, [download]),
    note,
  ]);
}
