"""`export --weights float32|float16|int8` for an image model: size, pixels and browser time.

Exports the run three times (into a temp folder), then for each file that would ship prints:
the decoder's size on disk (raw and gzip), the max pixel difference against the float32 file on
the 256 validation coordinates (incl. +-5 sigma) and on the 30 anchors (real examples), both by
Python onnxruntime; the browser's max difference against Python onnxruntime on the same file
(the parity gate); and the browser's decode time (el.decode of 1 point and of a 9 x 9 batch,
medians of 100 and 20 calls).

    python benchmarks/weights.py [RUN_DIR]   (default build/runs/fashion-mnist: `make models/fashion-mnist`)
"""
import argparse
import gzip
import json
import statistics
import tempfile
from pathlib import Path

import numpy as np
from harness import ROOT, launch, served
from playwright.sync_api import sync_playwright

from exporter.export.graphs import session
from exporter.export.image import export_run
from exporter.space.points import validation_coords

PAGE = """<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="module" src="./latent-explorer.js"></script>
<latent-explorer panels="sliders" src="models/{name}/manifest.json"></latent-explorer>"""
TIME = """async ([batch, calls]) => {
  const x = document.querySelector('latent-explorer');
  await x.ready;
  const times = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    await x.decode(batch);
    times.push(performance.now() - t0);
  }
  return times;
}"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", nargs="?", default=str(ROOT / "build" / "runs" / "fashion-mnist"))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bundles = {}
        for mode in ("float32", "float16", "int8"):
            bundles[mode] = Path(tmp) / mode / f"w-{mode}"
            export_run(Path(a.run), bundles[mode], name=f"w-{mode}", weights=mode)
        m = json.loads((bundles["float32"] / "manifest.json").read_text())
        coords = validation_coords(np.array(m["pca"]["std"]), n=256, seed=7)
        anchors = np.array([x["coords"] for x in m["anchors"]], np.float32)
        decode = {mode: lambda c, b=b: session(b / "decoder.onnx").run(None, {"coords": c})[0] for mode, b in bundles.items()}
        ref, ref_anchors = decode["float32"](coords), decode["float32"](anchors)
        grid = (coords[:81] * 0.2).tolist()
        pages = {f"{mode}.html": PAGE.replace("{name}", f"w-{mode}") for mode in bundles}
        rows = []
        with served([b.parent for b in bundles.values()], pages=pages) as base, sync_playwright() as p:
            browser = launch(p)
            for mode, b in bundles.items():
                page = browser.new_page()
                page.goto(base + f"{mode}.html")
                got = np.array(page.evaluate("async (c) => (await document.querySelector('latent-explorer').decode(c))"
                                             ".map((r) => Array.from(r))", coords.tolist()))
                parity = float(np.abs(got - decode[mode](coords).reshape(len(coords), -1)).max())
                page.evaluate(TIME, [grid[:1], 20])
                one = statistics.median(page.evaluate(TIME, [grid[:1], 100]))
                batch = statistics.median(page.evaluate(TIME, [grid, 20]))
                page.close()
                data = (b / "decoder.onnx").read_bytes()
                rows.append((mode, len(data), len(gzip.compress(data, 6)),
                             float(np.abs(decode[mode](coords) - ref).max()),
                             float(np.abs(decode[mode](anchors) - ref_anchors).max()), parity, one, batch))
            browser.close()
    print(f"\n{m['title']} (run {a.run})\n")
    print("| weights | decoder.onnx raw / gzip | max pixel diff vs float32: 256 coords incl. ±5σ / 30 anchors "
          "| browser vs Python onnxruntime, same file | browser decode: 1 point / 9 × 9 batch |")
    print("| --- | --- | --- | --- | --- |")
    for mode, raw, gz, diff, diff_a, parity, one, batch in rows:
        print(f"| {mode} | {raw / 1e6:.2f} / {gz / 1e6:.2f} MB | {diff:.4f} ({diff * 255:.1f}/255) / {diff_a:.4f} "
              f"({diff_a * 255:.1f}/255) | {parity:.1e} | {one:.2f} / {batch:.1f} ms |")


if __name__ == "__main__":
    main()
