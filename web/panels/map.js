// The latent map: the map's training points (manifest.map) as a 2-D scatter on any two axes the
// user picks (PCA components or named directions), coloured by label with a legend; the real
// examples of the picker and the point on show are marked. Click or drag on it, or use the arrow
// keys on it, to move the point: its positions along those two axes change, nothing orthogonal
// to them does (core/axes.js setValues), and the decode follows live.
import { el, setText, thousands, update } from '../dom.js';
import { componentAxes, setValues, valueOf } from '../core/axes.js';
import { axisPicker } from './axis-picker.js';

export const style = `
  .map .plot { display: flex; gap: 12px; flex-wrap: wrap; align-items: flex-start; }
  .map .stage { position: relative; width: min(360px, 100%); flex: none; contain: layout; }
  .map canvas.scatter { display: block; width: 100%; aspect-ratio: 1; background: #fff; image-rendering: auto;
                        outline: 1px solid #ccc; cursor: crosshair; touch-action: none; border-radius: 0; }
  .map .marker { position: absolute; width: 12px; height: 12px; margin: -6px 0 0 -6px; box-sizing: border-box;
                 border: 2px solid #d00; border-radius: 50%; pointer-events: none; }
  .map .marker::before, .map .marker::after { content: ''; position: absolute; background: #d00; }
  .map .marker::before { left: -6px; right: -6px; top: 3px; height: 2px; }
  .map .marker::after { top: -6px; bottom: -6px; left: 3px; width: 2px; }
  .map .marker.outside::before, .map .marker.outside::after { display: none; }
  .map canvas.scatter:focus-visible { outline: 2px solid #1a73e8; }
  .map .legend { list-style: none; margin: 0; padding: 0; font-size: 12px; columns: 2 8em; }
  .map .legend li { display: flex; gap: 6px; align-items: center; }
  .map .swatch { width: 10px; height: 10px; border-radius: 50%; flex: none; }
  .picks { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; margin-bottom: 6px; }
  .picks select { max-width: 12em; }
`;

