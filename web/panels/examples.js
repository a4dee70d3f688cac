// Where a point comes from besides the sliders: a real training example (its full
// coordinates, so it shows the model's own reconstruction of that example), a random draw
// from the Gaussian fitted to the training codes at a chosen temperature, or the mean (Reset).
import { anchorLabel, el } from '../dom.js';
import { randomPoint } from '../core/space.js';

export const style = `
  .buttons { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
  .buttons select { max-width: 100%; min-width: 0; flex: 1 1 12em; }
  .temperature { display: inline-flex; gap: 6px; align-items: center; }
  .temperature input { width: 7em; }
  .temperature output { font-variant-numeric: tabular-nums; min-width: 2.5em; }
`;

export function examples(ctx) {
  const { manifest, std, Z } = ctx.model;
  const picker = el('select', { ariaLabel: 'example' }, [el('option', { value: '', textContent: 'Jump to an example…' })]);
  manifest.anchors.forEach((a, i) => picker.append(el('option', { value: String(i), textContent: anchorLabel(manifest, a) })));
  picker.addEventListener('change', () => {
    if (picker.value !== '') ctx.move(manifest.anchors[Number(picker.value)].coords.slice(), 'example');
  });
  ctx.on('latent-change', (e) => { if (e.detail.source !== 'example') picker.value = ''; });

  const temperature = el('input', { type: 'range', min: 0, max: 2, step: 0.05, value: 1, id: 'temperature',
    title: 'How far random draws stray: 0 is the mean, 1 the spread of the training codes' });
  const shown = el('output', { htmlFor: 'temperature', value: '1.00' });
  temperature.addEventListener('input', () => { shown.value = temperature.valueAsNumber.toFixed(2); });
  const random = el('button', { type: 'button', textContent: 'Random' });
  random.addEventListener('click', () => ctx.move(randomPoint(std, temperature.valueAsNumber), 'random'));
  const reset = el('button', { type: 'button', textContent: 'Reset' });
  reset.addEventListener('click', () => ctx.move(new Array(Z).fill(0), 'reset'));

  return el('div', { className: 'buttons' }, [
    picker, random,
    el('span', { className: 'temperature' }, [el('label', { htmlFor: 'temperature', textContent: 'temperature' }), temperature, shown]),
    reset,
  ]);
}
