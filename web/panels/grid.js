// The live grid: N × N decodes (default 9 × 9, up to 16 × 16) over two chosen axes, centred on
// the point on show and spanning ±k σ along each, decoded in one batch and repainted whenever
// the point moves. Points that arrive mid-decode coalesce into one next batch, as the single
// view does, so a slow decoder drops frames instead of lagging. Sentences: the distinct
// sentences along one axis. Cell (r, c) is point + dx_c·(x axis) + dy_r·(y axis), with
// dx_c = (c − (N−1)/2)·step and dy_r = ((N−1)/2 − r)·step (up is +); clicking a cell goes there.
import { el } from '../dom.js';
import { componentAxes, shift, sigmaOf } from '../core/axes.js';
import { axisPicker } from './axis-picker.js';

export const style = `
  .grid canvas.cells { width: min(480px, 100%); image-rendering: pixelated; cursor: pointer; }
  .grid ol { margin: 0; padding-left: 1.2em; }
  .grid li .at { color: #666; font-size: 12px; font-variant-numeric: tabular-nums; margin-right: 6px; }
  .grid li .row-sentence { display: inline; }
`;

export const SIZES = [5, 7, 9, 12, 16];
export const SPANS = [1, 2, 3];

/** The offsets of N cells spanning ±span σ: (i − (N−1)/2) · step, step = 2·span·σ/(N−1). */
export function offsets(n, span, sigma) {
  const step = (2 * span * sigma) / (n - 1);
  return Array.from({ length: n }, (_, i) => (i - (n - 1) / 2) * step);
}

export function grid(ctx) {
  const { manifest, std } = ctx.model;
  const text = ctx.model.kind === 'text';
  const pick = axisPicker(ctx, () => [...componentAxes(manifest), ...ctx.axes.filter((a) => a.direction)], refresh, 'grid', text ? 1 : 2);
  const choose = (label, values, initial, show) => {
    const s = el('select', { ariaLabel: label });
    s.append(...values.map((v) => el('option', { value: String(v), textContent: show(v) })));
    s.value = String(initial);
    s.addEventListener('change', refresh);
    return s;
  };
  const size = choose(text ? 'grid steps' : 'grid size', SIZES, 9, (n) => (text ? `${n} steps` : `${n} × ${n}`));
  const span = choose('grid span', SPANS, 2, (k) => `±${k}σ`);
  pick.element.append(size, span);
  const { width: W, height: H } = manifest.image ?? {};
  const canvas = text ? null : el('canvas', { className: 'cells' });
  if (canvas) { canvas.setAttribute('role', 'img'); canvas.setAttribute('aria-label', 'grid of decodes around the point'); }
  const list = text ? el('ol', { className: 'sentences' }) : null;
  const note = el('p', { className: 'note', hidden: true });

  /** The grid's points around `point`, row-major (images: N × N; text: N along one axis). */
  function cells(point) {
    const [ax, ay] = pick.axes();
    const n = Number(size.value);
    const k = Number(span.value);
    const dx = offsets(n, k, sigmaOf(ax, std));
    if (text) return { n, dx, points: dx.map((d) => shift(ax, point, d)) };
    const dy = offsets(n, k, sigmaOf(ay, std)).reverse(); // row 0 at the top: the largest y
    return { n, dx, points: dy.flatMap((b) => dx.map((a) => shift(ay, shift(ax, point, a), b))) };
  }

  let shown = null;      // the cells last painted
  let dirty = false;
  let running = false;
  async function refresh() {
    if (!details.open || ctx.point.length === 0) return;
    dirty = true;
    if (running) return;
    running = true;
    try {
      while (dirty && !ctx.signal.aborted) {
        dirty = false;
        const grid = cells(ctx.point);
        const rows = await ctx.model.decode(grid.points); // one batch: N·N points
        if (ctx.signal.aborted) break;
        paint(grid, rows);
        shown = grid;
        details.dataset.painted = String(Number(details.dataset.painted ?? 0) + 1);
        details.dispatchEvent(new CustomEvent('grid-render', { detail: { points: grid.points } }));
      }
      note.hidden = true;
    } catch (e) {
      if (!ctx.signal.aborted) { note.textContent = `Could not decode the grid: ${e.message}`; note.hidden = false; }
    } finally {
      running = false;
    }
  }

  function paint({ n, dx }, rows) {
    if (text) {
      const [ax] = pick.axes();
      const sigma = sigmaOf(ax, std);
      const runs = [];
      rows.forEach((r, i) => {
        if (runs.length && runs.at(-1).text === r.text) runs.at(-1).to = dx[i];
        else runs.push({ text: r.text, result: r, from: dx[i], to: dx[i] });
      });
      const at = (v) => `${v < 0 ? '−' : '+'}${Math.abs(v / sigma).toFixed(2)}σ`;
      list.replaceChildren(...runs.map((r) => el('li', {}, [
        el('span', { className: 'at', textContent: r.from === r.to ? at(r.from) : `${at(r.from)} … ${at(r.to)}` }),
        ctx.view.thumbnail(r.result)])));
      return;
    }
    if (canvas.width !== n * W) { canvas.width = n * W; canvas.height = n * H; }
    const g = canvas.getContext('2d');
    rows.forEach((pixels, i) => ctx.view.paintAt(g, pixels, (i % n) * W, Math.floor(i / n) * H));
  }

  canvas?.addEventListener('click', (e) => {
    if (!shown) return;
    const r = canvas.getBoundingClientRect();
    const c = Math.min(shown.n - 1, Math.floor(((e.clientX - r.left) / r.width) * shown.n));
    const row = Math.min(shown.n - 1, Math.floor(((e.clientY - r.top) / r.height) * shown.n));
    ctx.move(shown.points[row * shown.n + c].slice(), 'grid');
  });

  ctx.on('latent-change', refresh);
  const details = el('details', { className: 'grid', part: 'grid', open: ctx.open('grid') }, [
    el('summary', { textContent: text ? 'Sentences along an axis' : 'Live grid of decodes' }),
    pick.element, canvas ?? list, note,
  ]);
  details.addEventListener('toggle', refresh);
  return details;
}
