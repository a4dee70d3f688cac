"""Browser latency of decoding one sentence with <latent-explorer>, per text bundle: `el.decode`
on one coordinate vector whose greedy sentence runs the full 20 tokens (found with Python
onnxruntime first), timed in the page over --runs calls; median and p95.

    python benchmarks/text_decode.py build/bundles/wordnet-sentences-step build/bundles/...-unrolled
"""
import argparse
import json
import statistics
from pathlib import Path

import numpy as np
from harness import launch, served
from playwright.sync_api import sync_playwright

from exporter.export.graphs import session
from exporter.export.text import ort_greedy_step
from exporter.models.text_vae import EOS
from exporter.space.points import validation_coords

TIME = """async ([coords, runs]) => {
  const x = document.querySelector('latent-explorer');
  await x.ready;
  for (let i = 0; i < 10; i++) await x.decode([coords]);  // warm-up
  const times = [];
  let result;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    [result] = await x.decode([coords]);
    times.push(performance.now() - t0);
  }
  return { times, tokens: result.tokens.length };
}"""


def long_sentence_coords(bundle, tokens=20, n=4096):
    """Coordinates whose greedy decoding runs `tokens` words without </s>."""
    m = json.loads((bundle / "manifest.json").read_text())
    coords = validation_coords(m["pca"]["std"], n=n, seed=3)
    if m["text"]["variant"] == "step":
        ids = ort_greedy_step(bundle, coords, m["text"]["max_len"])
    else:
        ids = session(bundle / "greedy.onnx").run(["tokens"], {"coords": coords})[0]
    length = np.where((ids == EOS).any(1), (ids == EOS).argmax(1), ids.shape[1])
    best = int(np.argmax(length))
    return coords[best].tolist(), int(length[best])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundles", nargs="+")
    ap.add_argument("--runs", type=int, default=300)
    a = ap.parse_args()
    bundles = [Path(b) for b in a.bundles]
    with served(bundles) as base, sync_playwright() as p:
        browser = launch(p)
        for b in bundles:
            name = json.loads((b / "manifest.json").read_text())["name"]
            coords, length = long_sentence_coords(b)
            page = browser.new_page()
            page.goto(f"{base}?model={name}")
            page.wait_for_function("document.querySelector('latent-explorer')")
            r = page.evaluate(TIME, [coords, a.runs])
            t = sorted(r["times"])
            print(f"{name}: {r['tokens']}-token sentence (python: {length}): median {statistics.median(t):.2f} ms, "
                  f"p95 {t[int(0.95 * (len(t) - 1))]:.2f} ms, n={len(t)}")
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
