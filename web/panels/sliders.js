// The sliders: one per entry of manifest.axes. An axis either moves one coordinate
// (`component`: that number of the point, the rest stay) or moves the point along a Z-vector
// (`direction`: the slider shows the point's position along it, and a move adds the change
// times the vector). Either way the slider edits the full point on show, never a projection
// of it, so moving one slider after picking an example keeps every other coordinate exact.
import { el } from '../dom.js';

export const style = `
  .axis { display: grid; grid-template-columns: minmax(6em, 9em) minmax(80px, 1fr) 4em; gap: 8px; align-items: center; }
  .axis output { font-variant-numeric: tabular-nums; text-align: right; }
`;

const dot = (a, b) => a.reduce((s, v, i) => s + v * b[i], 0);

/** How one axis reads and writes a point. */
function motion(axis, std) {
  if (axis.component !== undefined) {
    const c = axis.component;
    return {
      value: (p) => p[c],
      moved: (p, v) => { const q = p.slice(); q[c] = v; return q; },
      show: (v) => `${(v / std[c]).toFixed(2)}σ`,
    };
  }
  const d = axis.direction;
  const norm2 = dot(d, d) || 1;
  const value = (p) => dot(p, d) / norm2;
  return { value, moved: (p, v) => { const t = v - value(p); return p.map((x, i) => x + t * d[i]); }, show: (v) => v.toFixed(2) };
}

export function sliders(ctx) {
  const { manifest, std } = ctx.model;
  const rows = manifest.axes.map((axis, i) => {
    const m = motion(axis, std);
    const id = `axis-${i}`;
    const input = el('input', { type: 'range', id, min: axis.min, max: axis.max, step: (axis.max - axis.min) / 1000, value: 0 });
    const out = el('output', { htmlFor: id });
    input.addEventListener('input', () => ctx.move(m.moved(ctx.point, input.valueAsNumber), 'slider'));
    const ratio = axis.component !== undefined ? manifest.pca.explained_variance_ratio[axis.component] : null;
    const text = ratio === null ? axis.name : `${axis.name} (${(100 * ratio).toFixed(1)}% var.)`;
    const label = el('label', { htmlFor: id, textContent: text });
    return { m, input, out, row: el('div', { className: 'axis' }, [label, input, out]) };
  });
  ctx.on('latent-change', () => {
    const point = ctx.point;
    for (const { m, input, out } of rows) {
      const v = m.value(point);
      if (input.valueAsNumber !== v) input.value = v; // the slider clamps; the point keeps its value
      out.value = m.show(v);
    }
  });
  return el('div', { className: 'sliders' }, rows.map((r) => r.row));
}
