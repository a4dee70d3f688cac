// Shareable state (opt-in: <latent-explorer sync-url>). The point on show lives in the page
// URL's hash as `#le-NAME=<base64url of Z float32 little-endian>` (NAME: the bundle's name, or
// the value of sync-url), so a reload or a shared link shows exactly the same float32 point,
// and two elements on a page keep their own entries. The hash is anyone's text: a bad entry
// is ignored with a visible note, never an exception.
import { el } from '../dom.js';
import { hashKey, readHash, writeHash } from '../core/space.js';

export const style = `
  .share { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
  .share input { flex: 1 1 12em; min-width: 0; font: inherit; font-size: 12px; }
`;

/** How often the URL is rewritten at most: browsers throttle (and warn about) rapid replaceState calls. */
const WRITE_MS = 200;

/** The key this element uses in the hash. */
export function shareKey(explorer, manifest) {
  const chosen = explorer.getAttribute('sync-url');
  return hashKey(chosen && /^[A-Za-z0-9._-]{1,64}$/.test(chosen) ? chosen : manifest.name);
}

/** The point the page's URL holds for this element: {point}, {error}, or null (none). */
export function sharedPoint(explorer, model) {
  return readHash(globalThis.location?.hash ?? '', shareKey(explorer, model.manifest), model.Z);
}

/** The Copy link button, its fallback field and note; keeps the hash in step with the point. */
export function share(ctx, restored) {
  const key = shareKey(ctx.explorer, ctx.model.manifest);
  const note = el('p', { className: 'note', role: 'status' });
  const say = (text) => { note.textContent = text; note.hidden = !text; };
  say(restored?.error ? `The link's point for ${key.slice(3)} was ignored (${restored.error}); showing the default point.` : '');

  let timer = null;
  let latest = null;
  const write = () => {
    clearTimeout(timer);
    timer = null;
    if (!latest || ctx.signal.aborted) return;
    try {
      const url = new URL(location.href);
      url.hash = writeHash(url.hash, key, latest);
      history.replaceState(history.state, '', url.href);
    } catch (e) {
      say(`Could not update the page's address (${e.message}).`);
    }
  };
  ctx.on('latent-change', () => {
    latest = ctx.point;
    timer ??= setTimeout(write, WRITE_MS);
  });

  const field = el('input', { type: 'text', readOnly: true, ariaLabel: 'link to this point', hidden: true });
  const copy = el('button', { type: 'button', textContent: 'Copy link' });
  copy.addEventListener('click', async () => {
    write();
    const url = location.href;
    try {
      await navigator.clipboard.writeText(url);
      field.hidden = true;
      say('Link copied: it opens this page at this point.');
    } catch {
      field.value = url;
      field.hidden = false;
      field.focus();
      field.select();
      say('Copy the selected link (Ctrl+C or ⌘C).');
    }
  });
  return el('div', { className: 'share' }, [copy, field, note]);
}
