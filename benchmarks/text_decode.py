"""Browser latency of decoding sentences with <latent-explorer>, per text bundle, in headless
Chromium: `el.decode` of one coordinate vector at a time, timed in the page.

- test lengths: the coordinates of --sentences test sentences (their encodings by the bundle's
  own encoder.onnx, in Python onnxruntime), each decoded --repeat times: the sentence lengths a
  person meets. Median and p95 over all calls.
- maximum length: the coordinate vector (among 4,096 validation coordinates incl. +-5 sigma)
  whose greedy decoding runs longest, ideally all max_len steps without </s>, --runs calls.

The "loop" layout stops at </s>; "unrolled" always runs max_len steps. The element runs with its
runtime's defaults (the decoding worker, the cores less two wasm threads), or as --threads and
--page-thread say (core/runtime.js configureRuntime).

    python benchmarks/text_decode.py models/wordnet-sentences build/bundles/wordnet-sentences-unrolled
"""
import argparse
import json
import statistics
from pathlib import Path

import numpy as np
from harness import launch, served
from playwright.sync_api import sync_playwright
from runtime import bench_page

from exporter.export.graphs import session
from exporter.export.text_checks import ort_greedy
from exporter.export.text_modules import encoder_rows
from exporter.models.text_vae import EOS
from exporter.space.points import validation_coords
from exporter.tokenizers.bpe import SentenceTokenizer

TIME = """async ([rows, repeat]) => {
  const x = document.querySelector('latent-explorer');
  await x.ready;
  for (let i = 0; i < 10; i++) await x.decode([rows[0]]);  // warm-up
  const times = [], lengths = [];
  for (const coords of rows) {
    for (let i = 0; i < repeat; i++) {
      const t0 = performance.now();
      const [result] = await x.decode([coords]);
      times.push(performance.now() - t0);
      lengths.push(result.ids.length);
    }
  }
  return { times, lengths };
}"""


def greedy_ids(bundle, m, coords):
    return ort_greedy(bundle, coords)


def longest_coords(bundle, m, n=4096):
    """Coordinates whose greedy decoding runs longest (max_len steps if any does not end)."""
    coords = validation_coords(m["pca"]["std"], n=n, seed=3)
    ids = greedy_ids(bundle, m, coords)
    length = np.where((ids == EOS).any(1), (ids == EOS).argmax(1) + 1, ids.shape[1])
    best = int(np.argmax(length))
    return coords[best].tolist(), int(length[best])


def test_coords(bundle, m, n):
    """The encodings of the first n WordNet test sentences (as the training code splits them)."""
    from exporter.data.sentences import prepare, read_wordnet
    from exporter.tokenizers.bpe import normalize
    from exporter.train.text import TextTrainConfig
    tok = SentenceTokenizer.from_json((bundle / m["text"]["tokenizer"]).read_text())
    texts = prepare(read_wordnet(), normalize, seed=TextTrainConfig().seed, source="wordnet").test[:n]
    rows = encoder_rows([tok.encode(t) for t in texts], m["text"]["max_len"])
    return session(bundle / "encoder.onnx").run(["coords"], rows)[0].tolist()


def summary(times):
    t = sorted(times)
    return f"median {statistics.median(t):.2f} ms, p95 {t[int(0.95 * (len(t) - 1))]:.2f} ms, n={len(t)}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundles", nargs="+")
    ap.add_argument("--runs", type=int, default=300, help="calls at maximum length")
    ap.add_argument("--sentences", type=int, default=200, help="test sentences")
    ap.add_argument("--repeat", type=int, default=3, help="calls per test sentence")
    ap.add_argument("--single-thread", action="store_true", help="serve without COOP/COEP: one wasm thread")
    ap.add_argument("--threads", type=int, help="wasm threads (with COOP/COEP; default: the runtime's)")
    ap.add_argument("--page-thread", action="store_true", help="decode on the page's thread, not in the worker")
    a = ap.parse_args()
    bundles = [Path(b) for b in a.bundles]
    config = {k: v for k, v in (("threads", a.threads), ("worker", None if a.page_thread else "default")) if v != "default"}
    settings = "" if not config else f"configureRuntime({json.dumps(config)});"
    names = [json.loads((b / "manifest.json").read_text())["name"] for b in bundles]
    pages = {f"bench-{name}.html": bench_page(name, settings) for name in names}
    with served(bundles, isolate=not a.single_thread, pages=pages) as base, sync_playwright() as p:
        browser = launch(p)
        for b in bundles:
            m = json.loads((b / "manifest.json").read_text())
            name, variant = m["name"], m["text"]["variant"]
            longest, steps = longest_coords(b, m)
            rows = test_coords(b, m, a.sentences)
            page = browser.new_page()
            page.goto(f"{base}bench-{name}.html")
            page.wait_for_function("!!customElements.get('latent-explorer')")
            own = page.evaluate(TIME, [rows, a.repeat])
            full = page.evaluate(TIME, [[longest], a.runs])
            where = "page's thread" if a.page_thread else "worker"
            threads = "1 wasm thread (no COOP/COEP)" if a.single_thread else f"{a.threads or 'default'} wasm thread(s)"
            print(f"{name} ({variant}, {where}, {threads}): "
                  f"test lengths (mean {np.mean(own['lengths']) + 1:.1f} steps incl. </s>): "
                  f"{summary(own['times'])}; maximum length ({steps} of {m['text']['max_len']} steps): "
                  f"{summary(full['times'])}")
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
