// The decoding side of the element: it holds the loaded bundles (core/model.js) and runs their
// graphs for the page, in a Web Worker (core/worker.js) or, where none can start, on the page's
// own thread. It speaks in messages (below), so both places run the same code.
//
// One runtime runs one graph at a time, so what waits matters. A big batch (a 16 × 16 grid, the
// interpolation table, a page's decode() call) runs in chunks of about CHUNK_MS, and between
// chunks the job with the fewest rows left goes first: the point a slider or the pen just moved
// (one row) waits for at most one chunk, never for a whole grid.
//
// page -> host                                          host -> page
//   {op: 'init', source}                                  {op: 'hello'}              (a worker is up)
//   {op: 'open', model, url, manifest, files}             {op: 'opened', model} | {op: 'failed', model, error}
//   {op: 'decode' | 'encode' | 'encode-decode', id, model, data, n, paint?}
//                                                         {op: 'done', id, result} | {op: 'error', id, error}
//   {op: 'canvas', model, canvas, channels}    (the main picture's OffscreenCanvas: the host paints it)
//   {op: 'paint', id, model, data}              {op: 'done', id, result: {seq, at}}
//   {op: 'snapshot', id, model}                 {op: 'done', id, result: ImageData}
//   {op: 'release', model}
//
// A decode with `paint` (one row: the point on show) is painted into the model's canvas as soon
// as it is decoded, here, and the page hears when: its result is {seq, at} (decode) or gains them
// (encode-decode), `seq` counting this canvas's paints and `at` the time of the paint
// (performance.timeOrigin + performance.now(), a clock the page shares). The compositor takes
// the picture from here, so it does not wait for the page's thread to render a frame first.
import { holdFiles } from './bundle.js';
import { errorData } from './errors.js';
import { loadModel } from './model.js';
import { painter } from './paint.js';
import { configureRuntime, loadOrt, runtimeStarted } from './runtime.js';

/** Aim for chunks of about this many milliseconds of graph time. */
const CHUNK_MS = 2;

/** A task boundary: messages that arrived meanwhile are handled before the next chunk runs. */
const yieldToMessages = () => new Promise((resolve) => {
  const channel = new MessageChannel();
  channel.port1.onmessage = () => { channel.port1.close(); resolve(); };
  channel.port2.postMessage(null);
});

/** How a job's rows are cut into chunks, run, and put back together. */
const KINDS = {
  // coords Float32Array [n * Z] -> images: one Float32Array [H * W (* 3)] per row; text: the token ids of each row
  decode: {
    // a copy per chunk: onnxruntime's proxy (configureRuntime({proxy: true})) takes over the buffer it is given
    slice: (job, a, b) => job.data.slice(a * job.width, b * job.width),
    run: (model, data, n) => model.decoder.decode(data, n),
    join: (parts) => parts.flat(),
  },
  // images: pixels Float32Array [n * H * W (* 3)] -> coords Float32Array [n * Z];
  // text: token id lists -> {coords Float32Array [n * Z], kept}
  encode: {
    slice: (job, a, b) => (job.width ? job.data.slice(a * job.width, b * job.width) : job.data.slice(a, b)), // pixels, or id lists
    run: (model, data, n) => (Array.isArray(data) ? model.encoder.encode(data) : model.encoder.encode(data, n)),
    join(parts) {
      const coords = (p) => (p instanceof Float32Array ? p : p.coords);
      const all = new Float32Array(parts.reduce((s, p) => s + coords(p).length, 0));
      let at = 0;
      for (const p of parts) { all.set(coords(p), at); at += coords(p).length; }
      return parts[0] instanceof Float32Array ? all : { coords: all, kept: parts.flatMap((p) => p.kept) };
    },
  },
  // images: pixels -> {coords Float32Array [n * Z], rows: the decode of those coords, one Float32Array per row};
  // the drawing pad's: one message for what would be two, so a pen move waits for one reply, not two
  'encode-decode': {
    slice: (job, a, b) => job.data.slice(a * job.width, b * job.width),
    async run(model, data, n) {
      const coords = await model.encoder.encode(data, n);
      return { coords, rows: await model.decoder.decode(coords.slice(), n) }; // a copy: see decode's slice
    },
    join: (parts) => ({ coords: KINDS.encode.join(parts.map((p) => p.coords)), rows: parts.flatMap((p) => p.rows) }),
  },
};

/** What a result can hand over without a copy. */
function transferables(result) {
  if (result instanceof Float32Array) return [result.buffer];
  if (result?.coords instanceof Float32Array) return [result.coords.buffer, ...transferables(result.rows)];
  if (Array.isArray(result)) return result.filter((r) => r instanceof Float32Array).map((r) => r.buffer);
  return [];
}

