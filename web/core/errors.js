// Errors across postMessage: the decoding worker (core/host.js) sends them as plain data, the
// page (core/client.js) makes them Errors again. A module of its own, so the page's module graph
// does not load the worker's side (host.js, model.js) just for these two functions.

/** An Error as plain data for postMessage, and back (keeping TypeError, RangeError and AbortError). */
export const errorData = (e) => ({ name: e?.name ?? 'Error', message: e?.message ?? String(e) });
export function errorFrom({ name, message }) {
  if (name === 'AbortError') return new DOMException(message, 'AbortError');
  const Kind = { TypeError, RangeError }[name] ?? Error;
  return new Kind(message);
}
