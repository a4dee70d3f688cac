// The k real training examples (of the latent map's points) whose codes are nearest the point on
// show, as the training images themselves (tiles of the map's sprite), updated as the point moves:
// what the model puts next to this point. Euclidean in coords, ties by row, as
// exporter/space/points.py's `nearest`. Clicking one jumps to its (float16) map coordinates.
import { anchorLabel, el, setText, update } from '../dom.js';
import { nearest as nearestRows } from '../core/points.js';

export const style = `
  .nearest .strip { display: flex; gap: 8px; flex-wrap: wrap; }
  .nearest figure { margin: 0; display: grid; justify-items: center; gap: 2px; font-size: 12px; color: #555; }
  .nearest button { padding: 0; border: 0; background: none; cursor: pointer; border-radius: 4px; }
  .nearest button:focus-visible { outline: 2px solid #1a73e8; }
  .nearest figcaption { max-width: 64px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
`;

export function nearest(ctx, k = 6) {
  const { manifest } = ctx.model;
  if (!manifest.map?.sprite || !ctx.view.tile) return null;
  const strip = el('div', { className: 'strip', role: 'list' });
  const note = el('p', { className: 'note', hidden: true });
  const section = el('section', { className: 'nearest', part: 'nearest' }, [
    el('h3', { textContent: `Nearest training examples (${k})` }), strip, note]);

  let data = null; // {map, sprite} once loaded
  const cells = Array.from({ length: k }, () => {
    const thumb = el('canvas', { width: manifest.image.width, height: manifest.image.height, className: 'thumb' });
    const button = el('button', { type: 'button' }, [thumb]);
    const caption = el('figcaption');
    const figure = el('figure', { role: 'listitem' }, [button, caption]);
    button.addEventListener('click', () => {
      const row = Number(figure.dataset.row);
      const { coords, Z } = data.map;
      ctx.move(Array.from(coords.subarray(row * Z, (row + 1) * Z)), 'nearest');
    });
    return { figure, button, caption };
  });

  function refresh() {
    if (!data || ctx.point.length === 0) return;
    const { map, sprite } = data;
    nearestRows(map, ctx.point, k).forEach(({ row }, i) => {
      const { figure, button, caption } = cells[i];
      const label = map.labels.length ? map.labels[row] : null;
      const name = anchorLabel(manifest, { label, index: map.indices[row] });
      if (figure.dataset.row !== String(row)) ctx.view.tile(sprite, row, map.columns, button.firstChild); // on every move: draw only what changed
      update(figure.dataset, { row: String(row), index: String(map.indices[row]) });
      setText(caption, label === null ? `#${map.indices[row]}` : anchorLabel(manifest, { label }));
      // named, not measured: a distance in the title would restyle six buttons on every move
      update(button, { title: `${name}: click to go there`, ariaLabel: name });
    });
    const shown = cells.slice(0, Math.min(k, map.count)).map((c) => c.figure);
    if (strip.children.length !== shown.length) strip.replaceChildren(...shown);
    section.dataset.updated = String(Number(section.dataset.updated ?? 0) + 1);
  }

  Promise.all([ctx.model.map(ctx.signal), ctx.model.sprite(ctx.signal)]).then(([map, sprite]) => {
    data = { map, sprite };
    refresh();
  }, (e) => {
    if (ctx.signal.aborted) return;
    note.textContent = `Could not load the training examples: ${e.message}`;
    note.hidden = false;
  });
  ctx.on('latent-change', refresh);
  return section;
}
