// Interpolation between two points (the "homotopy" of Bowman et al. 2016): points decoded
// along the path between two full points, in one batch (a horizontal filmstrip of images, or a
// table of sentences), and a continuous slider that moves the element itself along that path.
// The path is linear or spherical (slerp about the codes' mean; core/space.js). The ends are
// real examples (so the first and last frames are the model's reconstructions of them) or, once
// the user has drawn or typed something, "your drawing" / "your sentence".
import { anchorLabel, el } from '../dom.js';
import { lerp, slerp } from '../core/space.js';

export const style = `
  .interpolate { flex-basis: 100%; min-width: 0; }
  .interpolate .ends { display: flex; gap: 8px; align-items: center; margin: 8px 0; flex-wrap: wrap; }
  .interpolate select { max-width: 16em; min-width: 0; flex: 1 1 8em; }
  .interpolate input[type=range] { flex: 1 1 8em; min-width: 80px; }
  .interpolate td { padding: 2px 8px; vertical-align: middle; }
  .row-sentence { margin: 0; }
  .interpolate .strip { display: flex; gap: 4px; overflow-x: auto; padding-bottom: 4px; }
  .interpolate figure { margin: 0; display: grid; justify-items: center; font-size: 11px; color: #666;
                        font-variant-numeric: tabular-nums; }
`;
const PATHS = { linear: lerp, spherical: slerp };

const YOURS = 'yours';
const INPUT_SOURCES = { drawing: 'your drawing', file: 'your image', sentence: 'your sentence' };

export function interpolation(ctx, steps = 9) {
  const { manifest } = ctx.model;
  const anchors = manifest.anchors;
  let yours = null; // {point, label} once the user has drawn or typed something
  const pick = (label, index) => {
    const select = el('select', { ariaLabel: label });
    anchors.forEach((a, i) => select.append(el('option', { value: String(i), textContent: anchorLabel(manifest, a) })));
    select.value = String(index);
    return select;
  };
  const from = pick('interpolate from', 0);
  const to = pick('interpolate to', Math.min(1, anchors.length - 1));
  const t = el('input', { type: 'range', min: 0, max: 1, step: 0.001, value: 0, ariaLabel: 'position between the two ends' });
  const path = el('select', { ariaLabel: 'interpolation path' }, Object.keys(PATHS).map((p) => el('option', { value: p, textContent: p })));
  const text = manifest.kind === 'text';
  if (text) steps = 7;
  const rows = text ? el('tbody') : el('div', { className: 'strip', role: 'list' });
  const end = (select) => (select.value === YOURS ? yours.point : anchors[Number(select.value)].coords);
  const along = (s) => PATHS[path.value](end(from), end(to), s);

  let pending = null;
  async function refresh() {
    if (!details.open) return;
    const ts = Array.from({ length: steps }, (_, i) => i / (steps - 1));
    const request = (pending = ctx.model.decode(ts.map(along)));
    const results = await request.catch(() => null); // a bundle released under us: nothing to show
    if (request !== pending || !results) return; // a newer choice is being decoded
    rows.replaceChildren(...results.map((r, i) => (text
      ? el('tr', {}, [el('td', { textContent: ts[i].toFixed(2) }), el('td', {}, [ctx.view.thumbnail(r)])])
      : el('figure', { role: 'listitem' }, [ctx.view.thumbnail(r), el('figcaption', { textContent: ts[i].toFixed(2) })]))));
  }
  const move = () => ctx.move(along(t.valueAsNumber), 'interpolate');
  for (const select of [from, to, path]) select.addEventListener('change', () => { refresh(); move(); });
  t.addEventListener('input', move);

  // The user's own input joins both pickers; while they draw, the table follows at a calm pace.
  let timer = null;
  ctx.on('latent-change', (e) => {
    const label = INPUT_SOURCES[e.detail.source];
    if (!label) return;
    const text = e.detail.source === 'sentence' && e.detail.input?.text ? `${label}: ${e.detail.input.text}` : label;
    yours = { point: ctx.point, label: text.length > 60 ? `${text.slice(0, 59)}…` : text };
    for (const select of [from, to]) {
      const option = select.querySelector(`option[value="${YOURS}"]`) ?? select.appendChild(el('option', { value: YOURS }));
      if (option.textContent !== yours.label) option.textContent = yours.label;
    }
    if (from.value === YOURS || to.value === YOURS) {
      clearTimeout(timer);
      timer = setTimeout(refresh, 150);
    }
  });

  const details = el('details', { className: 'interpolate', open: text || ctx.open('interpolate') }, [
    el('summary', { textContent: 'Interpolate between two points' }),
    el('div', { className: 'ends' }, [from, t, to, path]),
    text ? el('table', {}, [el('thead', {}, [el('tr', {}, [el('th', { textContent: 't' }), el('th', { textContent: 'decoded' })])]), rows])
      : rows,
  ]);
  details.addEventListener('toggle', refresh);
  refresh();
  return details;
}
