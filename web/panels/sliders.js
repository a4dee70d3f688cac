// The sliders: one per axis (core/axes.js): the manifest's `axes` (leading PCA components, then
// named directions) and the user's own directions (an edit on the drawing pad, or set by the
// page through el.directions). A component slider sets its coordinate; a direction slider shows
// the point's position along its unit vector and a move adds the change times the vector
// (coords + a·v, through the same decoder graph). Either way the slider edits the full point on
// show, never a projection of it, so every other coordinate stays exact.
import { el, setText } from '../dom.js';
import { setValue, sigmaOf, valueOf } from '../core/axes.js';

export const style = `
  .axis { display: grid; grid-template-columns: minmax(6em, 9em) minmax(80px, 1fr) 4em; gap: 8px; align-items: center; }
  .axis output { font-variant-numeric: tabular-nums; text-align: right; }
  .axis label { overflow-wrap: anywhere; }
  .axis.direction label { color: #0b5394; }
  .axis.user label { font-style: italic; }
`;

export function sliders(ctx) {
  const { manifest, std } = ctx.model;
  const box = el('div', { className: 'sliders' });
  let rows = [];

  function build() {
    rows = ctx.axes.map((axis, i) => {
      const id = `axis-${i}`;
      const sigma = sigmaOf(axis, std);
      const input = el('input', { type: 'range', id, min: axis.min, max: axis.max, step: (axis.max - axis.min) / 1000, value: 0 });
      const out = el('output', { htmlFor: id });
      input.addEventListener('input', () => ctx.move(setValue(axis, ctx.point, input.valueAsNumber), 'slider', { axis: axis.name }));
      const ratio = axis.component !== undefined ? manifest.pca.explained_variance_ratio[axis.component] : null;
      const text = ratio === null ? axis.name : `${axis.name} (${(100 * ratio).toFixed(1)}% var.)`;
      const label = el('label', { htmlFor: id, textContent: text });
      if (axis.direction) label.title = axis.user ? 'your direction (from an edit)' : `named direction: ${axis.name}`;
      const kind = axis.direction ? `axis direction${axis.user ? ' user' : ''}` : 'axis';
      return { axis, sigma, input, out, row: el('div', { className: kind }, [label, input, out]) };
    });
    box.replaceChildren(...rows.map((r) => r.row));
    sync();
  }

  function sync() {
    const point = ctx.point;
    if (point.length === 0) return;
    for (const { axis, sigma, input, out } of rows) {
      const v = valueOf(axis, point);
      if (input.valueAsNumber !== v) input.value = v; // the slider clamps; the point keeps its value
      setText(out, `${(v / sigma).toFixed(2)}σ`);
    }
  }

  ctx.on('latent-change', sync);
  ctx.on('latent-directions', build);
  build();
  return box;
}
