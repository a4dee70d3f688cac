"""`make bench`: the runtime's figures for each bundle, in one table, headless Chromium.

For each bundle, served by our own server with COOP/COEP (2 wasm threads) and without (1 thread,
as on most blog hosts), on a page that loads the element as the README embeds it (one module
script tag):
- first pixels: the poster painted (`latent-poster`), fresh browser context (empty cache);
- cold -> first live decode (the first `latent-render`), same loads; and the bare session page
  in the same run, interleaved: a page that only imports onnxruntime-web, creates the bundle's
  sessions from their URLs and runs the first graph once;
- warm reload -> first live decode (the same context, reloaded);
- "painted" is the `latent-render` event's `detail.painted`: when the pixels were put into the
  canvas, in the decoding worker where it paints the picture (the page hears of it later);
- slider `input` -> canvas (`latent-render`) and, for image bundles with an encoder, pen move ->
  decode painted (benchmarks/pen_latency.py), with the element's default panels, median and p95:
  events dispatched by script, one at a time;
- a real drag of the first slider (Chromium's own mouse events, which it hands to the page at the
  start of a frame, so the frame's style, layout and paint run between the input and a worker's
  reply): the `pointermove` event's time stamp -> canvas (`latent-render`);
  the slider again with a 9 x 9 live grid open;
- long tasks on the page's thread (PerformanceObserver `longtask`, over 50 ms) during a
  300-move slider drag and a 16 x 16 grid refresh: how many, and the longest;
- first-visit bytes: every file the page and its worker fetched until the first live decode,
  runtime + element + bundle, raw and gzip -6.
`--modes` also runs the element with 2 wasm threads in the worker, with decoding on the page's
thread (`worker: null`) and with onnxruntime-web's own proxy worker (`worker: null, proxy: true`),
for the worker comparison; and loads it with the wasm kept in Cache Storage and handed over as
bytes (as transformers.js keeps its files) against the browser's own caching of the streamed wasm.

    python benchmarks/runtime.py [BUNDLE ...] [--loads 7] [--moves 300] [--modes]
"""
import argparse
import gzip
import json
import statistics
from pathlib import Path
from urllib.parse import urlparse

from browser_latency import MOVES, pct
from harness import ROOT, launch, served
from pen_latency import PEN
from playwright.sync_api import sync_playwright

CONFIG = {"worker": "", "worker-2-threads": "configureRuntime({ threads: 2 });",
          "page": "configureRuntime({ worker: null });",
          "proxy": "configureRuntime({ worker: null, proxy: true });",
          # the wasm kept in Cache Storage and handed over as bytes, as transformers.js keeps model files:
          # no network on a warm visit, but compiled from bytes, so V8's code cache does not apply
          "cache-api": """const wasm = new URL('./ort/ort-wasm-simd-threaded.wasm', location.href).href;
  const cache = await caches.open('bench');
  if (!(await cache.match(wasm))) await cache.add(wasm);
  configureRuntime({ wasmBinary: await (await cache.match(wasm)).arrayBuffer() });"""}
PAGE = """<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script>
  window.t = {}; window.longTasks = [];
  new PerformanceObserver((l) => longTasks.push(...l.getEntries().map((e) => e.duration))).observe({ type: 'longtask' });
  addEventListener('latent-poster', () => { t.poster ??= performance.now(); });
  addEventListener('latent-render', (e) => { t.live ??= e.detail.painted ?? performance.now(); }); // releases before it: now
</script>
{element}
<latent-explorer src="models/{name}/manifest.json"></latent-explorer>"""
# The default runtime loads as a page embeds the element (README, "Embedding the element"): one
# module script tag. The other modes configure the runtime first, then import the element.
ELEMENT = '<script type="module" src="./latent-explorer.js"></script>'
CONFIGURED = """<script type="module">
  import { configureRuntime } from './core/runtime.js';
  {config}
  await import('./latent-explorer.js');
</script>"""


def bench_page(name, config=""):
    """The benchmark page for the bundle `name`; `config`: script that configures the runtime (a value of CONFIG)."""
    element = CONFIGURED.replace("{config}", config) if config else ELEMENT
    return PAGE.replace("{element}", element).replace("{name}", name)


