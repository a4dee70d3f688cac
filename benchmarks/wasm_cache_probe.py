"""Does the browser's code cache serve onnxruntime's wasm? A bare page that only creates a
bundle's decoder session and runs it once, three ways: onnxruntime on the page; in a module
worker that compiles its own wasm; in a module worker handed a WebAssembly.Module the page
compiled with compileStreaming, through the element's own code for it (core/runtime.js
compileOrtWasm on the page, core/ort-factory.js in the worker). Each: a fresh
browser context (cold), then three reloads; prints the medians over --contexts contexts.

    python benchmarks/wasm_cache_probe.py [--bundle models/fashion-mnist] [--contexts 3]
"""
import argparse
import statistics
from pathlib import Path

from harness import ROOT, launch, served
from playwright.sync_api import sync_playwright

SESSION = """
const ort = await import('./ort/ort.wasm.min.mjs');
ort.env.wasm.wasmPaths = {paths};
ort.env.wasm.numThreads = 1;
const m = await (await fetch('models/{name}/manifest.json')).json();
const s = await ort.InferenceSession.create(`models/{name}/${m.graphs.decoder.file}`);
await s.run({ coords: new ort.Tensor('float32', new Float32Array(m.latent.size), [1, m.latent.size]) });
"""
DIR = "new URL('./ort/', location.href).href"
HANDED = ("{ mjs: new URL('./core/ort-factory.js', location.href).href, "
          "wasm: new URL('./ort/ort-wasm-simd-threaded.wasm', location.href).href }")
HEAD = '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">\n<script type="module">\nwindow.t = {};\n'
WORKER_PAGE = HEAD + """const w = new Worker('{script}', { type: 'module' });
w.onmessage = (e) => { t.live = e.data - performance.timeOrigin; };
{post}
</script>"""
POST = "import { compileOrtWasm } from './core/runtime.js';\ncompileOrtWasm().then((m) => w.postMessage(m));"
DONE = "postMessage(performance.timeOrigin + performance.now());\n"


def pages(name):
    own = SESSION.replace("{paths}", DIR).replace("{name}", name)
    handed = SESSION.replace("{paths}", HANDED).replace("{name}", name)
    return {
        "page.html": HEAD + own + "t.live = performance.now();\n</script>",
        "worker.html": WORKER_PAGE.replace("{script}", "own.js").replace("{post}", ""),
        "own.js": own + DONE,
        "handed.html": WORKER_PAGE.replace("{script}", "handed.js").replace("{post}", POST),
        "handed.js": ("import { configureRuntime } from './core/runtime.js';\n"
                      "configureRuntime({ compiled: new Promise((ok) => { onmessage = (e) => ok(e.data); }) });\n"
                      + handed + DONE),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", default=str(ROOT / "models" / "fashion-mnist"))
    ap.add_argument("--contexts", type=int, default=3)
    a = ap.parse_args()
    name = Path(a.bundle).name
    rows = {"onnxruntime on the page": "page.html", "in a worker, compiling its own wasm": "worker.html",
            "in a worker, handed the page's compiled module": "handed.html"}
    times = {label: [] for label in rows}
    with sync_playwright() as p, served([a.bundle], pages=pages(name)) as base:
        browser = launch(p)
        for _ in range(a.contexts):
            for label, page_name in rows.items():
                ctx = browser.new_context()
                page = ctx.new_page()
                page.goto(base + page_name)
                run = [page.wait_for_function("window.t.live", timeout=60000).json_value()]
                for _ in range(3):
                    page.reload()
                    run.append(page.wait_for_function("window.t.live", timeout=60000).json_value())
                times[label].append(run)
                ctx.close()
    print(f"| bare session, {name} | cold | reload 1 | reload 2 | reload 3 |\n| --- | --- | --- | --- | --- |")
    for label, runs in times.items():
        print(f"| {label} | " + " | ".join(f"{statistics.median(col):.0f} ms" for col in zip(*runs)) + " |")


if __name__ == "__main__":
    main()
