// Two (or one) <select>s choosing axes for the latent map and the live grid: any PCA component or
// named direction, the user's own directions included as soon as they are made.
import { el } from '../dom.js';

const ROLES = ['x', 'y'];

/**
 * list(): the axes to choose from (called afresh when directions change). Calls onChange() when
 * the choice changes. `what` names the panel in the selects' labels ("map x axis").
 */
export function axisPicker(ctx, list, onChange, what, count = 2) {
  let axes = list();
  const selects = ROLES.slice(0, count).map((role, i) => {
    const select = el('select', { ariaLabel: `${what} ${role} axis` });
    select.addEventListener('change', onChange);
    fill(select, axes, i);
    return select;
  });
  ctx.on('latent-directions', () => {
    const chosen = selects.map((s) => axes[Number(s.value)]?.name);
    axes = list();
    selects.forEach((s, i) => {
      const j = axes.findIndex((a) => a.name === chosen[i]);
      fill(s, axes, j >= 0 ? j : i);
    });
    onChange();
  });
  const element = el('div', { className: 'picks' }, selects.flatMap((s, i) => [
    el('span', { textContent: count === 1 ? 'along' : i === 0 ? 'across' : 'up' }), s]));
  return { element, selects, axes: () => selects.map((s) => axes[Number(s.value)]) };
}

function fill(select, axes, index) {
  select.replaceChildren(...axes.map((a, i) => el('option', { value: String(i), textContent: a.name })));
  select.value = String(Math.min(index, axes.length - 1));
}
