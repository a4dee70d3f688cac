// Interpolation between two real examples (the "homotopy" of Bowman et al. 2016): a table of
// points decoded along the line between their codes, in one batch, and a continuous slider
// that moves the element itself along that line.
import { anchorLabel, el } from './dom.js';

const lerp = (a, b, t) => a.map((v, i) => (1 - t) * v + t * b[i]);

export function interpolation(explorer, model, view, steps = 7) {
  const anchors = model.manifest.anchors;
  const pick = (label, index) => {
    const select = el('select', { ariaLabel: label });
    anchors.forEach((a, i) => select.append(el('option', { value: String(i), textContent: anchorLabel(model.manifest, a) })));
    select.value = String(index);
    return select;
  };
  const from = pick('interpolate from', 0);
  const to = pick('interpolate to', Math.min(1, anchors.length - 1));
  const t = el('input', { type: 'range', min: 0, max: 1, step: 0.001, value: 0, ariaLabel: 'position between the two examples' });
  const rows = el('tbody');
  const ends = () => [anchors[Number(from.value)].coords, anchors[Number(to.value)].coords];

  let pending = null;
  async function refresh() {
    const [a, b] = ends();
    const ts = Array.from({ length: steps }, (_, i) => i / (steps - 1));
    const request = (pending = model.decode(ts.map((s) => lerp(a, b, s))));
    const results = await request;
    if (request !== pending) return; // a newer choice is being decoded
    rows.replaceChildren(...results.map((r, i) => el('tr', {}, [
      el('td', { textContent: ts[i].toFixed(2) }), el('td', {}, [view.thumbnail(r)])])));
  }
  const move = () => { explorer.coords = lerp(...ends(), t.valueAsNumber); };
  from.addEventListener('change', () => { refresh(); move(); });
  to.addEventListener('change', () => { refresh(); move(); });
  t.addEventListener('input', move);

  const details = el('details', { className: 'interpolate', open: model.manifest.kind === 'text' }, [
    el('summary', { textContent: 'Interpolate between two examples' }),
    el('div', { className: 'ends' }, [from, t, to]),
    el('table', {}, [el('thead', {}, [el('tr', {}, [el('th', { textContent: 't' }), el('th', { textContent: 'decoded' })])]), rows]),
  ]);
  details.addEventListener('toggle', () => { if (details.open) refresh(); });
  if (details.open) refresh();
  return details;
}