BARE = """<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="module">
  window.t = {};
  const ort = await import('./ort/ort.wasm.min.mjs');
  ort.env.wasm.wasmPaths = new URL('./ort/', location.href).href;
  ort.env.wasm.numThreads = crossOriginIsolated ? 2 : 1;
  const m = await (await fetch('models/{name}/manifest.json')).json();
  const sessions = await Promise.all(Object.values(m.graphs).map((g) => ort.InferenceSession.create(`models/{name}/${g.file}`)));
  const first = m.kind === 'image' ? sessions[Object.keys(m.graphs).indexOf('decoder')] : sessions[0];
  const Z = m.latent.size;
  await first.run({ coords: new ort.Tensor('float32', new Float32Array(Z), [1, Z]) });
  t.live = performance.now();
</script>"""
GRID = """async ([size]) => {
  const x = document.querySelector('latent-explorer');
  await x.ready;
  const details = x.shadowRoot.querySelector('details.grid');
  const select = details.querySelector('select[aria-label="grid size"], select[aria-label="grid steps"]');
  const painted = () => new Promise((ok) => details.addEventListener('grid-render', ok, { once: true }));
  let p = painted();
  const choose = () => { select.value = String(size); select.dispatchEvent(new Event('change')); };
  if (!details.open) details.open = true; else choose();
  await p;
  if (select.value !== String(size)) { p = painted(); choose(); await p; }
  longTasks.length = 0;
  const t0 = performance.now();
  p = painted();
  x.point = x.point.map((v, i) => (i === 0 ? v + 0.01 : v));
  await p;
  return { refresh: performance.now() - t0, longTasks: longTasks.splice(0) };
}"""


DRAG_HOOK = """() => { const x = document.querySelector('latent-explorer'); window.drag = [];
  x.shadowRoot.addEventListener('pointermove', (e) => { window.moved = e.timeStamp; }, true);
  x.addEventListener('latent-render', (e) => {
    if (window.moved) drag.push((e.detail.painted ?? performance.now()) - window.moved);
    window.moved = 0;
  });
  const slider = x.shadowRoot.querySelector('.axis input[type=range]');
  slider.scrollIntoView({ block: 'center' });
  const b = slider.getBoundingClientRect();
  return [b.x, b.y, b.width, b.height]; }"""


def mouse_drag(page, moves):
    """Drag the first slider with the mouse, `moves` moves: pointermove -> latent-render, in ms."""
    x0, y0, w, h = page.evaluate(DRAG_HOOK)
    page.mouse.move(x0 + w / 2, y0 + h / 2)
    page.mouse.down()
    for i in range(moves):
        page.mouse.move(x0 + 4 + (w - 8) * ((i % 37) / 36), y0 + h / 2)
    page.mouse.up()
    return page.evaluate("drag.splice(0)")


def fetched(page_urls, site, base):
    """Raw and gzip bytes of the site files behind `page_urls`, by group."""
    groups = {"runtime": [0, 0], "element": [0, 0], "bundle": [0, 0]}
    for url in sorted(set(page_urls)):
        if not url.startswith(base):
            continue
        path = site / urlparse(url).path.lstrip("/")
        if not path.is_file() or path.suffix == ".html":
            continue
        data = path.read_bytes()
        group = "runtime" if "/ort/" in url or "/tokenizers/" in url else "bundle" if "/models/" in url else "element"
        groups[group][0] += len(data)
        groups[group][1] += len(gzip.compress(data, 6))
    return groups


def loads(browser, base, n, site, cache_api=False):
    """n interleaved cold loads of the element page and the bare page (and the Cache API page);
    warm reloads of the element's."""
    out = {"poster": [], "cold": [], "warm": [], "bare": [], "bytes": None, "cache_cold": [], "cache_warm": []}
    for _ in range(n):
        for page_name in ("bench-worker.html", "bare.html") + (("bench-cache-api.html",) if cache_api else ()):
            ctx = browser.new_context()
            page = ctx.new_page()
            urls = []
            page.on("request", lambda r, urls=urls: urls.append(r.url))
            page.goto(base + page_name)
            t = page.wait_for_function("window.t.live && window.t", timeout=60000).json_value()
            if page_name == "bare.html":
                out["bare"].append(t["live"])
            elif page_name == "bench-cache-api.html":
                out["cache_cold"].append(t["live"])
                page.reload()
                out["cache_warm"].append(page.wait_for_function("window.t.live && window.t", timeout=60000).json_value()["live"])
            else:
                out["cold"].append(t["live"])
                out["poster"].append(t.get("poster"))
                out["bytes"] = fetched(urls, site, base)
                page.reload()
                out["warm"].append(page.wait_for_function("window.t.live && window.t", timeout=60000).json_value()["live"])
            ctx.close()
    return out