/** Tableau 10: distinct, and readable to most colour-blind eyes. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const SIZE = 360;   // CSS pixels; the canvas has 2 device pixels per CSS pixel
const K = 2;
const KEY_STEPS = 50; // an arrow key moves 1/50 of the view (Shift: 1/10)

export function latentMap(ctx) {
  const { manifest, Z } = ctx.model;
  if (!manifest.map) return null;
  const names = manifest.dataset?.label_names ?? [];
  const canvas = el('canvas', { width: SIZE * K, height: SIZE * K, className: 'scatter', tabIndex: 0 });
  canvas.setAttribute('role', 'application');
  canvas.setAttribute('aria-roledescription', 'latent map');
  canvas.setAttribute('aria-label', 'latent map: click, drag or use the arrow keys to move the point');
  const g = canvas.getContext('2d');
  // the point on show: an element over the canvas, so a move repaints neither the map nor anything else
  const marker = el('span', { className: 'marker', hidden: true });
  const where = el('p', { className: 'visually-hidden', role: 'status' });
  const note = el('p', { className: 'note', textContent: 'Loading the map…' });
  const legend = el('ul', { className: 'legend' });
  const pick = axisPicker(ctx, () => [...componentAxes(manifest), ...ctx.axes.filter((a) => a.direction)], redraw, 'map');

  let data = null;
  let view = null; // {x0, x1, y0, y1}: what the canvas spans along the two axes

  const norm2 = (d) => d.reduce((t, v) => t + v * v, 0) || 1;
  const project = (axis, r) => {
    const { coords } = data;
    if (axis.component !== undefined) return coords[r * Z + axis.component];
    let s = 0;
    for (let i = 0; i < Z; i++) s += coords[r * Z + i] * axis.direction[i];
    return s / norm2(axis.direction); // as valueOf: the marker and clicks agree for any length
  };
  const toPixel = (x, y) => [(x - view.x0) / (view.x1 - view.x0) * SIZE * K, (view.y1 - y) / (view.y1 - view.y0) * SIZE * K];

  /** The points on the two axes chosen; bounds from the points and the anchors, padded 5%. */
  function redraw() {
    if (!data) return;
    const [ax, ay] = pick.axes();
    const xs = Array.from({ length: data.count }, (_, r) => project(ax, r));
    const ys = Array.from({ length: data.count }, (_, r) => project(ay, r));
    const anchors = manifest.anchors.map((a) => [valueOf(ax, a.coords), valueOf(ay, a.coords)]);
    const span = (vs) => {
      let [lo, hi] = [Infinity, -Infinity]; // a loop: spreading 100,000 values into Math.min can throw
      for (const v of vs) { if (v < lo) lo = v; if (v > hi) hi = v; }
      const pad = (hi - lo) * 0.05 || 1;
      return [lo - pad, hi + pad];
    };
    const [x0, x1] = span([...xs, ...anchors.map((a) => a[0])]);
    const [y0, y1] = span([...ys, ...anchors.map((a) => a[1])]);
    view = { x0, x1, y0, y1 };
    Object.assign(canvas.dataset, { x0, x1, y0, y1, xAxis: ax.name, yAxis: ay.name });
    g.clearRect(0, 0, canvas.width, canvas.height);
    g.strokeStyle = '#ddd';
    g.lineWidth = K;
    const [ox, oy] = toPixel(0, 0); // the training codes' mean
    g.beginPath(); g.moveTo(ox, 0); g.lineTo(ox, canvas.height); g.moveTo(0, oy); g.lineTo(canvas.width, oy); g.stroke();
    g.globalAlpha = 0.7;
    for (let r = 0; r < data.count; r++) {
      g.fillStyle = data.labels.length ? PALETTE[data.labels[r] % PALETTE.length] : '#777';
      const [px, py] = toPixel(xs[r], ys[r]);
      g.beginPath(); g.arc(px, py, 2 * K, 0, 2 * Math.PI); g.fill();
    }
    g.globalAlpha = 1;
    g.fillStyle = '#fff';
    g.strokeStyle = '#222';
    for (const [x, y] of anchors) diamond(g, ...toPixel(x, y), 4 * K);
    paint();
  }

  /** The point on show (pinned to the edge, hollow, if it lies outside the view). */
  function paint() {
    if (!view || ctx.point.length === 0) return;
    const [ax, ay] = pick.axes();
    const [x, y] = [valueOf(ax, ctx.point), valueOf(ay, ctx.point)];
    const [px, py] = toPixel(x, y);
    const inside = px >= 0 && px <= canvas.width && py >= 0 && py <= canvas.height;
    const at = (v) => `${(100 * Math.min(canvas.width - 6 * K, Math.max(6 * K, v))) / canvas.width}%`;
    update(marker.style, { left: at(px), top: at(py) });
    update(marker, { hidden: false, className: inside ? 'marker' : 'marker outside' });
    setText(where, `${ax.name} ${x.toFixed(2)}, ${ay.name} ${y.toFixed(2)}${inside ? '' : ' (outside the map)'}`);
  }

  // --- moving the point ------------------------------------------------------------------------
  const moveTo = (x, y) => {
    const [ax, ay] = pick.axes();
    ctx.move(setValues(ax, ay, ctx.point, x, y), 'map');
  };
  const fromEvent = (e) => {
    const r = canvas.getBoundingClientRect();
    return [view.x0 + ((e.clientX - r.left) / r.width) * (view.x1 - view.x0), view.y1 - ((e.clientY - r.top) / r.height) * (view.y1 - view.y0)];
  };
  let dragging = false;
  canvas.addEventListener('pointerdown', (e) => {
    if (!view || e.button !== 0) return;
    e.preventDefault();
    canvas.focus({ preventScroll: true });
    try { canvas.setPointerCapture(e.pointerId); } catch { /* a synthetic event has no pointer to capture */ }
    dragging = true;
    moveTo(...fromEvent(e));
  });
  canvas.addEventListener('pointermove', (e) => { if (dragging) moveTo(...fromEvent(e)); });
  for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) canvas.addEventListener(type, () => { dragging = false; });
  const KEYS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
  canvas.addEventListener('keydown', (e) => {
    const step = KEYS[e.key];
    if (!step || !view) return;
    e.preventDefault();
    const [ax, ay] = pick.axes();
    const k = e.shiftKey ? 5 : 1;
    moveTo(valueOf(ax, ctx.point) + (k * step[0] * (view.x1 - view.x0)) / KEY_STEPS,
      valueOf(ay, ctx.point) + (k * step[1] * (view.y1 - view.y0)) / KEY_STEPS);
  });

  ctx.on('latent-change', paint);
  ctx.model.map(ctx.signal).then((loaded) => {
    data = loaded;
    note.hidden = true;
    const used = [...new Set(data.labels)].sort((a, b) => a - b);
    legend.replaceChildren(...used.map((l) => el('li', {}, [swatch(PALETTE[l % PALETTE.length]), el('span', { textContent: names[l] ?? String(l) })])),
      el('li', {}, [swatch('#fff', '#222', '2px'), el('span', { textContent: 'examples in the picker' })]),
      el('li', {}, [swatch('transparent', '#d00', '50%'), el('span', { textContent: 'the point on show' })]));
    redraw();
  }, (e) => {
    if (!ctx.signal.aborted) note.textContent = `Could not load the map: ${e.message}`;
  });

  return el('details', { className: 'map', part: 'map', open: true }, [
    el('summary', { textContent: `Latent map: ${thousands(manifest.map.count)} training examples` }),
    pick.element,
    el('div', { className: 'plot' }, [el('div', { className: 'stage' }, [canvas, marker]), legend]), where, note,
  ]);
}

function diamond(g, x, y, r) {
  g.beginPath(); g.moveTo(x, y - r); g.lineTo(x + r, y); g.lineTo(x, y + r); g.lineTo(x - r, y); g.closePath();
  g.fill(); g.stroke();
}

function swatch(fill, border = 'transparent', radius = '50%') {
  const s = el('span', { className: 'swatch' });
  Object.assign(s.style, { background: fill, border: `2px solid ${border}`, borderRadius: radius, boxSizing: 'border-box' });
  return s;
}
