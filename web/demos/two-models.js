// The two-models page: two <latent-explorer>s on the same input. Drawing on the left pad encodes
// the same pixels with the right model too; picking an example shows it in both (each model's own
// code of that training image); and a direction carried from the left model to the right one
// (`NAME@LEFT` on the right, written by `latent-explorer directions RIGHT --from LEFT`) is linked
// to its original: moving either moves the other by the same number of its own σ along it.
import { shift, valueOf } from '../core/axes.js';

/** The name a label has in a manifest, for the picker. */
const labelOf = (m, a) => `${m.dataset?.label_names?.[a.label] ?? a.label ?? 'example'} (#${a.index})`;

export function linkModels(left, right, pick, note) {
  const [ml, mr] = [left.model.manifest, right.model.manifest];

  // --- the same example in both --------------------------------------------------------------
  const byIndex = new Map(mr.anchors.map((a) => [a.index, a]));
  const shared = ml.anchors.filter((a) => byIndex.has(a.index));
  pick.append(...shared.map((a, i) => Object.assign(document.createElement('option'), { value: String(i), textContent: labelOf(ml, a) })));
  pick.addEventListener('change', () => {
    if (pick.value === '') return;
    const a = shared[Number(pick.value)];
    left.point = a.coords;
    right.point = byIndex.get(a.index).coords;
  });

  // --- the same drawing in both: one encode in flight, the latest drawing wins ------------------
  let latest = null;
  let encoding = false;
  async function follow() {
    encoding = true;
    try {
      while (latest) {
        const input = latest;
        latest = null;
        const [point] = await right.encode([input]);
        right.point = point;
      }
    } finally {
      encoding = false;
    }
  }
  left.addEventListener('latent-change', (e) => {
    if (e.detail.input instanceof Float32Array) {
      latest = e.detail.input;
      if (!encoding) follow().catch((err) => { note.textContent = `Could not encode on the right: ${err.message}`; });
    }
    if (e.detail.source === 'example') pick.value = '';
  });

  // --- transferred directions move both -------------------------------------------------------
  const axes = (el) => Object.fromEntries(el.model.manifest.axes.filter((a) => a.direction).map((a) => [a.name, a]));
  const spreads = (m) => Object.fromEntries((m.directions?.items ?? []).map((d) => [d.name, d.spread]));
  const [al, ar, sl, sr] = [axes(left), axes(right), spreads(ml), spreads(mr)];
  const pairs = Object.keys(ar).filter((n) => n.endsWith(`@${ml.name}`) && al[n.slice(0, -ml.name.length - 1)])
    .map((n) => ({ from: al[n.slice(0, -ml.name.length - 1)], to: ar[n] }));
  const link = (a, b, axisOf, otherAxis, spreadA, spreadB) => {
    let previous = a.point;
    a.addEventListener('latent-change', (e) => {
      const pair = e.detail.source === 'slider' ? pairs.find((p) => axisOf(p).name === e.detail.axis) : null;
      if (pair) {
        const moved = valueOf(axisOf(pair), e.detail.point) - valueOf(axisOf(pair), previous);
        const other = otherAxis(pair);
        b.point = shift(other, b.point, (moved / spreadA[axisOf(pair).name]) * spreadB[other.name]);
      }
      previous = e.detail.point;
    });
  };
  link(left, right, (p) => p.from, (p) => p.to, sl, sr);
  link(right, left, (p) => p.to, (p) => p.from, sr, sl);
  const r2 = mr.directions?.items.find((d) => d.source?.kind === 'transfer')?.source.map_r2_heldout;
  note.textContent = pairs.length
    ? `Linked: ${pairs.map((p) => `${p.from.name} ↔ ${p.to.name}`).join(', ')}` + (r2 ? ` (the map between the two latent spaces has R² ${r2.toFixed(3)} on held-out images).` : '.')
    : `${mr.name} has no directions carried over from ${ml.name}.`;
  return pairs;
}