def interaction(browser, base, mode, moves, pad):
    page = browser.new_page()
    page.goto(base + f"bench-{mode}.html")
    page.wait_for_function("window.t.live")
    page.evaluate(MOVES, 20)  # warm-up
    out = {"slider": page.evaluate(MOVES, moves)}
    mouse_drag(page, 20)  # warm-up
    out["drag"] = mouse_drag(page, moves)
    if pad:
        page.evaluate(PEN, 30)  # warm-up
        out["pen"] = page.evaluate(PEN, moves)
    out["grid9"] = page.evaluate(GRID, [9])["refresh"]
    page.evaluate(MOVES, 20)
    out["slider_grid"] = page.evaluate(MOVES, moves)
    page.evaluate("longTasks.length = 0")
    page.evaluate(GRID, [16])
    page.evaluate(MOVES, moves)
    drag = page.evaluate("longTasks.splice(0)")
    grid16 = page.evaluate(GRID, [16])
    page.close()
    return {**out, "grid16": grid16["refresh"], "long": drag + grid16["longTasks"]}


def ms(xs):
    xs = [x for x in xs if x is not None]
    return f"{statistics.median(xs):.0f} ms" if xs else "none"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundles", nargs="*", help="bundle folders (default: models/fashion-mnist, models/digits, "
                                               "models/wordnet-sentences)")
    ap.add_argument("--loads", type=int, default=7)
    ap.add_argument("--moves", type=int, default=300)
    ap.add_argument("--modes", action="store_true", help="also decode on the page's thread, and with ORT's proxy")
    a = ap.parse_args()
    bundles = [Path(b) for b in a.bundles] or [ROOT / "models" / n for n in ("fashion-mnist", "digits", "wordnet-sentences")]
    modes = [m for m in CONFIG if m != "cache-api"] if a.modes else ["worker"]
    for bundle in bundles:
        m = json.loads((bundle / "manifest.json").read_text())
        name, pad = m["name"], m["kind"] == "image" and "encoder" in m["graphs"]
        pages = {f"bench-{m}.html": bench_page(name, CONFIG[m]) for m in CONFIG}
        pages["bare.html"] = BARE.replace("{name}", name)
        rows = []
        for isolate in (True, False):
            with served([bundle], isolate=isolate, pages=pages, keep=True) as (base, site), sync_playwright() as p:
                browser = launch(p)
                first = loads(browser, base, a.loads, site, cache_api=a.modes)
                for mode in modes:
                    it = interaction(browser, base, mode, a.moves, pad)
                    rows.append((isolate, mode, first if mode == "worker" else None, it))
                browser.close()
        size = sum(f.stat().st_size for f in bundle.iterdir() if f.is_file())
        print(f"\n{name} ({size / 1e6:.2f} MB on disk)\n")
        print("| threads | decoding | first pixels (poster) | cold → first live decode | bare session page | "
              "warm → first live decode | slider → paint | slider drag (mouse) → paint | pen → paint | "
              "slider → paint, 9 × 9 grid open | "
              "9 × 9 / 16 × 16 grid refresh | long tasks > 50 ms (drag + 16 × 16 grid): count, max |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        spread = lambda xs: f"{statistics.median(xs):.2f} / {pct(xs, 95):.2f} ms" if xs else "—"  # noqa: E731
        for isolate, mode, first, it in rows:
            cells = [f"{'2 (COOP/COEP)' if isolate else '1 (no COOP/COEP)'}", mode]
            cells += [ms(first["poster"]), ms(first["cold"]), ms(first["bare"]), ms(first["warm"])] if first else ["", "", "", ""]
            cells += [spread(it["slider"]), spread(it["drag"]), spread(it.get("pen")), spread(it["slider_grid"]),
                      f"{it['grid9']:.0f} / {it['grid16']:.0f} ms", f"{len(it['long'])}, {max(it['long'], default=0):.0f} ms"]
            print("| " + " | ".join(cells) + " |")
        print("\nslider, pen: median / p95 over the moves; first pixels, live decodes: medians of the loads")
        for isolate, _mode, first, _ in rows:
            if first and first["cache_cold"]:
                print(f"runtime cached by the browser (V8 code cache of the streamed wasm) vs a Cache API copy handed over "
                      f"as bytes, {'2' if isolate else '1'} thread(s): cold {ms(first['cold'])} vs {ms(first['cache_cold'])}, "
                      f"warm {ms(first['warm'])} vs {ms(first['cache_warm'])}")
        b = rows[0][2]["bytes"]
        total = [sum(v[i] for v in b.values()) for i in (0, 1)]
        print("\nfirst-visit bytes (raw / gzip): " + ", ".join(
            f"{k} {v[0] / 1e6:.2f} / {v[1] / 1e6:.2f} MB" for k, v in b.items())
            + f", total {total[0] / 1e6:.2f} / {total[1] / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
