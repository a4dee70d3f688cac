// What each named direction was measured to do (manifest.directions, written by `latent-explorer
// directions`): real examples moved from −σ·sigma to +σ·sigma along it, decoded, and every pixel
// attribute recomputed; the mean change in each attribute's standard deviations. A direction
// made orthogonal to others also shows its raw effect (before orthogonalization) where that
// differs. A direction is measured before it is believed: this table is the measurement, shown
// as data (textContent), in a row of its own under the sliders it belongs to.
import { el, thousands } from '../dom.js';

export const style = `
  .effects { flex-basis: 100%; min-width: 0; }
  .effects .scroll { overflow-x: auto; max-width: 100%; }
  .effects table { border-collapse: collapse; font-size: 12px; font-variant-numeric: tabular-nums; }
  .effects th, .effects td { padding: 2px 6px; text-align: right; white-space: nowrap; }
  .effects th[scope=row] { text-align: left; font-weight: normal; }
  .effects td.target { font-weight: 700; }
  .effects .raw { color: #666; font-size: 11px; }
`;

/** +1.23 / −0.45, as the README's tables print effects. */
export const signed = (v) => `${v < 0 ? '−' : '+'}${Math.abs(v).toFixed(2)}`;

/** A cell's tint: blue for an increase, red for a decrease, stronger for larger effects. */
const tint = (v) => `rgba(${v < 0 ? '200, 40, 40' : '30, 90, 200'}, ${(Math.min(1, Math.abs(v) / 3) * 0.35).toFixed(3)})`;

export function effects(ctx) {
  const d = ctx.model.manifest.directions;
  if (!d || d.items.length === 0) return null;
  const head = el('tr', {}, [el('th', { scope: 'col', textContent: 'direction' }),
    ...d.attributes.map((a) => el('th', { scope: 'col', textContent: a }))]);
  const rows = d.items.map((item) => {
    const name = item.orthogonal_to.length ? `${item.name} ⟂ ${item.orthogonal_to.join(', ')}` : item.name;
    const target = item.source?.attribute;
    return el('tr', {}, [el('th', { scope: 'row', textContent: name }), ...d.attributes.map((a, j) => {
      const [now, raw] = [signed(item.effect[j]), signed(item.effect_raw[j])];
      const cell = el('td', { textContent: now, className: a === target ? 'target' : '' }, raw === now ? []
        : [el('br'), el('span', { className: 'raw', textContent: `raw ${raw}` })]);
      cell.style.background = tint(item.effect[j]);
      const se = item.effect_se?.[j];
      cell.title = `${item.name} → ${a}: ${now}${se === undefined ? '' : ` ± ${se.toFixed(2)}`} std` +
        (raw === now ? '' : ` (before orthogonalization: ${raw})`);
      return cell;
    })]);
  });
  const n = d.n_examples ? `${thousands(d.n_examples)} real examples` : 'Real examples';
  return el('details', { className: 'effects', open: true }, [
    el('summary', { textContent: 'Measured effects of the directions' }),
    el('p', { className: 'caption', textContent: `${n} moved from −${d.sigma}σ to +${d.sigma}σ along each direction, ` +
      'decoded and measured: the change in each attribute, in its standard deviations (raw: before orthogonalization).' }),
    el('div', { className: 'scroll' }, [el('table', {}, [el('thead', {}, [head]), el('tbody', {}, rows)])]),
  ]);
}
