"""Browser latency of <latent-explorer> in headless Chromium, served by our own server.

Prints: cold load -> first decoded pixels (fresh browser context, empty cache), warm reload ->
first pixels (same context), and slider `input` event -> canvas updated (median and p95 over
--moves moves; each move waits for its `latent-render` event, and times up to its `detail.painted`:
when putImageData ran, on the page or in the decoding worker that paints the picture).
Targets (README): p95 <= 4 ms input -> paint, cold <= 0.5 s.

    python benchmarks/browser_latency.py [--bundle models/digits] [--moves 400]
"""
import argparse
import json
import statistics
import tempfile
from pathlib import Path

from harness import ROOT, launch, served
from playwright.sync_api import sync_playwright

PAGE = """<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="module">
  import './latent-explorer.js';
  const x = document.querySelector('latent-explorer');
  x.addEventListener('latent-render', () => { window.firstPixels ??= performance.now(); });
</script>
<latent-explorer src="models/{name}/manifest.json"></latent-explorer>"""

MOVES = """async (n) => {
  const x = document.querySelector('latent-explorer');
  await x.ready;
  const sliders = [...x.shadowRoot.querySelectorAll('.axis input[type=range]')]; // the PCA sliders only
  const times = [];
  for (let i = 0; i < n; i++) {
    const s = sliders[i % sliders.length];
    const t = (i % 37) / 36;
    s.value = Number(s.min) + t * (Number(s.max) - Number(s.min));
    // detail.painted: when the pixels were put (releases before it: now)
    const painted = new Promise((ok) => x.addEventListener('latent-render',
      (e) => ok(e.detail.painted ?? performance.now()), { once: true }));
    const t0 = performance.now();
    s.dispatchEvent(new Event('input', { bubbles: true }));
    times.push((await painted) - t0);
  }
  return times;
}"""


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def default_bundle(tmp):
    shipped = ROOT / "models" / "digits"
    if (shipped / "manifest.json").is_file():
        return shipped
    from exporter.configs import VAEConfig
    from exporter.export.image import export_run
    from exporter.train.image import TrainConfig, train
    run = Path(tmp) / "run"
    train(TrainConfig(epochs=30), VAEConfig(), run)
    export_run(run, Path(tmp) / "bundles" / "digits", name="digits")
    return Path(tmp) / "bundles" / "digits"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", help="bundle folder (default models/digits, else a quick digits run)")
    ap.add_argument("--moves", type=int, default=400)
    ap.add_argument("--loads", type=int, default=7, help="cold loads and warm reloads to time")
    ap.add_argument("--single-thread", action="store_true",
                    help="serve without COOP/COEP, as a blog host would: the runtime then uses 1 thread")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(a.bundle) if a.bundle else default_bundle(tmp)
        name = json.loads((bundle / "manifest.json").read_text())["name"]
        with served([bundle], isolate=not a.single_thread, pages={"bench.html": PAGE.replace("{name}", name)}) as base, \
                sync_playwright() as p:
            url = base + "bench.html"
            browser = launch(p)
            cold, warm = [], []
            for _ in range(a.loads):
                ctx = browser.new_context()
                page = ctx.new_page()
                page.goto(url)
                cold.append(page.wait_for_function("window.firstPixels").json_value())
                page.reload()
                warm.append(page.wait_for_function("window.firstPixels").json_value())
                ctx.close()
            page = browser.new_page()
            page.goto(url)
            threads = page.evaluate("crossOriginIsolated")
            page.evaluate(MOVES, 20)  # warm-up
            moves = page.evaluate(MOVES, a.moves)
            browser.close()
    print(f"bundle: {bundle} ({name}); cross-origin isolated: {threads}")
    print(f"cold load -> first pixels:   median {statistics.median(cold):7.1f} ms   (n={len(cold)})")
    print(f"warm reload -> first pixels: median {statistics.median(warm):7.1f} ms   (n={len(warm)})")
    print(f"slider input -> canvas:      median {statistics.median(moves):7.2f} ms   p95 {pct(moves, 95):.2f} ms"
          f"   max {max(moves):.2f} ms   (n={len(moves)})")


if __name__ == "__main__":
    main()
