"""`export --weights float32|float16|int8` for an image model: size, pixels and browser time.

Exports the run three times (into a temp folder), then for each file that would ship prints:
the decoder's size on disk (raw and gzip), the max pixel difference against the float32 file on
the 256 validation coordinates (incl. +-5 sigma; seed 7, not the export's own) and on the 30
anchors (real examples), both by Python onnxruntime; the export gate's max difference between
the file and the torch decoder it stores (the rounded one for float16 and int8); the browser's max
difference against Python onnxruntime on the same file (the parity gate); and the browser's
decode time (el.decode of 1 point and of a 9 x 9 batch, medians of 100 and 20 calls).

--weights int8 is GPTQ int8 codes for the big Linear layers and float16 for the other weights
(`round_image_module`, export/weights.py). For comparison the table also has what --weights int8
was before: the float32 file with every weight of >= 1,024 values rounded to the nearest int8
(`compress`), which no export writes any more.

    python benchmarks/weights.py [RUN_DIR]   (default build/runs/fashion-mnist: `make models/fashion-mnist`)
"""
import argparse
import gzip
import json
import os
import shutil
import statistics
import tempfile
from pathlib import Path

import numpy as np
from harness import ROOT, launch, served
from playwright.sync_api import sync_playwright

from exporter.export.graphs import session
from exporter.export.image import export_run
from exporter.export.weights import MODES, compress
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
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        bundles = {}
        for mode in ("float32", "float16", "int8"):
            bundles[mode] = Path(tmp) / mode / f"w-{mode}"
            export_run(Path(a.run), bundles[mode], name=f"w-{mode}", weights=mode)
        old = bundles["int8 nearest (before)"] = Path(tmp) / "rtn" / "w-rtn"
        shutil.copytree(bundles["float32"], old)
        (old / "manifest.json").write_text((old / "manifest.json").read_text().replace('"w-float32"', '"w-rtn"'))
        compress(old / "decoder.onnx", "int8")
        m = json.loads((bundles["float32"] / "manifest.json").read_text())
        coords = validation_coords(np.array(m["pca"]["std"]), n=256, seed=7)
        anchors = np.array([x["coords"] for x in m["anchors"]], np.float32)
        decode = {mode: lambda c, b=b: session(b / "decoder.onnx").run(None, {"coords": c})[0] for mode, b in bundles.items()}
        ref, ref_anchors = decode["float32"](coords), decode["float32"](anchors)
        grid = (coords[:81] * 0.2).tolist()
        pages = {f"{i}.html": PAGE.replace("{name}", b.name) for i, b in enumerate(bundles.values())}
        rows = []
        with served([b.parent for b in bundles.values()], pages=pages) as base, sync_playwright() as p:
            browser = launch(p)
            for i, (mode, b) in enumerate(bundles.items()):
                page = browser.new_page()
                page.goto(base + f"{i}.html")
                got = np.array(page.evaluate("async (c) => (await document.querySelector('latent-explorer').decode(c))"
                                             ".map((r) => Array.from(r))", coords.tolist()))
                parity = float(np.abs(got - decode[mode](coords).reshape(len(coords), -1)).max())
                page.evaluate(TIME, [grid[:1], 20])
                one = statistics.median(page.evaluate(TIME, [grid[:1], 100]))
                batch = statistics.median(page.evaluate(TIME, [grid, 20]))
                page.close()
                data = (b / "decoder.onnx").read_bytes()
                gate = json.loads((b / "manifest.json").read_text())["graphs"]["decoder"]["validation"]["max_abs_diff"]
                rows.append((mode, len(data), len(gzip.compress(data, 6)), gate["pixels"] if mode in MODES else None,
                             float(np.abs(decode[mode](coords) - ref).max()),
                             float(np.abs(decode[mode](anchors) - ref_anchors).max()), parity, one, batch))
            browser.close()
    print(f"\n{m['title']} (run {a.run}); load average after: {os.getloadavg()}\n")
    print("| weights | decoder.onnx raw / gzip | max pixel diff vs float32: 256 coords incl. ±5σ / 30 anchors "
          "| file vs the torch decoder it stores (gate) | browser vs Python onnxruntime, same file "
          "| browser decode: 1 point / 9 × 9 batch |")
    print("| --- | --- | --- | --- | --- | --- |")
    for mode, raw, gz, gate, diff, diff_a, parity, one, batch in rows:
        print(f"| {mode} | {raw / 1e6:.3f} / {gz / 1e6:.3f} MB | {diff:.4f} ({diff * 255:.2f}/255) / {diff_a:.4f} "
              f"({diff_a * 255:.2f}/255) | {'not gated' if gate is None else f'{gate:.1e}'} | {parity:.1e} "
              f"| {one:.2f} / {batch:.1f} ms |")


if __name__ == "__main__":
    main()