export class Host {
  /** send(message, transfer): how replies reach the page. */
  constructor(send) {
    this.send = send;
    this.models = new Map();   // id -> {controller, model (undefined while loading, null if it failed), error}
    this.jobs = [];
    this.busy = false;
    this.msPerRow = new Map(); // `${model}/${op}` -> measured graph time per row
    this.canvases = new Map(); // model id -> {paint, read, seq}: the main picture, where the page handed it over
  }

  canvasOf(model) {
    const canvas = this.canvases.get(model);
    if (!canvas) throw new Error('the decoding worker holds no picture for this bundle (the page paints its own)');
    return canvas;
  }

  /** Paint `pixels` into `model`'s canvas: {seq, at}. */
  paint(model, pixels) {
    const canvas = this.canvasOf(model);
    canvas.paint(pixels);
    canvas.seq += 1;
    return { seq: canvas.seq, at: performance.timeOrigin + performance.now() };
  }

  /** Answer request `id` with `work()`, or with the error it throws. */
  reply(id, work) {
    try {
      this.send({ op: 'done', id, result: work() });
    } catch (e) {
      this.send({ op: 'error', id, error: errorData(e) });
    }
  }

  handle(msg) {
    if (msg.op === 'init') {
      if (msg.source && !runtimeStarted()) configureRuntime(msg.source); // a worker: the page's settings
      loadOrt().catch(() => {}); // start compiling now; loading a bundle reports any failure
    } else if (msg.op === 'open') {
      this.open(msg);
    } else if (msg.op === 'canvas') {
      this.canvases.set(msg.model, { ...painter(msg.canvas, msg.channels), seq: 0 });
    } else if (msg.op === 'paint') {
      this.reply(msg.id, () => this.paint(msg.model, msg.data));
    } else if (msg.op === 'snapshot') {
      this.reply(msg.id, () => this.canvasOf(msg.model).read());
    } else if (msg.op === 'release') {
      const entry = this.models.get(msg.model);
      this.models.delete(msg.model);
      this.canvases.delete(msg.model);
      entry?.controller.abort(new DOMException('released', 'AbortError'));
      entry?.ready.then((m) => m.release(), () => {});
    } else {
      this.jobs.push({ ...msg, done: 0, parts: [], width: msg.n && !Array.isArray(msg.data) ? msg.data.length / msg.n : 0 });
      this.pump();
    }
  }

  open({ model: id, url, manifest, files }) {
    if (files) holdFiles(url, files); // a bundle that came as bytes (Jupyter), not from a server
    const controller = new AbortController();
    const entry = { controller, model: undefined, error: null };
    entry.ready = loadModel(url, { signal: controller.signal, manifest });
    this.models.set(id, entry);
    entry.ready.then((m) => {
      entry.model = m;
      this.send({ op: 'opened', model: id });
    }, (e) => {
      entry.model = null;
      entry.error = e;
      this.send({ op: 'failed', model: id, error: errorData(e) });
    }).then(() => this.pump());
  }

  /** Run chunks until no job can run, the shortest job first; one pump at a time. */
  async pump() {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let job = this.next(); job; job = this.next()) {
        await this.step(job);
        await yieldToMessages();
      }
    } finally {
      this.busy = false;
    }
  }

  /** The job with the fewest rows left whose model has loaded (or failed, or gone: it then fails). */
  next() {
    let best = null;
    for (const job of this.jobs) {
      if (this.models.get(job.model)?.model === undefined && this.models.has(job.model)) continue; // still loading
      if (!best || job.n - job.done < best.n - best.done) best = job;
    }
    return best;
  }

  async step(job) {
    const entry = this.models.get(job.model);
    const drop = (error) => {
      this.jobs.splice(this.jobs.indexOf(job), 1);
      this.send({ op: 'error', id: job.id, error: errorData(error) });
    };
    if (!entry || entry.model === null) return drop(entry?.error ?? new DOMException('released', 'AbortError'));
    const kind = KINDS[job.op];
    const key = `${job.model}/${job.op}`;
    const per = this.msPerRow.get(key);
    const rows = Math.max(1, Math.min(job.n - job.done, per ? Math.floor(CHUNK_MS / per) : 1));
    const t0 = performance.now();
    try {
      job.parts.push(await kind.run(entry.model, kind.slice(job, job.done, job.done + rows), rows));
    } catch (e) {
      return drop(e);
    }
    const ms = (performance.now() - t0) / rows;
    this.msPerRow.set(key, per ? 0.7 * per + 0.3 * ms : ms);
    job.done += rows;
    if (job.done < job.n) return undefined;
    this.jobs.splice(this.jobs.indexOf(job), 1);
    let result = kind.join(job.parts);
    if (job.paint) {
      try {
        const painted = this.paint(job.model, (result.rows ?? result).at(-1));
        result = job.op === 'decode' ? painted : { ...result, ...painted }; // the page has no use for the pixels
      } catch (e) {
        return this.send({ op: 'error', id: job.id, error: errorData(e) });
      }
    }
    return this.send({ op: 'done', id: job.id, result }, transferables(result));
  }
}
