// How typical the point on show is (manifest.typicality): its squared Mahalanobis distance
// d² = Σ (coords_i / std_i)² under the training codes' Gaussian, as the share of training codes
// that lie closer to the centre ("further from the data than 97% of training examples"). Far
// out, the decoder is extrapolating: the picture is still exactly what the model does there,
// but the model never saw anything like it. Green up to 90%, amber to 99%, red beyond.
import { el, setText, update } from '../dom.js';
import { mahalanobis2, percentile } from '../core/points.js';

export const style = `
  .meter { display: grid; gap: 2px; max-width: var(--latent-explorer-size, 256px); font-size: 13px; }
  .meter meter { width: 100%; height: 10px; }
  .meter .reading { margin: 0; }
  .meter.far .reading { color: #8a4b00; }
  .meter.out .reading { color: #b00020; font-weight: 600; }
`;

export const LEVELS = { typical: 90, far: 99 };

/** The meter's sentence for a percentile p (0-100). */
export function reading(p) {
  if (p >= 100) return 'Further from the centre of the data than every training example';
  if (p <= 0) return 'Closer to the centre of the data than every training example';
  if (p >= 50) return `Further from the centre of the data than ${p >= 99.9 ? p.toFixed(1) : p.toFixed(0)}% of training examples`;
  return `Closer to the centre of the data than ${(100 - p).toFixed(0)}% of training examples`;
}

export function meter(ctx) {
  const t = ctx.model.manifest.typicality;
  if (!t) return null;
  const std = ctx.model.std;
  const bar = el('meter', { min: 0, max: 100, low: LEVELS.typical, high: LEVELS.far, optimum: 0, ariaLabel: 'typicality' });
  const text = el('p', { className: 'reading', role: 'status' });
  const box = el('div', { className: 'meter', part: 'meter' }, [bar, text]);
  box.title = `d² = Σ (coordinate / its std)², against its quantiles over ${t.n ?? 'the'} training codes`;
  ctx.on('latent-change', () => {
    const d2 = mahalanobis2(ctx.point, std);
    const p = percentile(d2, t.quantiles);
    update(bar, { value: p });
    update(box.dataset, { percentile: String(p), d2: String(d2) });
    setText(text, reading(p));
    update(box, { className: `meter${p >= LEVELS.far ? ' out' : p >= LEVELS.typical ? ' far' : ''}` });
  });
  return box;
}
