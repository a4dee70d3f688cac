"""Pen latency of <latent-explorer>'s drawing pad in headless Chromium, served by our own server.

Prints: pen stroke -> new decode painted (a pointermove on the pad, then the pad's area average,
encoder.onnx, decoder.onnx and putImageData, up to the `detail.painted` time of the `latent-render`
event of source 'drawing': when the pixels were put, in the worker where it paints), and slider
`input` -> canvas updated, as median and p95 over --moves moves each.
Each move waits for its paint before the next, so every move costs one encode and one decode
(a real pen coalesces: moves that arrive mid-encode are folded into the next one). The pointer
events are dispatched in the page, so the browser's own input pipeline is not included.
Targets: pen p95 <= 8 ms, slider p95 <= 4 ms.

    python benchmarks/pen_latency.py [--bundle models/fashion-mnist] [--moves 400]
"""
import argparse
import json
import os
import statistics
from pathlib import Path

from browser_latency import MOVES, pct
from harness import ROOT, launch, served
from playwright.sync_api import sync_playwright

PAGE = """<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="module" src="./latent-explorer.js"></script>
<latent-explorer src="models/{name}/manifest.json"></latent-explorer>"""

PEN = """async (n) => {
  const x = document.querySelector('latent-explorer');
  await x.ready;
  const pad = x.shadowRoot.querySelector('canvas.pad-canvas');
  const clear = [...x.shadowRoot.querySelectorAll('button')].find((b) => b.textContent === 'Clear');
  const r = pad.getBoundingClientRect();
  const pointer = (type, fx, fy) => pad.dispatchEvent(new PointerEvent(type, { bubbles: true, composed: true,
    pointerId: 1, pointerType: 'pen', isPrimary: true, button: type === 'pointermove' ? -1 : 0, buttons: 1,
    clientX: r.left + fx * r.width, clientY: r.top + fy * r.height }));
  const times = [];
  for (let i = 0; i < n; i++) {
    if (i % 60 === 0) {               // a new stroke on a clean pad every 60 moves
      if (i) pointer('pointerup', 0.5, 0.5);
      clear.click();
      pointer('pointerdown', 0.2, 0.2);
      await new Promise((ok) => x.addEventListener('latent-render', ok, { once: true }));
    }
    const t = (i % 60) / 59;          // a zig-zag across the pad
    const painted = new Promise((ok) => x.addEventListener('latent-render', (e) => ok(e.detail), { once: true }));
    const t0 = performance.now();
    pointer('pointermove', 0.15 + 0.7 * t, 0.2 + 0.6 * Math.abs(Math.sin(9 * t)));
    const { source, painted: at = performance.now() } = await painted; // releases before detail.painted: now
    times.push(at - t0);
    if (source !== 'drawing') throw new Error(`painted a ${source} point, expected the drawing's`);
  }
  pointer('pointerup', 0.5, 0.5);
  return times;
}"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", default=str(ROOT / "models" / "fashion-mnist"), help="an image bundle with encoder.onnx")
    ap.add_argument("--moves", type=int, default=400)
    ap.add_argument("--single-thread", action="store_true",
                    help="serve without COOP/COEP, as a blog host would: the runtime then uses 1 thread")
    a = ap.parse_args()
    bundle = Path(a.bundle)
    m = json.loads((bundle / "manifest.json").read_text())
    if "encoder" not in m["graphs"]:
        raise SystemExit(f"{bundle}: no encoder graph, so no drawing pad to time")
    with served([bundle], isolate=not a.single_thread, pages={"bench.html": PAGE.replace("{name}", m["name"])}) as base, \
            sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        page.goto(base + "bench.html")
        threads = page.evaluate("crossOriginIsolated")
        page.evaluate(PEN, 30)     # warm-up
        pen = page.evaluate(PEN, a.moves)
        page.evaluate(MOVES, 20)   # warm-up
        slider = page.evaluate(MOVES, a.moves)
        browser.close()
    load = os.getloadavg()
    print(f"bundle: {bundle} ({m['name']}, {m['image']['height']}x{m['image']['width']}, Z={m['latent']['size']}); "
          f"cross-origin isolated: {threads}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    for label, times in (("pen move -> decode painted", pen), ("slider input -> canvas", slider)):
        print(f"{label:27s} median {statistics.median(times):6.2f} ms   p95 {pct(times, 95):6.2f} ms"
              f"   max {max(times):6.2f} ms   (n={len(times)})")


if __name__ == "__main__":
    main()
